from django.core.management.base import BaseCommand

from desk.demo import DEMO_LOGINS, seed_demo


class Command(BaseCommand):
    help = "Create the demo salon with logins, ~50 clients in varied consent states, an agenda and credits."

    def handle(self, *args, **options):
        result = seed_demo()
        verb = "created" if result.created else "already there"
        self.stdout.write(
            f"Demo salon “{result.salon}” ({verb}): {result.clients} clients, "
            f"{result.appointments} appointments, {result.balance} credits."
        )
        for role, (username, password) in DEMO_LOGINS.items():
            self.stdout.write(f"  {role:<6} login: {username} / {password}")
        self.stdout.write("  admin: http://127.0.0.1:8000/admin/")
