"""``pshell development.ini``: a shell with a transaction-bound session and the models."""

from __future__ import annotations

from typing import Any

import transaction

from taskdesk import models
from taskdesk.settings import settings_of


def setup(env: dict[str, Any]) -> None:
    request = env["request"]
    # An explicit transaction manager: nothing is written until you call tm.commit().
    request.tm = transaction.TransactionManager(explicit=True)
    request.tm.begin()
    env["tm"] = request.tm
    env["dbsession"] = request.dbsession
    env["models"] = models
    env["settings"] = settings_of(env["registry"])
