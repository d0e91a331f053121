"""The base of every personal link a client gets (consent form, preference page, booking management).

A link is a 128-bit random token sent to the client; only its SHA-256 is stored. It expires, can be
revoked, and stops working when its holder's data is erased. Consent links (`consents.ConsentLink`)
and manage links (`booking.ManageLink`) are both `TokenLink`s and are resolved the same way.
"""

import base64
import hashlib
import secrets
from datetime import datetime
from typing import Self
from urllib.parse import urljoin

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class LinkInvalid(Exception):
    """The token is unknown (404) or no longer valid (410); the page never says whose it was."""

    def __init__(self, status: int):
        super().__init__(status)
        self.status = status


def token_hash(token: str) -> str:
    """What is stored of a link token: its SHA-256 (the token itself is only ever sent)."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    """A fresh link token: 128 random bits, 22 base64url characters."""
    return base64.urlsafe_b64encode(secrets.token_bytes(16)).rstrip(b"=").decode()


def link_url(view_name: str, token: str) -> str:
    """The absolute URL of a public page behind a token, as sent by SMS and email."""
    return urljoin(settings.PUBLIC_BASE_URL, reverse(view_name, args=[token]))


class TokenLink(models.Model):
    """A link whose token only the client holds: stored hashed, expiring, revocable."""

    token_hash = models.CharField(_("token hash"), max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires"))
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    # What `resolve` loads with the link (the holder and the salon the page shows).
    resolve_related: tuple[str, ...] = ()

    class Meta:
        abstract = True

    def holder_erased(self) -> bool:
        """True when the client the link belongs to was erased: the link then answers 410."""
        raise NotImplementedError

    @classmethod
    def issue(cls, *, expires_at: datetime, **fields) -> tuple[Self, str]:
        """Create a link; returns it and the raw token (shown once, never stored)."""
        token = new_token()
        link = cls.objects.create(token_hash=token_hash(token), expires_at=expires_at, **fields)
        return link, token

    @classmethod
    def resolve(cls, token: str, *, now: datetime | None = None) -> Self:
        """The valid link for a token, with `resolve_related` loaded; raises LinkInvalid(404 or 410)."""
        link = cls.objects.select_related(*cls.resolve_related).filter(token_hash=token_hash(token)).first()
        if link is None:
            raise LinkInvalid(404)
        now = now or timezone.now()
        if link.revoked_at is not None or link.expires_at <= now or link.holder_erased():
            raise LinkInvalid(410)
        return link
