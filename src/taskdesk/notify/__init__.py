"""Telling people: the consumers of the outbox's events (inbox, e-mail, webhooks) and the
notification jobs, registered on the queue (``taskdesk.queue``) when the INI lists
``taskdesk.notify`` in ``taskdesk.includes``. Web processes need it too: they enqueue the
jobs the worker (``taskdesk INI worker``) runs, by the same names.

Each module registers its own consumers and jobs; one include line each.
"""

from __future__ import annotations

from pyramid.config import Configurator


def includeme(config: Configurator) -> None:
    # The inbox first: the other consumers run after it in the same transaction.
    config.include("taskdesk.notify.inbox")
    # Webhooks: a consumer making deliveries, the delivery job and the retry sweep.
    config.include("taskdesk.notify.webhooks")
    # E-mail: the every-minute batches and the daily digests of inbox notifications.
    config.include("taskdesk.notify.mail")
    # Due-date reminders: raise task.due_soon / task.due_today events for the inbox.
    config.include("taskdesk.notify.reminders")
