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
