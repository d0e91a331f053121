"""Request helpers shared by the public pages: who is asking, and in which language to answer."""

from django.conf import settings
from django.utils import translation

from .vocabulary import LANGUAGE_CODES


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


def public_page_language(request, fallback: str) -> str:
    """A public page's language: ?lang= if offered, else the browser's preferred one, else `fallback`.

    `fallback` is the salon's language (or the site's when there is no salon).
    """
    chosen = request.GET.get("lang") or request.POST.get("lang") or ""
    if chosen in LANGUAGE_CODES:
        return chosen
    if request.META.get("HTTP_ACCEPT_LANGUAGE"):
        return translation.get_language_from_request(request)
    return fallback
