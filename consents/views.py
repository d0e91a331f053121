"""The client's pages: the consent form behind a personal link, downloads, erasure request, unsubscribe.

Views stay thin: the link is resolved, the form validated, and a flow in consents.flows does the rest.
"""

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import translation
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from clients.export import export_client_data
from clients.services import request_erasure
from core.ratelimit import allow
from core.vocabulary import LANGUAGE_CODES, Purpose
from core.web import client_ip, public_page_language
from salons.models import Salon

from . import flows
from .forms import ConsentChoicesForm
from .links import LinkInvalid, resolve, token_hash
from .models import ConsentEvent
from .receipts import kantara_receipt
from .selectors import current_wordings
from .services import Evidence

POSTS_PER_IP, POSTS_PER_TOKEN, WINDOW = 30, 10, 600


def _language(request, client) -> str:
    chosen = request.GET.get("lang") or request.POST.get("lang") or ""
    return chosen if chosen in LANGUAGE_CODES else client.language


def _page(request, template, context, *, status=200, language=None):
    with translation.override(language or translation.get_language()):
        response = render(request, template, {"languages": settings.LANGUAGES, **context}, status=status)
    response["Cache-Control"] = "no-store"  # personal pages: never in a shared cache
    # The token must not leak to other sites; same-origin still lets the browser send a real Origin
    # header with the form's POST (no-referrer makes it "null", and CSRF protection rightly refuses it).
    response["Referrer-Policy"] = "same-origin"
    return response


def _invalid(request, error: LinkInvalid):
    return _page(request, "consents/invalid_link.html", {"expired": error.status == 410}, status=error.status)


def _post_allowed(request, token: str) -> bool:
    ip = client_ip(request)
    token_key = token_hash(token)[:32]
    return allow(f"consent-post-ip:{ip}", limit=POSTS_PER_IP, window=WINDOW) and allow(
        f"consent-post-token:{token_key}", limit=POSTS_PER_TOKEN, window=WINDOW
    )


def _too_many(request):
    return _page(request, "consents/too_many.html", {}, status=429)


def _resolve_or_page(request, token):
    try:
        return resolve(token), None
    except LinkInvalid as error:
        return None, _invalid(request, error)


@require_http_methods(["GET", "POST"])
def consent_form(request, token: str):
    link, error_page = _resolve_or_page(request, token)
    if error_page:
        return error_page
    if request.method == "POST" and not _post_allowed(request, token):
        return _too_many(request)
    client, salon = link.client, link.client.salon
    language = _language(request, client)
    with translation.override(language):
        wordings = current_wordings(salon=salon, language=language)
        current = {(s.purpose, s.channel): s.granted for s in client.consent_states.all()}
        form = ConsentChoicesForm(request.POST or None, salon=salon, wordings=wordings, current=current)
        if request.method == "POST" and form.is_valid():
            withdraw_all = "withdraw_all" in request.POST
            flows.submit_choices(link=link, changes=form.changes(withdraw_all=withdraw_all),
                                 evidence=Evidence.from_request(request))
            return redirect(f"{request.path}?saved={'withdrawn' if withdraw_all else '1'}&lang={language}")
        granted = {key for key, value in current.items() if value}
        marketing_waits = not ({("data_processing", "")} & granted) and any(
            p in ("marketing", "personalised") for p, _c in granted
        )
        return _page(request, "consents/form.html", {
            "salon": salon, "client": client, "form": form, "token": token, "language": language,
            "saved": request.GET.get("saved", ""), "marketing_waits": marketing_waits,
            "has_choices": bool(current), "has_grants": bool(granted),
            "is_preferences": link.kind == link.Kind.PREFERENCES,
        }, status=400 if form.errors else 200, language=language)


def receipt_json(request, token: str):
    """The client's current choices as a Kantara Consent Receipt (v1.1 fields)."""
    link, error_page = _resolve_or_page(request, token)
    if error_page:
        return error_page
    events = list(ConsentEvent.objects.filter(client=link.client, pk__in=link.client.consent_states.values("event"))
                  .select_related("wording", "salon").order_by("seq"))
    receipt = kantara_receipt(client=link.client, events=events, public_base_url=settings.PUBLIC_BASE_URL)
    return _download(receipt, "consent-receipt.json")


def data_json(request, token: str):
    """Everything the salon holds about the client, as JSON (GDPR access and portability)."""
    link, error_page = _resolve_or_page(request, token)
    if error_page:
        return error_page
    return _download(export_client_data(link.client), "my-data.json")


def _download(data: dict, filename: str) -> HttpResponse:
    response = JsonResponse(data, json_dumps_params={"indent": 2, "ensure_ascii": False})
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


@require_http_methods(["GET", "POST"])
def erasure(request, token: str):
    link, error_page = _resolve_or_page(request, token)
    if error_page:
        return error_page
    language = _language(request, link.client)
    if request.method == "POST":
        if not _post_allowed(request, token):
            return _too_many(request)
        erasure_request = request_erasure(client=link.client)
        return _page(request, "consents/erasure_requested.html",
                     {"salon": link.client.salon, "request": erasure_request, "token": token, "language": language},
                     language=language)
    return _page(request, "consents/erasure_confirm.html",
                 {"salon": link.client.salon, "token": token, "language": language}, language=language)


@csrf_exempt  # RFC 8058: mail clients POST "List-Unsubscribe=One-Click" with no token or cookie
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token: str):
    link, error_page = _resolve_or_page(request, token)
    if error_page:
        return error_page
    language = _language(request, link.client)
    context = {"salon": link.client.salon, "token": token, "language": language}
    if request.method == "POST":
        if not _post_allowed(request, token):
            return _too_many(request)
        flows.unsubscribe_marketing_email(link=link, evidence=Evidence.from_request(request, note="one-click"))
        return _page(request, "consents/unsubscribed.html", context, language=language)
    return _page(request, "consents/unsubscribe_confirm.html", context, language=language)




def csrf_failure(request, reason=""):
    """A page a client understands when the form's security check fails (an old tab, cookies off)."""
    return _page(request, "consents/csrf_failure.html", {}, status=403)


@require_http_methods(["GET", "HEAD"])
def privacy_notice(request, slug: str):
    """The salon's public privacy notice (GDPR art. 13): who is responsible, what and why, how long, rights.

    Public and the same for everyone: no link, no cookie, nothing about any client.
    """
    salon = get_object_or_404(Salon, slug=slug)
    language = public_page_language(request, salon.language)
    with translation.override(language):
        wordings = current_wordings(salon=salon, language=language)
        response = render(request, "consents/privacy_notice.html", {
            "salon": salon, "language": language, "languages": settings.LANGUAGES,
            "wordings": [wordings[purpose] for purpose in Purpose.values if purpose in wordings],
        })
    response["Content-Language"] = language
    response["Cache-Control"] = "public, max-age=300"
    response["Vary"] = "Accept-Language"
    return response
