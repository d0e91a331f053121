import zoneinfo
from datetime import datetime, time

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from core.vocabulary import SENDABLE_CHANNELS
from rights.breach import NOTIFICATION_DEADLINE, breach_report, notify_affected
from salons.commands import salon_from_argument


def parse_moment(value: str, zone: zoneinfo.ZoneInfo, option: str) -> datetime:
    """An ISO date or date-time; without an offset it is read in the salon's time zone."""
    moment = parse_datetime(value.strip())
    if moment is None:
        day = parse_date(value.strip())
        if day is None:
            raise CommandError(f"{option} {value!r} is not a date or date-time, e.g. 2026-11-01 or 2026-11-01T08:30")
        moment = datetime.combine(day, time.min)
    return timezone.make_aware(moment, zone) if timezone.is_naive(moment) else moment


class Command(BaseCommand):
    help = (
        "Personal data breach (GDPR arts. 33-34): list the salon's clients whose data the window may have "
        "exposed, with the 72-hour deadline, and with --notify queue a breach notice to each of them on every "
        "channel the policy allows (running it again sends and charges nothing twice)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--salon", required=True, help="The salon's id or slug.")
        parser.add_argument("--since", required=True, help="Start of the breach window (salon time unless an "
                                                           "offset is given).")
        parser.add_argument("--until", help="End of the breach window (default: now).")
        parser.add_argument("--detected-at", help="When the salon became aware of the breach (default: now); "
                                                  "the 72-hour clock starts then.")
        parser.add_argument("--notify", action="store_true", help="Queue a breach notice to every listed client.")
        parser.add_argument("--message", default="", help="What happened, in the salon's words (needed with "
                                                          "--notify); it goes into every notice as written.")
        parser.add_argument("--contact", default="", help="How clients reach the salon about it, e.g. a phone "
                                                          "number or email address (needed with --notify).")

    def handle(self, *args, salon, since, until=None, detected_at=None, notify=False, message="", contact="",
               **options):
        found = salon_from_argument(salon)
        if notify and not (message.strip() and contact.strip()):
            raise CommandError("--notify needs --message (what happened) and --contact (how to reach the salon).")
        zone = zoneinfo.ZoneInfo(found.time_zone)
        now = timezone.now()
        start = parse_moment(since, zone, "--since")
        end = parse_moment(until, zone, "--until") if until else now
        detected = parse_moment(detected_at, zone, "--detected-at") if detected_at else now
        if end < start:
            raise CommandError("--until is before --since.")
        if start > now:
            raise CommandError("--since is in the future.")

        report = breach_report(salon=found, since=start, until=end, detected_at=detected)

        def local(moment):
            return timezone.localtime(moment, zone).strftime("%Y-%m-%d %H:%M %Z")

        hours = int(NOTIFICATION_DEADLINE.total_seconds() // 3600)
        self.stdout.write(f"Breach report for salon {found.pk} ({found}), times in {found.time_zone}")
        self.stdout.write(f"window: {local(report.since)} to {local(report.until)}")
        self.stdout.write(f"detected: {local(report.detected_at)}")
        self.stdout.write(f"deadline to notify the supervisory authority ({hours} hours after detection): "
                          f"{local(report.deadline)}")
        if report.deadline <= now:
            self.stdout.write(self.style.WARNING("the deadline has passed: notify now and document the delay"))
        self.stdout.write(f"clients possibly affected: {report.count}")
        for client in report.clients:
            channels = ", ".join(c for c in SENDABLE_CHANNELS if client.contact_for(c)) or "no contact data"
            self.stdout.write(f"  {client.pk}  {client}  ({channels})")
        if not notify:
            return
        result = notify_affected(report=report, what_happened=message, contact=contact)
        self.stdout.write(f"breach notices queued: {len(result.queued)}")
        self.stdout.write(f"already queued by an earlier run: {len(result.already_queued)}")
        if result.unreachable:
            ids = ", ".join(str(c.pk) for c in result.unreachable)
            self.stdout.write(self.style.WARNING(
                f"clients with no usable channel (no contact or suppressed): {len(result.unreachable)} ({ids}); "
                "tell them another way"
            ))
        self.stdout.write(self.style.SUCCESS("breach notices handed to the outbox"))
