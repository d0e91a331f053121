from django.core.management.base import BaseCommand

from outreach.appointments import send_reminders


class Command(BaseCommand):
    help = "Queue the appointment reminders that are due (salon's hours before, moved out of quiet hours)."

    def handle(self, *args, **options):
        run = send_reminders()
        self.stdout.write(f"{run.due} appointments due a reminder, {run.queued} reminders queued")
