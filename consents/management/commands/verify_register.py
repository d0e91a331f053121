from django.core.management.base import BaseCommand, CommandError

from consents.integrity import verify_register
from salons.models import Salon


class Command(BaseCommand):
    help = "Recompute each salon's consent register hash chain; exit non-zero naming the first bad entry."

    def add_arguments(self, parser):
        parser.add_argument("--salon", type=int, help="Only this salon (id).")

    def handle(self, *args, salon=None, **options):
        salons = Salon.objects.order_by("pk")
        if salon is not None:
            salons = salons.filter(pk=salon)
            if not salons.exists():
                raise CommandError(f"No salon with id {salon}.")
        failures = 0
        for each in salons:
            check = verify_register(each)
            if check.ok:
                self.stdout.write(f"salon {each.pk} ({each}): {check.entries} entries, chain intact, "
                                  f"head {check.head_hash}, tree root {check.tree_root}")
            else:
                failures += 1
                self.stderr.write(f"salon {each.pk} ({each}): TAMPERED — {check.problem}")
        if failures:
            raise CommandError(f"{failures} salon register(s) failed verification.")
        self.stdout.write(self.style.SUCCESS("register verified"))
