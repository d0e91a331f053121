"""The client's pages that outreach leads to: the consent form behind a personal link, the receipt, unsubscribe.

Views stay thin: the link is resolved, the form validated, and `outreach.consent_requests` does the rest.
"""

from django.conf import settings
from django.shortcuts import redirect
from django.utils import translation
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from consents.checkpoints import with_proof
from consents.forms import ConsentChoicesForm
from consents.models import ConsentEvent
from consents.pages import download, link_page, link_view
from consents.receipts import kantara_receipt
from consents.selectors import current_wordings
from consents.services import Evidence
from outreach import consent_requests


@require_http_methods(["GET", "POST"])
@link_view
def consent_form(request, token: str, *, link, language):
    client, salon = link.client, link.client.salon
    with translation.override(language):
        wordings = current_wordings(salon=salon, language=language)
        current = {(s.purpose, s.channel): s.granted for s in client.consent_states.all()}
        form = ConsentChoicesForm(request.POST or None, salon=salon, wordings=wordings, current=current)
        if request.method == "POST" and form.is_valid():
            withdraw_all = "withdraw_all" in request.POST
            consent_requests.submit_choices(link=link, changes=form.changes(withdraw_all=withdraw_all),
                                            evidence=Evidence.from_request(request))
            return redirect(f"{request.path}?saved={'withdrawn' if withdraw_all else '1'}&lang={language}")
        granted = {key for key, value in current.items() if value}
        marketing_waits = not ({("data_processing", "")} & granted) and any(
            p in ("marketing", "personalised") for p, _c in granted
        )
        return link_page(request, "consents/form.html", {
            "salon": salon, "client": client, "form": form, "token": token, "language": language,
            "saved": request.GET.get("saved", ""), "marketing_waits": marketing_waits,
            "has_choices": bool(current), "has_grants": bool(granted),
            "is_preferences": link.kind == link.Kind.PREFERENCES,
        }, status=400 if form.errors else 200, language=language)


@require_http_methods(["GET", "HEAD"])
@link_view
def receipt_json(request, token: str, *, link, language):
    """The client's current choices as a Kantara Consent Receipt (v1.1 fields)."""
    events = list(ConsentEvent.objects.filter(client=link.client, pk__in=link.client.consent_states.values("event"))
                  .select_related("wording", "salon").order_by("seq"))
    receipt = kantara_receipt(client=link.client, events=events, public_base_url=settings.PUBLIC_BASE_URL)
    return download(with_proof(receipt, salon=link.client.salon, events=events), "consent-receipt.json")


@csrf_exempt  # RFC 8058: mail clients POST "List-Unsubscribe=One-Click" with no token or cookie
@require_http_methods(["GET", "POST"])
@link_view
def unsubscribe(request, token: str, *, link, language):
    context = {"salon": link.client.salon, "token": token, "language": language}
    if request.method == "POST":
        evidence = Evidence.from_request(request, note="one-click")
        consent_requests.unsubscribe_marketing_email(link=link, evidence=evidence)
        return link_page(request, "consents/unsubscribed.html", context, language=language)
    return link_page(request, "consents/unsubscribe_confirm.html", context, language=language)


def csrf_failure(request, reason=""):
    """A page a client understands when the form's security check fails (an old tab, cookies off)."""
    return link_page(request, "consents/csrf_failure.html", {}, status=403)
