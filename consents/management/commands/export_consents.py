import os

from django.core.management.base import BaseCommand, CommandError

from clients.models import Client
from consents.export import proof_of_consent
from salons.models import Salon


class Command(BaseCommand):
    help = (
        "Export a salon's consent register (or one client's entries) as proof of consent for an auditor: "
        "every entry with its hashes and the wording shown. The register is verified first; a register that "
        "fails verification is still exported, and the command then exits non-zero."
    )

    def add_arguments(self, parser):
        parser.add_argument("--salon", type=int, required=True, help="The salon (id).")
        parser.add_argument("--client", type=int, help="Only this client's entries (id).")
        parser.add_argument("--format", choices=["csv", "json"], required=True, dest="fmt")
        parser.add_argument("--output", help="Write to this file instead of standard output.")

    def handle(self, *args, salon, client=None, fmt, output=None, **options):
        the_salon = Salon.objects.filter(pk=salon).first()
        if the_salon is None:
            raise CommandError(f"No salon with id {salon}.")
        the_client = None
        if client is not None:
            the_client = Client.objects.filter(pk=client).first()
            if the_client is None:
                raise CommandError(f"No client with id {client}.")
            if the_client.salon_id != the_salon.pk:
                raise CommandError(f"Client {client} does not belong to salon {salon} ({the_salon}).")

        proof = proof_of_consent(salon=the_salon, client=the_client, fmt=fmt)
        if output:
            partial = f"{output}.part"  # renamed once complete: a failed run leaves no truncated export behind
            try:
                with open(partial, "w", encoding="utf-8", newline="") as stream:
                    stream.writelines(proof.chunks)
                os.replace(partial, output)
            except OSError as error:
                raise CommandError(f"Cannot write {output}: {error.strerror}.") from None
        else:
            for chunk in proof.chunks:
                self.stdout.write(chunk, ending="")

        who = f"client {the_client.pk} of " if the_client else ""
        where = output or "standard output"
        self.stderr.write(f"exported {proof.entry_count} register entries of {who}salon {the_salon.pk} "
                          f"({the_salon}) as {fmt} to {where}")
        check = proof.check
        if not check.ok:
            raise CommandError(f"the register failed verification, the export shows it: {check.problem}")
        self.stderr.write(f"register verified: {check.entries} entries, head {check.head_hash}")
