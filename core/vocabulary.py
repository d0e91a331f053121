"""The salon's vocabulary: channels, purposes, message kinds and languages, defined once.

Models, the send policy, forms and templates all take their choices from here, so a new channel,
purpose or kind is added in one place (see the README's architecture section).
"""

from datetime import date, datetime

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    """Where a message or a consent applies. Nothing is ever sent on `phone`."""

    SMS = "sms", _("SMS")
    EMAIL = "email", _("Email")
    PHONE = "phone", _("Phone call")


# The channels a message can go on; `phone` consent may be recorded but nothing is sent there.
SENDABLE_CHANNELS = (Channel.SMS, Channel.EMAIL)


class Purpose(models.TextChoices):
    """What a client agrees to (SPEC §2)."""

    DATA_PROCESSING = "data_processing", _("Data processing")
    SERVICE = "service", _("Service updates")
    MARKETING = "marketing", _("Marketing")
    PERSONALISED = "personalised", _("Personalised suggestions")


# Purposes given per channel; the others are given once, with no channel.
PER_CHANNEL_PURPOSES = frozenset({Purpose.SERVICE, Purpose.MARKETING})
# Channels a per-channel purpose may be recorded on (nothing is ever sent on `phone`).
CONSENT_CHANNELS = frozenset(Channel.values)
# Only these grants lapse after the salon's validity period (SPEC §2).
LAPSING_PURPOSES = frozenset({Purpose.MARKETING, Purpose.PERSONALISED})


class MessageKind(models.TextChoices):
    """What a message is for; the send policy has a row for each (SPEC §3)."""

    CONSENT_REQUEST = "consent_request", _("Privacy authorisation request")
    CONSENT_RECEIPT = "consent_receipt", _("Consent receipt")
    APPOINTMENT_CONFIRMATION = "appointment_confirmation", _("Appointment confirmation")
    APPOINTMENT_REMINDER = "appointment_reminder", _("Appointment reminder")
    APPOINTMENT_CANCELLATION = "appointment_cancellation", _("Appointment cancellation")
    REVIEW_REQUEST = "review_request", _("Review request")
    MARKETING = "marketing", _("Marketing")
    PERSONALISED_SUGGESTION = "personalised_suggestion", _("Personalised suggestion")
    BREACH_NOTICE = "breach_notice", _("Personal data breach notice")


# Messages whose point is lost once their appointment is cancelled or has started.
APPOINTMENT_KINDS = frozenset({MessageKind.APPOINTMENT_CONFIRMATION, MessageKind.APPOINTMENT_REMINDER})
# Messages that carry the client's preference page (and, by email, one-click unsubscribe).
MARKETING_KINDS = frozenset({MessageKind.MARKETING, MessageKind.PERSONALISED_SUGGESTION})

# The languages clients are served in (settings.LANGUAGES), as codes.
LANGUAGE_CODES = tuple(code for code, _name in settings.LANGUAGES)


def add_months[T: (date, datetime)](moment: T, months: int) -> T:
    """`moment` plus (or minus) calendar months, the day clamped to the month's end (31 Aug + 6 = 28 Feb)."""
    return moment + relativedelta(months=months)
