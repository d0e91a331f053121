"""The staff desk in the salon's own time zone."""

from django.utils import timezone

from .selectors import shared_time_zone


class SalonTimeZoneMiddleware:
    """Show and read the desk's times in the salon's time zone ("10:00" typed in Rome is 09:00 UTC in winter).

    Staff whose salons share one zone get it for the whole request, rendering included; stored times stay UTC.
    This is the only place the desk's time zone is chosen.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.is_staff:
            zone = shared_time_zone(user)
            if zone is not None:
                with timezone.override(zone):
                    return self.get_response(request)
        return self.get_response(request)
