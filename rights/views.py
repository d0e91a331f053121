"""The client's own pages for their rights: a copy of their data, asking for erasure, the privacy notice."""

from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_http_methods

from consents.pages import download, link_page, link_page_language, post_allowed, resolve_or_page, too_many
from consents.selectors import current_wordings
from core.vocabulary import Purpose
from core.web import public_page, public_page_language
from rights.erasure import request_erasure
from rights.export import export_client_data
from salons.models import Salon


def data_json(request, token: str):
    """Everything the salon holds about the client, as JSON (GDPR access and portability)."""
    link, error_page = resolve_or_page(request, token)
    if error_page:
        return error_page
    return download(export_client_data(link.client), "my-data.json")


@require_http_methods(["GET", "POST"])
def erasure(request, token: str):
    link, error_page = resolve_or_page(request, token)
    if error_page:
        return error_page
    language = link_page_language(request, link)
    if request.method == "POST":
        if not post_allowed(request, token):
            return too_many(request)
        erasure_request = request_erasure(client=link.client)
        return link_page(request, "consents/erasure_requested.html",
                     {"salon": link.client.salon, "request": erasure_request, "token": token, "language": language},
                     language=language)
    return link_page(request, "consents/erasure_confirm.html",
                 {"salon": link.client.salon, "token": token, "language": language}, language=language)


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
    }, language=language, cache="public, max-age=300")
    response["Vary"] = "Accept-Language"
    return response
