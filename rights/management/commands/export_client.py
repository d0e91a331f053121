import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from clients.models import Client
from rights.export import SCHEMA, export_client_csv, export_client_data
from salons.commands import salon_from_argument


class Command(BaseCommand):
    help = (
        f"Export a client's data (GDPR access and portability) as JSON (schema {SCHEMA}) or CSV "
        "(section,item,field,value); SALON is the salon's id or slug, CLIENT the client's id. "
        "The keys are documented in clients/export.py. Writes to standard output unless --output is given."
    )

    def add_arguments(self, parser):
        parser.add_argument("salon", help="Salon id or slug.")
        parser.add_argument("client", type=int, help="Client id.")
        parser.add_argument("--format", choices=["json", "csv"], default="json")
        parser.add_argument("--output", default="", help="File to write (it is overwritten).")

    def handle(self, *args, salon, client, format, output, **options):
        target = salon_from_argument(salon)
        found = Client.objects.filter(salon=target, pk=client).select_related("salon").first()
        if found is None:
            raise CommandError(f"Salon {target.slug} has no client #{client}.")

        if format == "csv":
            text = export_client_csv(found)
        else:
            text = json.dumps(export_client_data(found), indent=2, ensure_ascii=False) + "\n"
        if not output:
            self.stdout.write(text, ending="")
            return
        try:
            Path(output).write_text(text, encoding="utf-8", newline="")
        except OSError as error:
            raise CommandError(f"Cannot write {output}: {error.strerror or error}.") from None
        self.stderr.write(f"Client #{client} exported to {output} ({format}).")
