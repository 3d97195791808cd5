"""Delivering what happened to the people it concerns: e-mail, digests, due-date reminders.

Switched on with ``taskdesk.notify`` in ``taskdesk.includes``; each module registers its jobs.
"""

from __future__ import annotations

from pyramid.config import Configurator


def includeme(config: Configurator) -> None:
    config.include("taskdesk.notify.mail")
    config.include("taskdesk.notify.reminders")
