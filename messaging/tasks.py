"""Celery tasks: thin wrappers that load ids and call the outbox services."""

from celery import shared_task

from . import services


@shared_task(bind=True, acks_late=True, max_retries=None, ignore_result=True)
def send_message_task(self, message_id: int):
    """Send one outbox message; transient provider errors come back later with backoff."""
    outcome = services.send_message(message_id)
    if outcome is not None and outcome.retry_in is not None:
        raise self.retry(countdown=outcome.retry_in)


@shared_task(bind=True, acks_late=True, ignore_result=True)
def send_batch_task(self, message_ids: list[int]):
    """Send a batch of outbox messages in one task; transient failures come back one by one."""
    for outcome in services.send_batch(message_ids):
        if outcome.retry_in is not None:
            send_message_task.apply_async((outcome.message.pk,), countdown=outcome.retry_in)


@shared_task(ignore_result=True)
def sweep_outbox_task():
    """Beat: re-enqueue lost pending messages and flag stale sends (see services.sweep_outbox)."""
    services.sweep_outbox()
