from django.core.management.base import BaseCommand

from clients.services import mark_dormant


class Command(BaseCommand):
    help = "Mark clients dormant after the salon's months without a visit (and active again after a visit)."

    def handle(self, *args, **options):
        changed = mark_dormant()
        dormant = sum(d for d, _b in changed.values())
        back = sum(b for _d, b in changed.values())
        self.stdout.write(f"{dormant} clients became dormant, {back} became clients again ({len(changed)} salons)")
