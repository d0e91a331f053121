"""Personal links to the consent form and the preference page (a `core.links.TokenLink` each)."""

from datetime import timedelta

from django.utils import timezone

from clients.models import Client
from core.links import link_url

from .models import ConsentLink

PREFERENCE_LINK_DAYS = 730  # long-lived: it rides on marketing messages the client may open months later


def new_link(
    *, client: Client, kind: str, channel: str = "", by=None, days: int | None = None
) -> tuple[ConsentLink, str]:
    """Create a link for a client; returns it and the raw token (shown once, never stored)."""
    if days is None:
        days = client.salon.consent_link_days if kind == ConsentLink.Kind.REQUEST else PREFERENCE_LINK_DAYS
    return ConsentLink.issue(
        salon_id=client.salon_id, client=client, kind=kind, channel=channel, created_by=by,
        expires_at=timezone.now() + timedelta(days=days),
    )


def resolve(token: str, *, now=None) -> ConsentLink:
    """The active link for a token, with its client and salon; raises LinkInvalid(404 or 410)."""
    return ConsentLink.resolve(token, now=now)


def form_url(token: str) -> str:
    """The absolute URL of the consent form behind a token, as sent by SMS and email."""
    return link_url("consent-form", token)


def unsubscribe_url(token: str) -> str:
    """The RFC 8058 one-click unsubscribe URL for marketing email."""
    return link_url("unsubscribe", token)


def new_preference_token(client: Client) -> str:
    """A fresh preference-page token for a client (tokens cannot be recovered later: each message gets one)."""
    _link, token = new_link(client=client, kind=ConsentLink.Kind.PREFERENCES)
    return token
