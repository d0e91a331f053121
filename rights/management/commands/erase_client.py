from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from clients.models import Client
from rights.erasure import erase_client, erasure_plan
from salons.commands import salon_from_argument
from salons.selectors import is_owner


class Command(BaseCommand):
    help = (
        "Erase a client's personal data (GDPR art. 17); SALON is the salon's id or slug, CLIENT the client's id. "
        "Names, contacts, notes, message texts and consent scans are removed; the consent register keeps its "
        "entries against the pseudonymous client id; the phone and email go to the suppression list as keyed "
        "hashes. IRREVERSIBLE: asks for confirmation unless --yes is given."
    )

    def add_arguments(self, parser):
        parser.add_argument("salon", help="Salon id or slug.")
        parser.add_argument("client", type=int, help="Client id.")
        parser.add_argument("--reason", required=True,
                            help="Why the data is erased (kept as proof: no names or contacts in it).")
        parser.add_argument("--by", required=True,
                            help="Username of the salon's owner answering the request (kept as proof).")
        parser.add_argument("--yes", action="store_true", help="Do not ask for confirmation.")

    def handle(self, *args, salon, client, reason, by, yes, **options):
        target = salon_from_argument(salon)
        found = Client.objects.filter(salon=target, pk=client).first()
        if found is None:
            raise CommandError(f"Salon {target.slug} has no client #{client}.")
        if found.is_erased:
            raise CommandError(f"Client #{client}'s data was already erased on {found.erased_at:%Y-%m-%d}.")
        user = get_user_model().objects.filter(username=by).first()
        if user is None:
            raise CommandError(f"No user {by!r}.")
        if not is_owner(user, target):
            raise CommandError(f"{by} is not an owner of {target.slug}: only an owner can erase a client's data.")

        for line in erasure_plan(found):
            self.stdout.write(line)
        if not yes and not self._confirmed(client):
            raise CommandError("Not confirmed: nothing was erased.")
        try:
            result = erase_client(client=found, by=user, reason=reason)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        blanked = ", ".join(f"{label}: {n}" for label, n in sorted(result.rows_blanked.items()) if n)
        self.stdout.write(self.style.SUCCESS(
            f"Client #{client} erased ({blanked}); {result.contacts_suppressed} contact(s) on the suppression "
            f"list, {len(result.files_deleted)} scan file(s) deleted, {result.links_revoked} link(s) revoked."
        ))

    def _confirmed(self, client_id: int) -> bool:
        try:
            answer = input(f"Erase client #{client_id}? This cannot be undone. Type 'erase' to confirm: ")
        except EOFError:
            return False
        return answer.strip().lower() == "erase"
