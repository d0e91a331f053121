"""Celery task: one campaign batch, then the next, until the audience is exhausted or the campaign paused."""

from celery import shared_task

from . import services


@shared_task(bind=True, acks_late=True, ignore_result=True)
def run_campaign_batch(self, campaign_id: int):
    """Queue one batch of a running campaign and schedule the next one."""
    if self.request.is_eager:
        # In-process (embedded mode): loop rather than recurse through apply() once per batch.
        while services.run_batch(campaign_id=campaign_id):
            pass
        return
    if services.run_batch(campaign_id=campaign_id):
        run_campaign_batch.delay(campaign_id)
