"""The send tasks and how messages reach them: queued after the row commits, run by `sending`.

The task names are the ones they had in messaging.tasks, so tasks already queued in Redis still run.
"""

from celery import shared_task
from django.db import transaction

from . import sending


@shared_task(bind=True, acks_late=True, max_retries=None, ignore_result=True, name="messaging.tasks.send_message_task")
def send_message_task(self, message_id: int):
    """Send one outbox message; transient provider errors come back later with backoff."""
    outcome = sending.send_message(message_id=message_id)
    if outcome is not None and outcome.retry_in is not None:
        raise self.retry(countdown=outcome.retry_in)


@shared_task(bind=True, acks_late=True, ignore_result=True, name="messaging.tasks.send_batch_task")
def send_batch_task(self, message_ids: list[int]):
    """Send a batch of outbox messages in one task; transient failures come back one by one."""
    for outcome in sending.send_batch(message_ids=message_ids):
        if outcome.retry_in is not None:
            send_message_task.apply_async((outcome.message.pk,), countdown=outcome.retry_in)


def dispatch_after_commit(message_ids: list[int], *, batch_size: int = 1) -> None:
    """Queue send tasks for these messages once the current transaction commits (in batches)."""
    for start in range(0, len(message_ids), batch_size):
        ids = message_ids[start:start + batch_size]
        if len(ids) == 1:
            transaction.on_commit(lambda message_id=ids[0]: send_message_task.delay(message_id))
        else:
            transaction.on_commit(lambda ids=ids: send_batch_task.delay(ids))
