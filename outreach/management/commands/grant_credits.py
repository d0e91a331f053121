from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from credits.services import account_for
from outreach.credits import top_up
from salons.commands import salon_from_argument


class Command(BaseCommand):
    help = "Top up a salon's credits (SALON is its id or slug) and write a ledger entry."

    def add_arguments(self, parser):
        parser.add_argument("salon", help="Salon id or slug.")
        parser.add_argument("amount", type=int, help="Credits to add (a positive whole number).")
        parser.add_argument("--note", default="", help="Why, e.g. an invoice number.")

    def handle(self, *args, salon, amount, note, **options):
        target = salon_from_argument(salon)
        try:
            top_up(salon=target, amount=amount, note=note or "grant_credits")
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        balance = account_for(target).balance
        self.stdout.write(self.style.SUCCESS(f"{target}: +{amount} credits, balance {balance}"))
