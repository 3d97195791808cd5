"""Telling people and programs what happened: the consumers of the outbox's events and the
jobs that deliver (webhooks; the inbox and e-mail join here)."""

from __future__ import annotations

from pyramid.config import Configurator


def includeme(config: Configurator) -> None:
    # Webhooks: a consumer making deliveries, the delivery job and the retry sweep.
    config.include("taskdesk.notify.webhooks")
