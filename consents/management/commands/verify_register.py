import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from consents.checkpoints import check_against_register
from consents.integrity import verify_register
from salons.models import Salon


class Command(BaseCommand):
    help = "Recompute each salon's consent register hash chain; exit non-zero naming the first bad entry."

    def add_arguments(self, parser):
        parser.add_argument("--salon", type=int, help="Only this salon (id).")
        parser.add_argument("--checkpoint", action="append", default=[], metavar="FILE",
                            help="A checkpoint given out earlier (JSON, from checkpoint_register); the register "
                                 "must still contain every entry it covered. Repeatable.")

    def handle(self, *args, salon=None, checkpoint=(), **options):
        failures = 0
        for path in checkpoint:
            try:
                document = json.loads(Path(path).read_text())
            except (OSError, ValueError) as error:
                raise CommandError(f"{path}: not a readable checkpoint ({error})") from None
            outcome = check_against_register(document)
            if outcome.ok:
                self.stdout.write(f"{path}: salon {document['salon']}, {document['size']} entries, "
                                  "still contained in the register")
            else:
                failures += 1
                self.stderr.write(f"{path}: CHECKPOINT NOT HELD — {outcome.problem}")
        if failures:
            raise CommandError(f"{failures} checkpoint(s) not held by the register.")
        salons = Salon.objects.order_by("pk")
        if salon is not None:
            salons = salons.filter(pk=salon)
            if not salons.exists():
                raise CommandError(f"No salon with id {salon}.")
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
