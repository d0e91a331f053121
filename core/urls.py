"""Path converters shared by the public pages' URLs."""

from django.urls import register_converter


class TokenConverter:
    """A link token (22 base64url characters when genuine)."""

    regex = "[^/]{1,64}"  # anything; the link's resolver answers unknown tokens with a clear 404 page

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value


register_converter(TokenConverter, "token")
