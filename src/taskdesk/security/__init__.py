"""Security: passwords, secrets, permissions, sign-in throttling and the security policy.

The package's own import is kept free of the ORM so ``taskdesk.settings`` can import the
permission names; ``includeme`` brings in the policy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyramid.config import Configurator


def includeme(config: Configurator) -> None:
    from taskdesk.security.policy import configure_security

    configure_security(config)
