from django.core.management.base import BaseCommand

from rights.retention import DEAD_LINK_DAYS, purge


class Command(BaseCommand):
    help = (
        f"Retention: delete consent links expired or revoked over {DEAD_LINK_DAYS} days ago, blank the texts of "
        "messages older than each salon's retention (the outcome rows stay), and list dormant clients to "
        "propose for erasure (nothing is erased)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Count what would change; change nothing.")

    def handle(self, *args, dry_run=False, **options):
        report = purge(dry_run=dry_run)
        for done in report.salons:
            ids = ", ".join(map(str, done.erasure_proposals))
            self.stdout.write(
                f"salon {done.salon.pk} ({done.salon}): links deleted: {done.links_deleted}, "
                f"message texts blanked: {done.messages_blanked}, "
                f"clients proposed for erasure: {len(done.erasure_proposals)}" + (f" ({ids})" if ids else "")
            )
        if dry_run:
            self.stdout.write("(dry run: nothing changed)")
        else:
            self.stdout.write(self.style.SUCCESS("retention applied"))
