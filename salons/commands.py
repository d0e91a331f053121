"""What the ops commands share: the salon an argument names, or a clear error."""

from django.core.management.base import CommandError

from .models import Salon
from .selectors import salon_by_id_or_slug


def salon_from_argument(value: str) -> Salon:
    """The salon a command-line argument names (its id or its slug); CommandError saying so otherwise."""
    salon = salon_by_id_or_slug(value)
    if salon is None:
        raise CommandError(f"No salon {value!r} (give its id or slug).")
    return salon
