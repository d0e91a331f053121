from django.db import connection
from django.http import HttpResponse


class HealthCheckMiddleware:
    """Answer GET /healthz before host checks and HTTPS redirects, for probes inside the network.

    Checks that the database answers; anything else gets the normal middleware stack.
    """

    path = "/healthz"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path == self.path and request.method == "GET":
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
            response = HttpResponse("ok", content_type="text/plain")
            response["Cache-Control"] = "no-store"
            return response
        return self.get_response(request)


class SalonTimeZoneMiddleware:
    """Show the admin in the salon's time zone: staff of salons sharing one zone see local times.

    Stored times stay UTC; this only changes how forms read and pages show them.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from django.utils import timezone

        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.is_staff:
            from zoneinfo import ZoneInfo

            from salons.models import Membership

            zones = set(Membership.objects.filter(user=user).values_list("salon__time_zone", flat=True)[:10])
            if len(zones) == 1:
                with timezone.override(ZoneInfo(zones.pop())):
                    return self.get_response(request)
        return self.get_response(request)
