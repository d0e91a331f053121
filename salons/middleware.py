"""The staff admin in the salon's own time zone."""

from zoneinfo import ZoneInfo

from django.utils import timezone

from .models import Membership


class SalonTimeZoneMiddleware:
    """Show the admin in the salon's time zone: staff of salons sharing one zone see local times.

    Stored times stay UTC; this only changes how forms read and pages show them.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.is_staff:
            zones = set(Membership.objects.filter(user=user).values_list("salon__time_zone", flat=True)[:10])
            if len(zones) == 1:
                with timezone.override(ZoneInfo(zones.pop())):
                    return self.get_response(request)
        return self.get_response(request)
