"""Personal links to the consent form: 128-bit random tokens, stored hashed, expiring, revocable."""

import base64
import hashlib
import secrets
from datetime import timedelta
from urllib.parse import urljoin

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from clients.models import Client

from .models import ConsentLink

PREFERENCE_LINK_DAYS = 730  # long-lived: it rides on marketing messages the client may open months later


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


def new_link(
    *, client: Client, kind: str, channel: str = "", by=None, days: int | None = None
) -> tuple[ConsentLink, str]:
    """Create a link for a client; returns it and the raw token (shown once, never stored)."""
    token = new_token()
    if days is None:
        days = client.salon.consent_link_days if kind == ConsentLink.Kind.REQUEST else PREFERENCE_LINK_DAYS
    link = ConsentLink.objects.create(
        salon_id=client.salon_id, client=client, kind=kind, channel=channel, created_by=by,
        token_hash=token_hash(token), expires_at=timezone.now() + timedelta(days=days),
    )
    return link, token


def resolve(token: str, *, now=None) -> ConsentLink:
    """The active link for a token, with its client and salon; raises LinkInvalid(404 or 410)."""
    link = ConsentLink.objects.select_related("client__salon").filter(token_hash=token_hash(token)).first()
    if link is None:
        raise LinkInvalid(404)
    now = now or timezone.now()
    if link.revoked_at is not None or link.expires_at <= now or link.client.is_erased:
        raise LinkInvalid(410)
    return link


def revoke(link: ConsentLink) -> None:
    ConsentLink.objects.filter(pk=link.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())


def form_url(token: str) -> str:
    """The absolute URL of the consent form behind a token, as sent by SMS and email."""
    return urljoin(settings.PUBLIC_BASE_URL, reverse("consent-form", args=[token]))


def unsubscribe_url(token: str) -> str:
    """The RFC 8058 one-click unsubscribe URL for marketing email."""
    return urljoin(settings.PUBLIC_BASE_URL, reverse("unsubscribe", args=[token]))


def new_preference_token(client: Client) -> str:
    """A fresh preference-page token for a client (tokens cannot be recovered later: each message gets one)."""
    _link, token = new_link(client=client, kind=ConsentLink.Kind.PREFERENCES)
    return token
