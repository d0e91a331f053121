"""Reads about tenancy: which salons a staff user may see."""

from zoneinfo import ZoneInfo

from django.db.models import QuerySet

from .models import Membership, Salon


def salons_for(user) -> QuerySet[Salon]:
    """The salons a user may see: all for a superuser, their memberships' otherwise."""
    if not user.is_authenticated or not user.is_active:
        return Salon.objects.none()
    if user.is_superuser:
        return Salon.objects.all()
    return Salon.objects.filter(memberships__user=user)


def shared_time_zone(user) -> ZoneInfo | None:
    """The time zone all the user's salons share, in which the desk reads and shows times; None for several."""
    zones = list(salons_for(user).order_by().values_list("time_zone", flat=True).distinct()[:2])
    return ZoneInfo(zones[0]) if len(zones) == 1 else None


def is_owner(user, salon) -> bool:
    """Whether the user owns the salon (superusers count as owners everywhere)."""
    if user.is_superuser:
        return True
    return Membership.objects.filter(user=user, salon=salon, role=Membership.Role.OWNER).exists()


def salon_by_id_or_slug(value: str) -> Salon | None:
    """The salon a command-line argument names (its id or its slug), or None."""
    value = value.strip()
    lookup = {"pk": int(value)} if value.isdigit() else {"slug": value}
    return Salon.objects.filter(**lookup).first()
