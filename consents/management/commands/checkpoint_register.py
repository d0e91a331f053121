from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from consents.checkpoints import as_document, dumps, mail_to_owners, make_checkpoint
from salons.models import Salon


class Command(BaseCommand):
    help = ("Sign a checkpoint of each salon's register (its Merkle tree head) and keep it; with --output, also "
            "write each as JSON to give out (verify later with verify_register --checkpoint FILE).")

    def add_arguments(self, parser):
        parser.add_argument("--salon", type=int, help="Only this salon (id).")
        parser.add_argument("--output", metavar="DIR", help="Write checkpoint-<salon>-<size>.json files here.")
        parser.add_argument("--mail", action="store_true", help="Also email each checkpoint to its salon's owners.")

    def handle(self, *args, salon=None, output=None, mail=False, **options):
        salons = Salon.objects.order_by("pk")
        if salon is not None:
            salons = salons.filter(pk=salon)
            if not salons.exists():
                raise CommandError(f"No salon with id {salon}.")
        folder = Path(output) if output else None
        if folder is not None and not folder.is_dir():
            raise CommandError(f"{output} is not a folder.")
        for each in salons:
            checkpoint = make_checkpoint(salon=each)
            document = as_document(checkpoint)
            line = f"salon {each.pk} ({each}): {document['size']} entries, root {document['root']}"
            if folder is not None:
                path = folder / f"checkpoint-{each.pk}-{document['size']}.json"
                path.write_text(dumps(document) + "\n")
                line += f" -> {path}"
            if mail:
                line += f", emailed to {mail_to_owners(checkpoint)} owner(s)"
            self.stdout.write(line)
