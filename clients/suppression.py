"""The salon's list of erased clients' contacts, kept only as keyed digests (see rights.erasure).

A later import or booking with the same phone or email is flagged by `is_suppressed` and starts
with no consent carried over.
"""

import hashlib
import hmac

from django.conf import settings

from core.contacts import email_key, phone_key

from .models import SuppressedContact


def contact_digest(*, salon_id: int, kind: str, value: str, key: str | None = None) -> str:
    """HMAC-SHA256 of a normalised contact, keyed with the suppression key and bound to the salon."""
    key = settings.SUPPRESSION_HMAC_KEY if key is None else key
    return hmac.new(key.encode(), f"{salon_id}:{kind}:{value}".encode(), hashlib.sha256).hexdigest()


def contact_digests(salon, *, phone=None, email=None) -> list[tuple[str, str]]:
    """(kind, digest) of the given contacts, normalised; blank ones left out."""
    digests = []
    if phone_value := phone_key(phone, salon.phone_region):
        digests.append((SuppressedContact.Kind.PHONE, contact_digest(
            salon_id=salon.pk, kind=SuppressedContact.Kind.PHONE, value=phone_value)))
    if email_value := email_key(email):
        digests.append((SuppressedContact.Kind.EMAIL, contact_digest(
            salon_id=salon.pk, kind=SuppressedContact.Kind.EMAIL, value=email_value)))
    return digests


def is_suppressed(salon, *, phone=None, email=None) -> bool:
    """Whether the phone or the email belonged to a client of `salon` whose data was erased."""
    digests = contact_digests(salon, phone=phone, email=email)
    if not digests:
        return False
    query = SuppressedContact.objects.none()
    for kind, digest in digests:
        query |= SuppressedContact.objects.filter(salon=salon, kind=kind, digest=digest)
    return query.exists()


def suppressed_digests(salon) -> set[tuple[str, str]]:
    """The salon's whole suppression list as (kind, digest), for checking many contacts at once."""
    return set(SuppressedContact.objects.filter(salon=salon).values_list("kind", "digest"))
