from django.core.management.base import BaseCommand

from messaging.services import sweep_outbox


class Command(BaseCommand):
    help = (
        "Re-enqueue pending messages whose task was lost, mark stale sends `unknown` for a person to "
        "check, and expire held messages that are no longer useful."
    )

    def add_arguments(self, parser):
        parser.add_argument("--pending-minutes", type=int, default=5, help="Pending for longer than this: re-enqueue.")
        parser.add_argument("--sending-minutes", type=int, default=15, help="Sending for longer than this: unknown.")

    def handle(self, *args, pending_minutes, sending_minutes, **options):
        from datetime import timedelta

        result = sweep_outbox(
            pending_after=timedelta(minutes=pending_minutes), sending_after=timedelta(minutes=sending_minutes)
        )
        self.stdout.write(
            f"re-enqueued {result.requeued} pending, marked {result.unknown} stale sends unknown, "
            f"expired {result.expired} held"
        )
