"""Celery beat tasks of the outbox (sweep, purge); the send tasks live in `queue`."""

from celery import shared_task

from . import services
from .queue import send_batch_task, send_message_task  # noqa: F401  (autodiscovery imports only tasks.py)
from .retention import purge


@shared_task(ignore_result=True)
def sweep_outbox_task():
    """Beat: re-enqueue lost pending messages and flag stale sends (see services.sweep_outbox)."""
    services.sweep_outbox()


@shared_task(ignore_result=True)
def purge_task():
    """Beat, daily: retention (old links deleted, old message texts blanked, erasure proposals listed)."""
    purge()
