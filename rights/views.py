"""The client's own pages for their rights: a copy of their data, asking for erasure, the privacy notice."""

from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_http_methods

from consents.checkpoints import public_key_b64
from consents.pages import download, link_page, link_view
from consents.selectors import current_wordings
from core.vocabulary import Purpose
from core.web import public_page, public_page_language
from rights.erasure import request_erasure
from rights.export import export_client_data
from salons.models import Salon


@require_http_methods(["GET", "HEAD"])
@link_view
def data_json(request, token: str, *, link, language):
    """Everything the salon holds about the client, as JSON (GDPR access and portability)."""
    return download(export_client_data(link.client), "my-data.json")


@require_http_methods(["GET", "POST"])
@link_view
def erasure(request, token: str, *, link, language):
    """Ask for erasure (GDPR art. 17); the staff confirm it within a month."""
    if request.method == "POST":
        erasure_request = request_erasure(client=link.client)
        return link_page(request, "consents/erasure_requested.html",
                         {"salon": link.client.salon, "request": erasure_request, "token": token},
                         language=language)
    return link_page(request, "consents/erasure_confirm.html", {"salon": link.client.salon, "token": token},
                     language=language)


@require_http_methods(["GET", "HEAD"])
def privacy_notice(request, slug: str):
    """The salon's public privacy notice (GDPR art. 13): who is responsible, what and why, how long, rights.

    Public and the same for everyone: no link, no cookie, nothing about any client.
    """
    salon = get_object_or_404(Salon, slug=slug)
    language = public_page_language(request, salon.language)
    wordings = current_wordings(salon=salon, language=language)
    response = public_page(request, "consents/privacy_notice.html", {
        "salon": salon, "wordings": [wordings[purpose] for purpose in Purpose.values if purpose in wordings],
        "register_key": public_key_b64(),
    }, language=language, cache="public, max-age=300")
    response["Vary"] = "Accept-Language"
    return response
