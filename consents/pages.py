"""What every page behind a consent link does first: resolve the link, limit posts, answer in the client's language.

The consent form and unsubscribe pages (outreach) and the data download and erasure pages (rights)
share these, so a bad, expired or over-used link gets the same clear page everywhere.
"""

from functools import wraps

from django.conf import settings
from django.http import HttpResponse, JsonResponse

from core.links import LinkInvalid, token_hash
from core.ratelimit import allow
from core.web import client_ip, public_page, public_page_language

from .models import ConsentLink

POSTS_PER_IP, POSTS_PER_TOKEN, WINDOW = 30, 10, 600


def link_page_language(request, link: ConsentLink | None = None) -> str:
    """?lang= if offered, else the client's own language, else the browser's (then the site's)."""
    return public_page_language(request, settings.LANGUAGE_CODE, known=link.client.language if link else "")


def link_page(request, template, context, *, status=200, link: ConsentLink | None = None, language=None):
    """A personal page: never in a shared cache, the token kept from other sites."""
    return public_page(request, template, context, status=status,
                       language=language or link_page_language(request, link))


def resolve_or_page(request, token: str) -> tuple[ConsentLink | None, HttpResponse | None]:
    """(the link, None), or (None, the page saying the link is unknown (404) or expired (410))."""
    try:
        return ConsentLink.resolve(token), None
    except LinkInvalid as error:
        return None, link_page(request, "consents/invalid_link.html", {"expired": error.status == 410},
                               status=error.status)


def post_allowed(request, token: str) -> bool:
    """False once this address or this link has posted too often in the window (then answer `too_many`)."""
    token_key = token_hash(token)[:32]
    return allow(f"consent-post-ip:{client_ip(request)}", limit=POSTS_PER_IP, window=WINDOW) and allow(
        f"consent-post-token:{token_key}", limit=POSTS_PER_TOKEN, window=WINDOW
    )


def too_many(request) -> HttpResponse:
    return link_page(request, "consents/too_many.html", {}, status=429)


def link_view(view):
    """A view behind a consent link: called as view(request, token, link=…, language=…) once the link resolves
    and a POST is within its limits; otherwise the page saying why."""

    @wraps(view)
    def wrapper(request, token: str):
        link, error_page = resolve_or_page(request, token)
        if error_page:
            return error_page
        if request.method == "POST" and not post_allowed(request, token):
            return too_many(request)
        return view(request, token, link=link, language=link_page_language(request, link))

    return wrapper


def download(data: dict, filename: str) -> HttpResponse:
    """A JSON file to save (receipt, the client's data), never cached."""
    response = JsonResponse(data, json_dumps_params={"indent": 2, "ensure_ascii": False})
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response
