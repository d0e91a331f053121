"""Request helpers shared by the public pages: who is asking, in which language to answer, and how.

Every page a client opens without logging in (consent form, booking, manage link, privacy notice)
takes its language from `public_page_language` and is rendered by `public_page`.
"""

from urllib.parse import urlencode

from django.conf import settings
from django.shortcuts import render
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


def public_page_language(request, fallback: str, *, known: str = "") -> str:
    """A public page's language: ?lang= if offered, else the client's `known` language (a personal link),
    else the browser's preferred one, else `fallback` (the salon's, or the site's when there is no salon).
    """
    chosen = request.GET.get("lang") or request.POST.get("lang") or ""
    if chosen in LANGUAGE_CODES:
        return chosen
    if known in LANGUAGE_CODES:
        return known
    if request.META.get("HTTP_ACCEPT_LANGUAGE"):
        return translation.get_language_from_request(request)
    return fallback


def query_without_lang(request) -> str:
    """The current query string without `lang`, ending with & when not empty (for the language links)."""
    pairs = [(key, value) for key, value in request.GET.items() if key != "lang"]
    return urlencode(pairs) + "&" if pairs else ""


def public_page(request, template, context, *, language: str, status: int = 200, cache: str = "no-store",
                embed_in: list[str] | None = None):
    """Render a public page in the client's language with the headers every public page needs.

    Personal pages are never kept in a shared cache (`cache`); the Referrer-Policy keeps a link's token
    from leaking to other sites while the form's POST still carries a real Origin. `embed_in` lists the
    origins that may show the page in a frame (the salon's own site for the booking page); without it
    the page keeps X-Frame-Options: DENY.
    """
    with translation.override(language):
        response = render(request, template, {
            "languages": settings.LANGUAGES, "language": language, "lang_query": query_without_lang(request),
            **context,
        }, status=status)
    response["Cache-Control"] = cache
    response["Referrer-Policy"] = "same-origin"
    response["Content-Language"] = language
    if embed_in is not None:
        response.xframe_options_exempt = True
        response["Content-Security-Policy"] = "; ".join([
            "default-src 'self'", "style-src 'self' 'unsafe-inline'", "img-src 'self' data:",
            "form-action 'self'", "base-uri 'none'", "object-src 'none'",
            "frame-ancestors " + " ".join(["'self'", *embed_in]),
        ])
    return response
