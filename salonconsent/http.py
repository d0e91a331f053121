"""Request helpers shared by views."""

from django.conf import settings


def client_ip(request) -> str:
    """The client's IP: REMOTE_ADDR, or behind our one trusted proxy the address it saw.

    Only the right-most X-Forwarded-For entry is the proxy's own observation; anything to its
    left was written by the client and is not trusted.
    """
    if settings.BEHIND_PROXY:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if forwarded:
            return forwarded[-1]
    return request.META.get("REMOTE_ADDR", "")
