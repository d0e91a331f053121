"""The send policy: one pure function says whether a message kind may go on a channel (SPEC §3).

`decide(state, kind, channel)` reads nothing from the database and the clock: everything it needs
is in `ClientState`, built by `consents.selectors.client_state`. Every decision carries a reason
code and a sentence the staff can read; both are stored on the message.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import models
from django.utils.translation import gettext_lazy as _

from core.vocabulary import LAPSING_PURPOSES, SENDABLE_CHANNELS, Channel, MessageKind, Purpose, add_months


@dataclass(frozen=True)
class Grant:
    """The current state of one purpose (on one channel): granted or withdrawn, since when."""

    granted: bool
    at: datetime


@dataclass(frozen=True)
class SalonRules:
    """The salon's settings the policy honours."""

    default_transactional_channels: frozenset[str] = frozenset({Channel.SMS})
    consent_request_cooldown_days: int = 30
    consent_validity_months: int | None = None
    email_soft_opt_in: bool = False


@dataclass(frozen=True)
class ClientState:
    """Everything the policy knows about a client at one instant (`now`).

    `consents` maps (purpose, channel) to the current Grant; channel is "" for purposes not
    given per channel (data_processing, personalised). A missing key means never asked.
    """

    now: datetime
    rules: SalonRules = field(default_factory=SalonRules)
    has_phone: bool = False
    has_email: bool = False
    is_erased: bool = False
    is_restricted: bool = False
    is_existing_client: bool = False  # has visited: eligible for email soft opt-in
    suppressed: frozenset[str] = frozenset()  # channels suppressed by STOP, hard bounce, complaint
    consents: dict[tuple[str, str], Grant] = field(default_factory=dict)
    consent_requested_at: datetime | None = None
    last_appointment_at: datetime | None = None  # latest non-cancelled appointment, past or future


# Short names for the purposes the rules read (the state's keys are these values).
DATA_PROCESSING = Purpose.DATA_PROCESSING
SERVICE = Purpose.SERVICE
MARKETING = Purpose.MARKETING
PERSONALISED = Purpose.PERSONALISED

# The register may hold phone-call consent, so "phone" is a known channel, never a sendable one.
CHANNELS = frozenset(Channel.values)

# Seen or booked within this window, the client is in a relationship with the salon: asking them
# for consent is then service, not marketing.
RELATIONSHIP_WINDOW = timedelta(days=90)

_TRANSACTIONAL_KINDS = frozenset(
    {
        MessageKind.APPOINTMENT_CONFIRMATION,
        MessageKind.APPOINTMENT_REMINDER,
        MessageKind.APPOINTMENT_CANCELLATION,
    }
)


class Reason(models.TextChoices):
    """Why a message may or may not go; the label is the sentence shown to the staff."""

    # Allowed
    APPOINTMENT_CONTEXT = (
        "appointment_context",
        _("The client has an appointment coming up or had one in the last 90 days."),
    )
    RENEWING_GRANT = (
        "renewing_grant",
        _("The request renews a consent the client still holds on this channel."),
    )
    REPERMISSION_OUTREACH = (
        "repermission_outreach",
        _("The salon enabled re-permission outreach for this campaign."),
    )
    RECEIPT_CHANNEL = (
        "receipt_channel",
        _("The receipt goes on the channel the client just used, or by email."),
    )
    SERVICE_GRANTED = (
        "service_granted",
        _("The client agreed to appointment messages on this channel."),
    )
    DEFAULT_CHANNEL = (
        "default_channel",
        _("The client chose no channel for appointment messages; this is one of the salon's default channels."),
    )
    MARKETING_GRANTED = "marketing_granted", _("The client agreed to marketing on this channel.")
    SOFT_OPT_IN = (
        "soft_opt_in",
        _("An existing client never asked about marketing email: the salon's soft opt-in applies."),
    )
    PERSONALISED_GRANTED = (
        "personalised_granted",
        _("The client agreed to personalised suggestions."),
    )
    BREACH_NOTICE = (
        "breach_notice",
        _("The law requires telling the client about a personal data breach."),
    )
    # Refused
    CHANNEL_NOT_SENDABLE = "channel_not_sendable", _("Nothing is ever sent on this channel.")
    ERASED = "erased", _("The client's data was erased: nothing is sent to them.")
    NO_CONTACT = (
        "no_contact",
        _("The client has no phone number or email address for this channel."),
    )
    SUPPRESSED = (
        "suppressed",
        _("This channel is blocked for the client (STOP reply, hard bounce or complaint)."),
    )
    RESTRICTED = (
        "restricted",
        _("The client restricted processing: nothing is sent to them until the restriction is lifted."),
    )
    COOLDOWN = (
        "cooldown",
        _("A privacy authorisation request was sent recently; wait before asking again."),
    )
    NO_RELATIONSHIP = (
        "no_relationship",
        _(
            "No appointment coming up or in the last 90 days: asking for consent now would "
            "itself be direct marketing (ICO v Flybe and Honda, 2017; Cass. ord. 9920/2022)."
        ),
    )
    NOT_REPLY_CHANNEL = (
        "not_reply_channel",
        _("A receipt goes only on the channel the client just used, or by email."),
    )
    DP_WITHDRAWN = "dp_withdrawn", _("The client withdrew consent to data processing.")
    DP_NOT_GRANTED = "dp_not_granted", _("The client has not given consent to data processing.")
    SERVICE_EXCLUDES_CHANNEL = (
        "service_excludes_channel",
        _("The client's choice of channels for appointment messages does not include this one."),
    )
    NOT_DEFAULT_CHANNEL = (
        "not_default_channel",
        _("The client chose no channel for appointment messages, and this is not one of the salon's default channels."),
    )
    MARKETING_NOT_GRANTED = (
        "marketing_not_granted",
        _("The client has not agreed to marketing on this channel."),
    )
    MARKETING_WITHDRAWN = (
        "marketing_withdrawn",
        _("The client withdrew consent to marketing on this channel."),
    )
    MARKETING_LAPSED = (
        "marketing_lapsed",
        _("The client's consent to marketing on this channel has expired; ask them to renew it."),
    )
    PERSONALISED_NOT_GRANTED = (
        "personalised_not_granted",
        _("The client has not agreed to personalised suggestions."),
    )
    PERSONALISED_WITHDRAWN = (
        "personalised_withdrawn",
        _("The client withdrew consent to personalised suggestions."),
    )
    PERSONALISED_LAPSED = (
        "personalised_lapsed",
        _("The client's consent to personalised suggestions has expired; ask them to renew it."),
    )


# Every reason either allows or refuses, so a decision's reason always agrees with its outcome.
ALLOWING_REASONS = frozenset(
    {
        Reason.APPOINTMENT_CONTEXT,
        Reason.RENEWING_GRANT,
        Reason.REPERMISSION_OUTREACH,
        Reason.RECEIPT_CHANNEL,
        Reason.SERVICE_GRANTED,
        Reason.DEFAULT_CHANNEL,
        Reason.MARKETING_GRANTED,
        Reason.SOFT_OPT_IN,
        Reason.PERSONALISED_GRANTED,
        Reason.BREACH_NOTICE,
    }
)


@dataclass(frozen=True)
class Decision:
    """Whether a message may go, and why."""

    allowed: bool
    reason: Reason

    @property
    def sentence(self) -> str:
        """The reason as a sentence for the staff, in the active language."""
        # Reason() also accepts the plain code, as read back from a stored message.
        return str(Reason(self.reason).label)


def decide(
    state: ClientState,
    kind: str,
    channel: str,
    *,
    reply_channel: str = "",
    repermission_outreach: bool = False,
) -> Decision:
    """Say whether a message of `kind` may go to the client on `channel` now (SPEC §3).

    Checks run in this order and the first that settles it gives the reason: channel sendable,
    erased, contact for the channel, suppressed, then the kind's own rules (restriction first,
    except for breach notices).
    """
    if kind not in MessageKind.values:
        raise ValueError(f"unknown message kind {kind!r}")
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}")
    if reply_channel and reply_channel not in CHANNELS:
        raise ValueError(f"unknown reply channel {reply_channel!r}")

    reason = _delivery_refusal(state, channel)
    if reason is None:
        if kind == MessageKind.BREACH_NOTICE:
            # A legal duty, not a use of the data the client could restrict or refuse: GDPR art. 34
            # requires telling them of a breach likely to put them at high risk, consent or not.
            reason = Reason.BREACH_NOTICE
        elif state.is_restricted:
            # GDPR art. 18: the data is kept, nothing is sent (not even a receipt or a consent request).
            reason = Reason.RESTRICTED
        elif kind == MessageKind.CONSENT_RECEIPT:
            ok = channel in (reply_channel, Channel.EMAIL)
            reason = Reason.RECEIPT_CHANNEL if ok else Reason.NOT_REPLY_CHANNEL
        elif kind == MessageKind.CONSENT_REQUEST:
            reason = _consent_request(state, channel, repermission_outreach)
        elif kind in _TRANSACTIONAL_KINDS:
            reason = _data_processing_refusal(state, required=False) or _service(state, channel)
        elif kind == MessageKind.REVIEW_REQUEST:
            reason = _data_processing_refusal(state, required=True) or _service(state, channel)
        elif kind == MessageKind.MARKETING:
            reason = _marketing(state, channel)
        else:
            reason = _personalised(state, channel)
    return Decision(allowed=reason in ALLOWING_REASONS, reason=reason)


def is_granted(state: ClientState, purpose: str, channel: str = "") -> bool:
    """True when the client currently grants `purpose` on `channel` and the grant has not lapsed."""
    grant = state.consents.get((purpose, channel))
    return grant is not None and grant.granted and not _has_lapsed(state, purpose, grant)


def _has_lapsed(state: ClientState, purpose: str, grant: Grant) -> bool:
    """True when a marketing or personalised grant is older than the salon's validity period."""
    months = state.rules.consent_validity_months
    if months is None or purpose not in LAPSING_PURPOSES:
        return False
    return add_months(grant.at, months) <= state.now


def _delivery_refusal(state: ClientState, channel: str) -> Reason | None:
    """The refusals common to every kind: nothing can be delivered on this channel."""
    if channel not in SENDABLE_CHANNELS:
        return Reason.CHANNEL_NOT_SENDABLE
    if state.is_erased:
        return Reason.ERASED
    if not (state.has_phone if channel == Channel.SMS else state.has_email):
        return Reason.NO_CONTACT
    if channel in state.suppressed:
        return Reason.SUPPRESSED
    return None


def _consent_request(state: ClientState, channel: str, repermission_outreach: bool) -> Reason:
    """A privacy authorisation request: not too often, and only within a relationship."""
    cooldown = timedelta(days=state.rules.consent_request_cooldown_days)
    if state.consent_requested_at is not None and state.now - state.consent_requested_at < cooldown:
        return Reason.COOLDOWN
    last = state.last_appointment_at
    if last is not None and last >= state.now - RELATIONSHIP_WINDOW:
        return Reason.APPOINTMENT_CONTEXT
    if is_granted(state, SERVICE, channel) or is_granted(state, MARKETING, channel):
        return Reason.RENEWING_GRANT
    if repermission_outreach:
        return Reason.REPERMISSION_OUTREACH
    return Reason.NO_RELATIONSHIP


def _data_processing_refusal(state: ClientState, *, required: bool) -> Reason | None:
    """A withdrawal always refuses; never asked refuses only when a grant is `required`."""
    grant = state.consents.get((DATA_PROCESSING, ""))
    if grant is not None and not grant.granted:
        return Reason.DP_WITHDRAWN
    if grant is None and required:
        return Reason.DP_NOT_GRANTED
    return None


def _service(state: ClientState, channel: str) -> Reason:
    """Appointment messages follow the client's service channels, else the salon's defaults."""
    if is_granted(state, SERVICE, channel):
        return Reason.SERVICE_GRANTED
    # Any service entry, even a withdrawal on another channel, is a choice the defaults must not
    # override (seed 000: an email-only client gets no SMS).
    if any(purpose == SERVICE for purpose, _channel in state.consents):
        return Reason.SERVICE_EXCLUDES_CHANNEL
    if channel in state.rules.default_transactional_channels:
        return Reason.DEFAULT_CHANNEL
    return Reason.NOT_DEFAULT_CHANNEL


def _marketing(state: ClientState, channel: str) -> Reason:
    """Marketing needs data processing and marketing on the channel, or the email soft opt-in."""
    refusal = _data_processing_refusal(state, required=True)
    if refusal is not None:
        return refusal
    grant = state.consents.get((MARKETING, channel))
    if grant is None:
        # Only "never asked" qualifies: a withdrawal or a lapsed grant is an answer to respect.
        # ePrivacy art. 13(2) covers email; Italy, for one, allows no soft opt-in by SMS.
        if channel == Channel.EMAIL and state.rules.email_soft_opt_in and state.is_existing_client:
            return Reason.SOFT_OPT_IN
        return Reason.MARKETING_NOT_GRANTED
    if not grant.granted:
        return Reason.MARKETING_WITHDRAWN
    if _has_lapsed(state, MARKETING, grant):
        return Reason.MARKETING_LAPSED
    return Reason.MARKETING_GRANTED


def _personalised(state: ClientState, channel: str) -> Reason:
    """A personalised suggestion is marketing on the channel plus the personalised grant."""
    reason = _marketing(state, channel)
    if reason not in ALLOWING_REASONS:
        return reason
    grant = state.consents.get((PERSONALISED, ""))
    if grant is None:
        return Reason.PERSONALISED_NOT_GRANTED
    if not grant.granted:
        return Reason.PERSONALISED_WITHDRAWN
    if _has_lapsed(state, PERSONALISED, grant):
        return Reason.PERSONALISED_LAPSED
    return Reason.PERSONALISED_GRANTED
