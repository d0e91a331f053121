"""The base of every personal link a client gets (consent form, preference page, booking management).

A link's token (128 bits, 22 base64url characters) is derived by HMAC from `settings.LINK_TOKEN_KEY`
and a random nonce kept on the link; the database holds the nonce and the token's SHA-256, never the
token. So nobody reading the database (a staff member in the outbox, an export, a backup) can open a
client's link: a message is stored with its link `REDACTED` (same length, same SMS encoding, so its
segments and cost are exact), and `reveal` puts the token back only when the provider is called.
The link still resolves by the token's hash; it expires, can be revoked, and stops working when its
holder's data is erased. Consent links (`consents.ConsentLink`) and manage links (`booking.ManageLink`)
are both `TokenLink`s, and so is every link kind added later.
"""

import base64
import hashlib
import hmac
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


TOKEN_LENGTH = 22
# What a stored message shows in place of a token: as long as one, and GSM-7, so segments stay exact.
REDACTED = "*" * TOKEN_LENGTH


class LinkNotSendable(Exception):
    """The link's token cannot be derived (a link made before tokens were derived): send a new link instead."""


def token_hash(token: str) -> str:
    """What is stored of a link token: its SHA-256 (the token itself is only ever sent)."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    """A fresh random token: 128 bits, 22 base64url characters (for stamps that are never sent to a client)."""
    return base64.urlsafe_b64encode(secrets.token_bytes(16)).rstrip(b"=").decode()


def derive_token(label: str, nonce: str) -> str:
    """The token of a link: HMAC-SHA256 of its kind and nonce under LINK_TOKEN_KEY, cut to 128 bits."""
    digest = hmac.new(settings.LINK_TOKEN_KEY.encode(), f"{label}:{nonce}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode()


def reveal(text: str, token: str) -> str:
    """`text` with every redacted link path holding the real token, for the provider only."""
    return text.replace(f"/{REDACTED}/", f"/{token}/")


def link_url(view_name: str, token: str) -> str:
    """The absolute URL of a public page behind a token, as sent by SMS and email."""
    return urljoin(settings.PUBLIC_BASE_URL, reverse(view_name, args=[token]))


class TokenLink(models.Model):
    """A link whose token only the client holds: stored hashed, expiring, revocable."""

    token_hash = models.CharField(_("token hash"), max_length=64, unique=True, editable=False)
    # With LINK_TOKEN_KEY, derives the token (empty on links made before tokens were derived).
    token_nonce = models.CharField(_("token nonce"), max_length=32, blank=True, editable=False)
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
        """Create a link; returns it and its token (never stored: `token()` derives it again at send time)."""
        nonce = secrets.token_hex(16)
        token = derive_token(cls._meta.label_lower, nonce)
        link = cls.objects.create(token_hash=token_hash(token), token_nonce=nonce, expires_at=expires_at, **fields)
        return link, token

    def token(self) -> str:
        """The link's token, derived again from its nonce and the key; raises LinkNotSendable for old links."""
        if not self.token_nonce:
            raise LinkNotSendable(self.pk)
        return derive_token(self._meta.label_lower, self.token_nonce)

    @staticmethod
    def redacted_url(view_name: str) -> str:
        """The link's URL as messages store it: `REDACTED` where the token goes."""
        return link_url(view_name, REDACTED)

    @classmethod
    def resolve(cls, token: str, *, now: datetime | None = None) -> Self:
        """The valid link for a token, with `resolve_related` loaded; raises LinkInvalid(404 or 410)."""
        link = cls.objects.select_related(*cls.resolve_related).filter(token_hash=token_hash(token)).first()
        if link is None:
            raise LinkInvalid(404)
        if link.lapsed(now=now) or link.holder_erased():
            raise LinkInvalid(410)
        return link

    def lapsed(self, *, now: datetime | None = None) -> bool:
        """Whether the link was revoked or has expired (then it opens nothing and is not sent again)."""
        return self.revoked_at is not None or self.expires_at <= (now or timezone.now())
