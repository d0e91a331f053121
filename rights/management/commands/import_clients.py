from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from rights.importing import import_clients
from salons.commands import salon_from_argument


class Command(BaseCommand):
    help = (
        "Import clients from a CSV file into a salon's address book (SALON is its id or slug). "
        "Columns (header row required, ';' or ',' separated, UTF-8): first_name, last_name, phone, email, "
        "language, last_visit, and optionally consent_data_processing, consent_service_sms, "
        "consent_service_email, consent_marketing_sms, consent_marketing_email, consent_personalised "
        "(yes/no/blank), consent_source and consent_date. Existing clients are matched by phone or email "
        "and only their empty fields are filled. Bad rows are listed with their line number and skipped; "
        "the good rows are imported. Exit status: 0 when the file was read, even if some rows were bad; "
        "1 when nothing could be imported (unknown salon, unreadable or non-UTF-8 file, a required column "
        "missing)."
    )

    def add_arguments(self, parser):
        parser.add_argument("salon", help="Salon id or slug.")
        parser.add_argument("file", help="The CSV file.")
        parser.add_argument("--dry-run", action="store_true", help="Check the file and report; write nothing.")

    def handle(self, *args, salon, file, dry_run, **options):
        target = salon_from_argument(salon)
        try:
            data = Path(file).read_bytes()
        except OSError as error:
            raise CommandError(f"Cannot read {file}: {error.strerror or error}.") from None

        report = import_clients(salon=target, data=data, dry_run=dry_run)
        if report.file_error:
            raise CommandError(f"{file}: {report.file_error}. Nothing was imported.")
        style = self.style.WARNING if report.problems else self.style.SUCCESS
        for line in report.lines():
            self.stdout.write(style(line) if line == report.summary else line)
