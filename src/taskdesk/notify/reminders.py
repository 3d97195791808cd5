"""Due-date reminders: an hourly job raising ``task.due_soon`` the day before a task is due
and ``task.due_today`` on the day, in the assignee's time zone (see
:mod:`taskdesk.domain.reminders`). The event consumer turns them into ``due`` notifications
for the assignee, which reach them by the channel they chose (inbox, e-mail, digest).
"""

from __future__ import annotations

import logging
from datetime import datetime

from pyramid.config import Configurator

from taskdesk.domain.reminders import raise_due_reminders
from taskdesk.models.meta import utcnow
from taskdesk.queue import JobContext

log = logging.getLogger(__name__)


def remind_due_tasks(context: JobContext, now: datetime | None = None) -> int:
    """The ``reminders.due`` job; returns how many reminders were new."""
    now = now or utcnow()
    with context.transaction() as dbsession:
        added = raise_due_reminders(dbsession, context.settings.workflow,
                                    context.settings.time_zone, now)
    if added:
        log.info("raised %d due-date reminders", added)
    return added


def includeme(config: Configurator) -> None:
    # Hourly: a zone's new day begins on the hour (or the half or quarter hour, which the
    # next run catches within the hour).
    config.add_periodic_job("reminders.due", remind_due_tasks, minute="5")
