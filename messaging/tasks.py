"""Celery beat task of the outbox (the sweeper); the send tasks live in `queue`."""

from celery import shared_task

from . import services
from .queue import send_batch_task, send_message_task  # noqa: F401  (autodiscovery imports only tasks.py)


@shared_task(ignore_result=True)
def sweep_outbox_task():
    """Beat: re-enqueue lost pending messages and flag stale sends (see services.sweep_outbox)."""
    services.sweep_outbox()
