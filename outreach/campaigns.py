"""Campaign state changes: create, start, pause, resume, and send the next batch through the outbox.

States move draft → running ⇄ paused → done, each by one conditional UPDATE, so two clicks or two
workers never both win. A batch locks the campaign row, so two batch tasks never take the same
clients; the (campaign, client) constraint and the outbox's dedupe key make it certain.
"""

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from campaigns.models import Campaign, CampaignRecipient
from messaging.models import Message
from messaging.services import enqueue_message
from outreach import audience
from outreach.consent_requests import send_consent_request
from salons.models import Salon

BATCH_SIZE = 200


def create_campaign(*, salon: Salon, name: str, kind: str, channel: str, segments: list[str],
                    texts: dict | None = None, subjects: dict | None = None, legal_basis: str = "",
                    by=None) -> Campaign:
    """A new draft campaign, validated."""
    campaign = Campaign(salon=salon, name=name, kind=kind, channel=channel, segments=list(segments),
                        texts=texts or {}, subjects=subjects or {}, repermission_legal_basis=legal_basis,
                        created_by=by)
    campaign.full_clean()
    campaign.save()
    return campaign


def run_batch(*, campaign_id: int, size: int = BATCH_SIZE) -> bool:
    """Queue the next batch of a running campaign; True when more clients may remain.

    Each client gets one outbox message (dedupe key `campaign:<id>:<client>`); the outbox decides
    again at enqueue and at send time, so a client who withdrew since the preview is blocked, not sent.
    """
    with transaction.atomic():
        campaign = (Campaign.objects.select_for_update(of=("self",)).select_related("salon")
                    .filter(pk=campaign_id).first())
        if campaign is None or campaign.status != Campaign.Status.RUNNING:
            return False
        clients = list(audience.audience(campaign).select_related("salon").order_by("pk")[:size])
        recipients, queued, skipped = [], 0, 0
        for client in clients:
            message = _send(campaign, client)
            recipients.append(CampaignRecipient(campaign=campaign, client=client, message=message))
            if message.status == Message.Status.BLOCKED:
                skipped += 1  # the policy refused it since the audience was read: stored with its reason
            else:
                queued += 1
        CampaignRecipient.objects.bulk_create(recipients, ignore_conflicts=True)
        more = len(clients) == size
        now = timezone.now()
        updates = {"queued": F("queued") + queued, "skipped": F("skipped") + skipped, "updated_at": now}
        if not more:
            updates.update(status=Campaign.Status.DONE, finished_at=now)
        Campaign.objects.filter(pk=campaign.pk).update(**updates)
    return more


def _send(campaign: Campaign, client) -> Message:
    dedupe_key = f"campaign:{campaign.pk}:{client.pk}"
    if campaign.kind == Campaign.Kind.REPERMISSION:
        return send_consent_request(
            client=client, channel=campaign.channel, by=campaign.created_by, repermission_outreach=True,
            dedupe_key=dedupe_key,
        )
    subject, text = campaign.text_for(client.language)
    return enqueue_message(client=client, kind=campaign.message_kind, channel=campaign.channel,
                           dedupe_key=dedupe_key, context={"text": text, "subject": subject})


def run_until_done(*, campaign: Campaign, size: int = BATCH_SIZE) -> None:
    """Run a started campaign's batches here, one transaction each (management commands, eager mode)."""
    while run_batch(campaign_id=campaign.pk, size=size):
        pass
    campaign.refresh_from_db()
