"""Re-permission run from the command line: ask prospects or dormant clients who never opted out (seed 003)."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from campaigns.models import Campaign
from clients.models import Client
from core.vocabulary import SENDABLE_CHANNELS
from outreach import audience, campaign_runs, campaigns
from salons.models import Salon


class Command(BaseCommand):
    help = "Send a privacy authorisation request to a salon's prospects or dormant clients who did not opt out."

    def add_arguments(self, parser):
        parser.add_argument("--salon", type=int, required=True, help="salon id")
        parser.add_argument("--segment", required=True, choices=[Client.Lifecycle.PROSPECT, Client.Lifecycle.DORMANT])
        parser.add_argument("--channel", required=True, choices=[c.value for c in SENDABLE_CHANNELS])
        parser.add_argument("--dry-run", action="store_true", help="print the eligible count, skips and cost only")
        parser.add_argument("--legal-basis", default="", help="the legal basis the salon relies on (recorded)")
        parser.add_argument("--batch-size", type=int, default=campaigns.BATCH_SIZE)

    def handle(self, *args, salon, segment, channel, dry_run, legal_basis, batch_size, **options):
        salon_obj = Salon.objects.filter(pk=salon).first()
        if salon_obj is None:
            raise CommandError(f"No salon with id {salon}.")
        name = f"Re-permission {segment} by {channel} {timezone.localdate():%Y-%m-%d}"
        campaign = Campaign(salon=salon_obj, name=name, kind=Campaign.Kind.REPERMISSION, channel=channel,
                            segments=[segment], repermission_legal_basis=legal_basis)
        self._print_preview(audience.preview(campaign))
        if dry_run:
            self.stdout.write("Dry run: nothing was sent.")
            return
        try:
            campaign = campaigns.create_campaign(
                salon=salon_obj, name=name, kind=Campaign.Kind.REPERMISSION, channel=channel, segments=[segment],
                legal_basis=legal_basis,
            )
        except ValidationError as error:
            raise CommandError("; ".join(m for messages in error.message_dict.values() for m in messages)) from error
        campaign_runs.start(campaign=campaign, schedule=False)
        campaigns.run_until_done(campaign=campaign, size=batch_size)
        self.stdout.write(self.style.SUCCESS(
            f"Campaign {campaign.pk} {campaign.get_status_display().lower()}: {campaign.queued} requests queued, "
            f"{campaign.skipped} skipped."
        ))

    def _print_preview(self, preview):
        self.stdout.write(f"Eligible: {preview.eligible}")
        self.stdout.write(f"Skipped: {preview.skipped_total}")
        for reason, count in preview.skipped_reasons:
            self.stdout.write(f"  {count:>6}  {reason}")
        self.stdout.write(f"Cost: {preview.cost} credits (balance {preview.balance})")
        if preview.short_of_credit:
            self.stdout.write(self.style.WARNING(
                f"The balance is {preview.short_of_credit} credits short: the rest will be held until a top-up."
            ))
