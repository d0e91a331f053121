from django.urls import path, register_converter

from . import views


class TokenConverter:
    """A link token (22 base64url characters when genuine)."""

    regex = "[^/]{1,64}"  # anything; resolve() answers unknown tokens with a clear 404 page

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value


register_converter(TokenConverter, "token")

urlpatterns = [
    path("c/<token:token>/", views.consent_form, name="consent-form"),
    path("c/<token:token>/receipt.json", views.receipt_json, name="consent-receipt"),
    path("c/<token:token>/data.json", views.data_json, name="consent-data"),
    path("c/<token:token>/erase/", views.erasure, name="consent-erasure"),
    path("u/<token:token>/", views.unsubscribe, name="unsubscribe"),
    path("privacy/<slug:slug>/", views.privacy_notice, name="privacy-notice"),
]
