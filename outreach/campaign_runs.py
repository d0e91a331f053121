"""A campaign's run: start, pause and resume, and the worker task that queues it batch by batch.

The task is defined here, beside the functions that schedule it, so that nothing imports back up:
`campaign_runs` → `campaigns` (the batches) → the outbox.
"""

from celery import shared_task
from django.db import transaction
from django.utils import timezone

from campaigns.models import Campaign
from outreach import audience
from outreach.campaigns import run_batch


def start(*, campaign: Campaign, schedule: bool = True) -> bool:
    """Draft → running: count the audience (progress is measured against it) and schedule the first batch."""
    now = timezone.now()
    with transaction.atomic():
        eligible = audience.audience(campaign, now=now).count()
        skipped = audience.segment(campaign).count() - eligible
        source, target = Campaign.STEPS["start"]
        changed = Campaign.objects.filter(pk=campaign.pk, status=source).update(
            status=target, started_at=now, eligible=eligible, skipped=skipped, updated_at=now,
        )
        if changed and schedule:
            _schedule(campaign.pk)
    campaign.refresh_from_db()
    return bool(changed)


def pause(*, campaign: Campaign) -> bool:
    """Running → paused: no further batch is taken (the one in flight completes)."""
    source, target = Campaign.STEPS["pause"]
    changed = Campaign.objects.filter(pk=campaign.pk, status=source).update(
        status=target, updated_at=timezone.now()
    )
    campaign.refresh_from_db()
    return bool(changed)


def resume(*, campaign: Campaign, schedule: bool = True) -> bool:
    """Paused → running, continuing with the clients not yet taken."""
    with transaction.atomic():
        source, target = Campaign.STEPS["resume"]
        changed = Campaign.objects.filter(pk=campaign.pk, status=source).update(
            status=target, updated_at=timezone.now()
        )
        if changed and schedule:
            _schedule(campaign.pk)
    campaign.refresh_from_db()
    return bool(changed)


def _schedule(campaign_id: int) -> None:
    transaction.on_commit(lambda: run_campaign_batch.delay(campaign_id))


@shared_task(bind=True, acks_late=True, ignore_result=True, name="outreach.tasks.run_campaign_batch")
def run_campaign_batch(self, campaign_id: int):
    """Queue one batch of a running campaign and schedule the next one."""
    if self.request.is_eager:
        # In-process (embedded mode): loop rather than recurse through apply() once per batch.
        while run_batch(campaign_id=campaign_id):
            pass
        return
    if run_batch(campaign_id=campaign_id):
        run_campaign_batch.delay(campaign_id)
