"""The send policy, one test per condition of SPEC §3."""

from datetime import UTC, datetime, timedelta

import pytest

from consents.policy import ALLOWING_REASONS, ClientState, Decision, Grant, Reason, SalonRules, decide, is_granted
from core.vocabulary import MessageKind

NOW = datetime(2025, 6, 15, 12, 0, tzinfo=UTC)
YESTERDAY = NOW - timedelta(days=1)

ALL_KINDS = list(MessageKind)
APPOINTMENT_KINDS = [
    MessageKind.APPOINTMENT_CONFIRMATION,
    MessageKind.APPOINTMENT_REMINDER,
    MessageKind.APPOINTMENT_CANCELLATION,
]
MARKETING_KINDS = [MessageKind.MARKETING, MessageKind.PERSONALISED_SUGGESTION]
# Everything a fully consenting client can receive by SMS.
EVERYTHING = ("data_processing", "service:sms", "marketing:sms", "personalised")


def client(
    granted=(), withdrawn=(), *, granted_at=YESTERDAY, grants=None, now=NOW, rules=None, **fields
) -> ClientState:
    """A client with a phone and an email; consents keyed "purpose" or "purpose:channel".

    `grants` adds Grants with their own dates to those `granted` at `granted_at`.
    """

    def key(text):
        purpose, _, channel = text.partition(":")
        return purpose, channel

    consents = {key(k): Grant(granted=True, at=granted_at) for k in granted}
    consents |= {key(k): Grant(granted=False, at=YESTERDAY) for k in withdrawn}
    consents |= {key(k): grant for k, grant in (grants or {}).items()}
    fields = {"has_phone": True, "has_email": True} | fields
    return ClientState(now=now, rules=rules or SalonRules(), consents=consents, **fields)


def recently_seen(granted=(), withdrawn=(), **fields) -> ClientState:
    """A client who had an appointment last week, so in a relationship with the salon."""
    return client(granted, withdrawn, last_appointment_at=NOW - timedelta(days=7), **fields)


# --- Programming errors -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "channel", "reply_channel"),
    [("newsletter", "sms", ""), ("marketing", "fax", ""), ("consent_receipt", "sms", "pigeon")],
)
def test_unknown_kind_or_channel_is_a_programming_error_not_a_decision(kind, channel, reply_channel):
    with pytest.raises(ValueError, match="unknown"):
        decide(client(EVERYTHING), kind, channel, reply_channel=reply_channel)


# --- Rules for every kind ---------------------------------------------------------------------


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_phone_channel_is_never_sendable(kind):
    state = recently_seen([*EVERYTHING, "service:phone", "marketing:phone"])

    decision = decide(state, kind, "phone", reply_channel="phone", repermission_outreach=True)

    assert decision == Decision(allowed=False, reason=Reason.CHANNEL_NOT_SENDABLE)


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_erased_client_gets_nothing_not_even_a_receipt(kind):
    state = recently_seen(EVERYTHING, is_erased=True)

    decision = decide(state, kind, "sms", reply_channel="sms", repermission_outreach=True)

    assert decision == Decision(allowed=False, reason=Reason.ERASED)


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_nothing_goes_on_a_channel_without_contact_data(kind):
    state = recently_seen([*EVERYTHING, "service:email", "marketing:email"], has_phone=False)
    no_email = recently_seen(EVERYTHING, has_email=False)

    assert decide(state, kind, "sms", reply_channel="sms").reason == Reason.NO_CONTACT
    assert decide(no_email, kind, "email").reason == Reason.NO_CONTACT


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_stop_suppresses_every_sms_kind(kind):
    state = recently_seen(EVERYTHING, suppressed=frozenset({"sms"}))

    decision = decide(state, kind, "sms", reply_channel="sms", repermission_outreach=True)

    assert decision == Decision(allowed=False, reason=Reason.SUPPRESSED)


def test_hard_bounce_suppresses_email_but_not_sms():
    state = recently_seen([*EVERYTHING, "marketing:email"], suppressed=frozenset({"email"}))

    assert decide(state, MessageKind.MARKETING, "email").reason == Reason.SUPPRESSED
    assert decide(state, MessageKind.MARKETING, "sms").allowed


@pytest.mark.parametrize("channel", ["sms", "email"])
@pytest.mark.parametrize("kind", sorted(set(ALL_KINDS) - {MessageKind.BREACH_NOTICE}))
def test_restricted_client_gets_nothing_of_any_kind(kind, channel):
    # Issue 7: the data is kept, nothing is sent until the restriction is lifted.
    state = recently_seen([*EVERYTHING, "service:email", "marketing:email"], is_restricted=True)

    decision = decide(state, kind, channel, reply_channel=channel, repermission_outreach=True)

    assert decision == Decision(allowed=False, reason=Reason.RESTRICTED)


def test_restricted_client_gets_no_receipt_of_their_own_choice():
    state = client(is_restricted=True)

    decision = decide(state, MessageKind.CONSENT_RECEIPT, "sms", reply_channel="sms")

    assert decision == Decision(allowed=False, reason=Reason.RESTRICTED)


# --- consent_request --------------------------------------------------------------------------


def test_consent_request_allowed_after_a_recent_appointment():
    decision = decide(recently_seen(), MessageKind.CONSENT_REQUEST, "sms")

    assert decision == Decision(allowed=True, reason=Reason.APPOINTMENT_CONTEXT)


@pytest.mark.parametrize(
    "appointment_at",
    [NOW + timedelta(days=200), NOW, NOW - timedelta(days=90)],
    ids=["upcoming", "now", "exactly-90-days-ago"],
)
def test_consent_request_allowed_with_appointment_upcoming_or_within_90_days(appointment_at):
    state = client(last_appointment_at=appointment_at)

    assert decide(state, MessageKind.CONSENT_REQUEST, "email").reason == Reason.APPOINTMENT_CONTEXT


@pytest.mark.parametrize("appointment_at", [None, NOW - timedelta(days=90, seconds=1)], ids=["never", "91-days-ago"])
def test_consent_request_refused_without_relationship_context(appointment_at):
    state = client(last_appointment_at=appointment_at)

    decision = decide(state, MessageKind.CONSENT_REQUEST, "sms")

    assert decision == Decision(allowed=False, reason=Reason.NO_RELATIONSHIP)
    assert "direct marketing" in decision.sentence


def test_consent_request_allowed_with_repermission_outreach():
    state = client(last_appointment_at=NOW - timedelta(days=400))

    decision = decide(state, MessageKind.CONSENT_REQUEST, "sms", repermission_outreach=True)

    assert decision == Decision(allowed=True, reason=Reason.REPERMISSION_OUTREACH)


@pytest.mark.parametrize("held", ["service:email", "marketing:email"])
def test_consent_request_allowed_when_renewing_valid_grant(held):
    state = client([held])

    decision = decide(state, MessageKind.CONSENT_REQUEST, "email")

    assert decision == Decision(allowed=True, reason=Reason.RENEWING_GRANT)


def test_consent_request_renews_only_a_grant_on_the_same_channel():
    state = client(["marketing:sms"])

    assert decide(state, MessageKind.CONSENT_REQUEST, "email").reason == Reason.NO_RELATIONSHIP


def test_consent_request_refused_when_renewing_a_lapsed_grant_outside_a_relationship():
    state = client(
        ["marketing:sms"],
        granted_at=NOW - timedelta(days=800),
        rules=SalonRules(consent_validity_months=24),
    )

    assert decide(state, MessageKind.CONSENT_REQUEST, "sms").reason == Reason.NO_RELATIONSHIP


def test_consent_request_refused_within_cooldown():
    state = recently_seen(consent_requested_at=NOW - timedelta(days=29, hours=23))

    decision = decide(state, MessageKind.CONSENT_REQUEST, "sms")

    assert decision == Decision(allowed=False, reason=Reason.COOLDOWN)


def test_consent_request_allowed_again_once_the_cooldown_has_passed():
    state = recently_seen(consent_requested_at=NOW - timedelta(days=30))

    assert decide(state, MessageKind.CONSENT_REQUEST, "sms").allowed


def test_consent_request_cooldown_is_the_salons_setting():
    state = recently_seen(
        consent_requested_at=NOW - timedelta(days=10),
        rules=SalonRules(consent_request_cooldown_days=7),
    )

    assert decide(state, MessageKind.CONSENT_REQUEST, "sms").allowed


def test_repermission_outreach_does_not_bypass_the_cooldown():
    state = client(consent_requested_at=NOW - timedelta(days=1))

    decision = decide(state, MessageKind.CONSENT_REQUEST, "sms", repermission_outreach=True)

    assert decision.reason == Reason.COOLDOWN


# --- consent_receipt --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reply_channel", "channel", "allowed"),
    [
        ("sms", "sms", True),
        ("sms", "email", True),
        ("email", "email", True),
        ("email", "sms", False),
        ("", "email", True),
        ("", "sms", False),
    ],
)
def test_receipt_goes_on_reply_channel_or_email(reply_channel, channel, allowed):
    decision = decide(client(), MessageKind.CONSENT_RECEIPT, channel, reply_channel=reply_channel)

    expected = Reason.RECEIPT_CHANNEL if allowed else Reason.NOT_REPLY_CHANNEL
    assert decision == Decision(allowed=allowed, reason=expected)


def test_receipt_needs_no_consent_at_all():
    state = client(withdrawn=["data_processing", "service:sms", "marketing:sms"])

    assert decide(state, MessageKind.CONSENT_RECEIPT, "sms", reply_channel="sms").allowed


# --- breach_notice (GDPR art. 34) -------------------------------------------------------------


@pytest.mark.parametrize("channel", ["sms", "email"])
def test_breach_notice_needs_no_consent_at_all(channel):
    state = client(withdrawn=["data_processing", "service:sms", "service:email", "marketing:sms"])

    decision = decide(state, MessageKind.BREACH_NOTICE, channel)

    assert decision == Decision(allowed=True, reason=Reason.BREACH_NOTICE)


@pytest.mark.parametrize("channel", ["sms", "email"])
def test_breach_notice_reaches_a_restricted_client(channel):
    state = client(is_restricted=True)

    assert decide(state, MessageKind.BREACH_NOTICE, channel) == Decision(allowed=True, reason=Reason.BREACH_NOTICE)


@pytest.mark.parametrize(
    ("fields", "channel", "expected"),
    [
        ({"is_erased": True}, "sms", Reason.ERASED),
        ({"is_erased": True, "is_restricted": True}, "email", Reason.ERASED),
        ({"suppressed": frozenset({"sms"})}, "sms", Reason.SUPPRESSED),
        ({"suppressed": frozenset({"email"}), "is_restricted": True}, "email", Reason.SUPPRESSED),
        ({"has_phone": False}, "sms", Reason.NO_CONTACT),
        ({"has_email": False}, "email", Reason.NO_CONTACT),
        ({}, "phone", Reason.CHANNEL_NOT_SENDABLE),
    ],
    ids=["erased", "erased-and-restricted", "sms-suppressed", "email-suppressed", "no-phone", "no-email", "phone"],
)
def test_breach_notice_refused_when_erased_suppressed_or_without_contact(fields, channel, expected):
    decision = decide(client(**fields), MessageKind.BREACH_NOTICE, channel)

    assert decision == Decision(allowed=False, reason=expected)


def test_breach_notice_on_one_suppressed_channel_still_goes_on_the_other():
    state = client(suppressed=frozenset({"sms"}))

    assert decide(state, MessageKind.BREACH_NOTICE, "email").allowed


# --- appointment confirmation, reminder, cancellation (seed 000) ------------------------------


@pytest.mark.parametrize("kind", APPOINTMENT_KINDS)
def test_no_preference_client_gets_sms_confirmation_by_default(kind):
    state = client()

    assert decide(state, kind, "sms") == Decision(allowed=True, reason=Reason.DEFAULT_CHANNEL)
    assert decide(state, kind, "email") == Decision(allowed=False, reason=Reason.NOT_DEFAULT_CHANNEL)


@pytest.mark.parametrize("kind", APPOINTMENT_KINDS)
def test_email_only_client_gets_no_sms_reminder(kind):
    state = client(["service:email"])

    assert decide(state, kind, "email") == Decision(allowed=True, reason=Reason.SERVICE_GRANTED)
    assert decide(state, kind, "sms") == Decision(allowed=False, reason=Reason.SERVICE_EXCLUDES_CHANNEL)


@pytest.mark.parametrize("kind", APPOINTMENT_KINDS)
def test_client_with_both_service_channels_gets_both(kind):
    state = client(["service:sms", "service:email"])

    assert decide(state, kind, "sms") == Decision(allowed=True, reason=Reason.SERVICE_GRANTED)
    assert decide(state, kind, "email") == Decision(allowed=True, reason=Reason.SERVICE_GRANTED)


def test_salon_default_transactional_channels_apply_to_no_preference_client():
    state = client(rules=SalonRules(default_transactional_channels=frozenset({"email"})))

    assert decide(state, MessageKind.APPOINTMENT_REMINDER, "email").allowed
    assert not decide(state, MessageKind.APPOINTMENT_REMINDER, "sms").allowed


def test_withdrawn_service_channel_is_blocked_even_if_it_is_a_default():
    state = client(withdrawn=["service:sms"])

    decision = decide(state, MessageKind.APPOINTMENT_REMINDER, "sms")

    assert decision == Decision(allowed=False, reason=Reason.SERVICE_EXCLUDES_CHANNEL)


def test_phone_call_service_preference_excludes_sms_and_email():
    state = client(["service:phone"])

    assert decide(state, MessageKind.APPOINTMENT_REMINDER, "sms").reason == Reason.SERVICE_EXCLUDES_CHANNEL


@pytest.mark.parametrize("kind", APPOINTMENT_KINDS)
def test_appointment_messages_need_no_data_processing_grant(kind):
    assert decide(client(["service:sms"]), kind, "sms").allowed


@pytest.mark.parametrize("kind", [*APPOINTMENT_KINDS, MessageKind.REVIEW_REQUEST])
def test_data_processing_withdrawal_blocks_appointment_messages(kind):
    state = client(["service:sms"], withdrawn=["data_processing"])

    assert decide(state, kind, "sms") == Decision(allowed=False, reason=Reason.DP_WITHDRAWN)


def test_service_grants_never_lapse():
    state = client(
        ["service:email"],
        granted_at=NOW - timedelta(days=3650),
        rules=SalonRules(consent_validity_months=24),
    )

    assert decide(state, MessageKind.APPOINTMENT_REMINDER, "email").allowed


# --- review_request ---------------------------------------------------------------------------


def test_review_request_needs_data_processing_granted():
    state = client(["service:sms"])

    decision = decide(state, MessageKind.REVIEW_REQUEST, "sms")

    assert decision == Decision(allowed=False, reason=Reason.DP_NOT_GRANTED)


def test_review_request_follows_the_service_channels_like_a_reminder():
    no_preference = client(["data_processing"])
    email_only = client(["data_processing", "service:email"])

    assert decide(no_preference, MessageKind.REVIEW_REQUEST, "sms").reason == Reason.DEFAULT_CHANNEL
    assert decide(email_only, MessageKind.REVIEW_REQUEST, "email").reason == Reason.SERVICE_GRANTED
    assert decide(email_only, MessageKind.REVIEW_REQUEST, "sms").reason == Reason.SERVICE_EXCLUDES_CHANNEL


# --- marketing --------------------------------------------------------------------------------


def test_marketing_goes_with_data_processing_and_marketing_on_the_channel():
    state = client(["data_processing", "marketing:sms"])

    decision = decide(state, MessageKind.MARKETING, "sms")

    assert decision == Decision(allowed=True, reason=Reason.MARKETING_GRANTED)


def test_marketing_refused_without_data_processing():
    state = client(["marketing:sms"])

    assert decide(state, MessageKind.MARKETING, "sms").reason == Reason.DP_NOT_GRANTED


def test_marketing_refused_after_data_processing_withdrawn():
    state = client(["marketing:sms"], withdrawn=["data_processing"])

    assert decide(state, MessageKind.MARKETING, "sms").reason == Reason.DP_WITHDRAWN


def test_marketing_on_one_channel_does_not_cover_the_other():
    state = client(["data_processing", "marketing:sms"])

    decision = decide(state, MessageKind.MARKETING, "email")

    assert decision == Decision(allowed=False, reason=Reason.MARKETING_NOT_GRANTED)


def test_withdrawn_marketing_is_refused():
    state = client(["data_processing"], withdrawn=["marketing:sms"])

    decision = decide(state, MessageKind.MARKETING, "sms")

    assert decision == Decision(allowed=False, reason=Reason.MARKETING_WITHDRAWN)


def test_lapsed_marketing_grant_counts_as_not_given():
    state = client(["data_processing", "marketing:sms"], rules=SalonRules(consent_validity_months=24))
    state_at_expiry = client(
        ["data_processing", "marketing:sms"],
        granted_at=datetime(2023, 6, 15, 12, 0, tzinfo=UTC),
        rules=SalonRules(consent_validity_months=24),
    )

    assert decide(state, MessageKind.MARKETING, "sms").allowed
    assert decide(state_at_expiry, MessageKind.MARKETING, "sms") == Decision(
        allowed=False, reason=Reason.MARKETING_LAPSED
    )
    assert not is_granted(state_at_expiry, "marketing", "sms")


def test_marketing_grant_is_valid_until_the_last_second_of_the_period():
    state = client(
        ["data_processing", "marketing:sms"],
        granted_at=datetime(2023, 6, 15, 12, 0, 1, tzinfo=UTC),
        rules=SalonRules(consent_validity_months=24),
    )

    assert decide(state, MessageKind.MARKETING, "sms").allowed


def test_validity_counts_calendar_months_clamped_to_the_months_end():
    # Granted on 31 March for one month: valid until 30 April, neither 28 April nor 1 May.
    expiry = datetime(2025, 4, 30, 12, 0, tzinfo=UTC)

    def state(now):
        return client(
            ["data_processing", "marketing:sms"],
            granted_at=datetime(2025, 3, 31, 12, 0, tzinfo=UTC),
            now=now,
            rules=SalonRules(consent_validity_months=1),
        )

    assert decide(state(expiry - timedelta(seconds=1)), MessageKind.MARKETING, "sms").allowed
    assert decide(state(expiry), MessageKind.MARKETING, "sms").reason == Reason.MARKETING_LAPSED


def test_validity_period_does_not_apply_to_data_processing():
    state = client(
        ["marketing:sms"],
        grants={"data_processing": Grant(granted=True, at=NOW - timedelta(days=3650))},
        rules=SalonRules(consent_validity_months=24),
    )

    assert decide(state, MessageKind.MARKETING, "sms").allowed


def test_email_soft_opt_in_lets_an_existing_client_receive_marketing_email():
    state = client(["data_processing"], is_existing_client=True, rules=SalonRules(email_soft_opt_in=True))

    decision = decide(state, MessageKind.MARKETING, "email")

    assert decision == Decision(allowed=True, reason=Reason.SOFT_OPT_IN)


def test_email_soft_opt_in_never_applies_to_sms():
    state = client(["data_processing"], is_existing_client=True, rules=SalonRules(email_soft_opt_in=True))

    decision = decide(state, MessageKind.MARKETING, "sms")

    assert decision == Decision(allowed=False, reason=Reason.MARKETING_NOT_GRANTED)


def test_email_soft_opt_in_is_off_by_default():
    state = client(["data_processing"], is_existing_client=True)

    assert decide(state, MessageKind.MARKETING, "email").reason == Reason.MARKETING_NOT_GRANTED


def test_email_soft_opt_in_is_only_for_existing_clients():
    state = client(["data_processing"], rules=SalonRules(email_soft_opt_in=True))

    assert decide(state, MessageKind.MARKETING, "email").reason == Reason.MARKETING_NOT_GRANTED


def test_email_soft_opt_in_never_overrides_a_withdrawal():
    state = client(
        ["data_processing"],
        withdrawn=["marketing:email"],
        is_existing_client=True,
        rules=SalonRules(email_soft_opt_in=True),
    )

    assert decide(state, MessageKind.MARKETING, "email").reason == Reason.MARKETING_WITHDRAWN


def test_email_soft_opt_in_does_not_revive_a_lapsed_grant():
    state = client(
        ["data_processing"],
        grants={"marketing:email": Grant(granted=True, at=NOW - timedelta(days=800))},
        is_existing_client=True,
        rules=SalonRules(email_soft_opt_in=True, consent_validity_months=24),
    )

    assert decide(state, MessageKind.MARKETING, "email").reason == Reason.MARKETING_LAPSED


def test_email_soft_opt_in_still_needs_data_processing():
    state = client(is_existing_client=True, rules=SalonRules(email_soft_opt_in=True))

    assert decide(state, MessageKind.MARKETING, "email").reason == Reason.DP_NOT_GRANTED


# --- personalised_suggestion ------------------------------------------------------------------


def test_personalised_suggestion_goes_with_personalised_and_marketing_on_the_channel():
    state = client(["data_processing", "marketing:email", "personalised"])

    decision = decide(state, MessageKind.PERSONALISED_SUGGESTION, "email")

    assert decision == Decision(allowed=True, reason=Reason.PERSONALISED_GRANTED)


def test_personalised_suggestion_needs_marketing_on_the_channel_used():
    state = client(["data_processing", "marketing:email", "personalised"])

    decision = decide(state, MessageKind.PERSONALISED_SUGGESTION, "sms")

    assert decision == Decision(allowed=False, reason=Reason.MARKETING_NOT_GRANTED)


@pytest.mark.parametrize(
    ("personalised", "expected"),
    [
        ({}, Reason.PERSONALISED_NOT_GRANTED),
        ({"personalised": Grant(granted=False, at=YESTERDAY)}, Reason.PERSONALISED_WITHDRAWN),
        (
            {"personalised": Grant(granted=True, at=NOW - timedelta(days=800))},
            Reason.PERSONALISED_LAPSED,
        ),
    ],
    ids=["never-asked", "withdrawn", "lapsed"],
)
def test_personalised_suggestion_refused_without_a_valid_personalised_grant(personalised, expected):
    state = client(
        ["data_processing", "marketing:sms"],
        grants=personalised,
        rules=SalonRules(consent_validity_months=24),
    )

    decision = decide(state, MessageKind.PERSONALISED_SUGGESTION, "sms")

    assert decision == Decision(allowed=False, reason=expected)


def test_personalised_suggestion_by_email_can_ride_on_the_soft_opt_in():
    state = client(
        ["data_processing", "personalised"],
        is_existing_client=True,
        rules=SalonRules(email_soft_opt_in=True),
    )

    assert decide(state, MessageKind.PERSONALISED_SUGGESTION, "email").allowed


# --- Reasons ----------------------------------------------------------------------------------

# One situation per reason: together they prove every reason code can be reached.
REASON_EXAMPLES = {
    Reason.APPOINTMENT_CONTEXT: (recently_seen(), "consent_request", "sms", {}),
    Reason.RENEWING_GRANT: (client(["service:sms"]), "consent_request", "sms", {}),
    Reason.REPERMISSION_OUTREACH: (
        client(),
        "consent_request",
        "sms",
        {"repermission_outreach": True},
    ),
    Reason.RECEIPT_CHANNEL: (client(), "consent_receipt", "email", {}),
    Reason.SERVICE_GRANTED: (client(["service:sms"]), "appointment_reminder", "sms", {}),
    Reason.DEFAULT_CHANNEL: (client(), "appointment_reminder", "sms", {}),
    Reason.MARKETING_GRANTED: (
        client(["data_processing", "marketing:sms"]),
        "marketing",
        "sms",
        {},
    ),
    Reason.SOFT_OPT_IN: (
        client(["data_processing"], is_existing_client=True, rules=SalonRules(email_soft_opt_in=True)),
        "marketing",
        "email",
        {},
    ),
    Reason.PERSONALISED_GRANTED: (
        client(["data_processing", "marketing:sms", "personalised"]),
        "personalised_suggestion",
        "sms",
        {},
    ),
    Reason.BREACH_NOTICE: (client(is_restricted=True), "breach_notice", "sms", {}),
    Reason.CHANNEL_NOT_SENDABLE: (client(), "appointment_reminder", "phone", {}),
    Reason.ERASED: (client(is_erased=True), "consent_receipt", "email", {}),
    Reason.NO_CONTACT: (client(has_phone=False), "appointment_reminder", "sms", {}),
    Reason.SUPPRESSED: (client(suppressed=frozenset({"sms"})), "appointment_reminder", "sms", {}),
    Reason.RESTRICTED: (client(is_restricted=True), "consent_receipt", "sms", {"reply_channel": "sms"}),
    Reason.COOLDOWN: (recently_seen(consent_requested_at=YESTERDAY), "consent_request", "sms", {}),
    Reason.NO_RELATIONSHIP: (client(), "consent_request", "sms", {}),
    Reason.NOT_REPLY_CHANNEL: (client(), "consent_receipt", "sms", {"reply_channel": "email"}),
    Reason.DP_WITHDRAWN: (client(withdrawn=["data_processing"]), "appointment_reminder", "sms", {}),
    Reason.DP_NOT_GRANTED: (client(), "review_request", "sms", {}),
    Reason.SERVICE_EXCLUDES_CHANNEL: (client(["service:email"]), "appointment_reminder", "sms", {}),
    Reason.NOT_DEFAULT_CHANNEL: (client(), "appointment_reminder", "email", {}),
    Reason.MARKETING_NOT_GRANTED: (client(["data_processing"]), "marketing", "sms", {}),
    Reason.MARKETING_WITHDRAWN: (
        client(["data_processing"], ["marketing:sms"]),
        "marketing",
        "sms",
        {},
    ),
    Reason.MARKETING_LAPSED: (
        client(
            ["data_processing", "marketing:sms"],
            granted_at=NOW - timedelta(days=40),
            rules=SalonRules(consent_validity_months=1),
        ),
        "marketing",
        "sms",
        {},
    ),
    Reason.PERSONALISED_NOT_GRANTED: (
        client(["data_processing", "marketing:sms"]),
        "personalised_suggestion",
        "sms",
        {},
    ),
    Reason.PERSONALISED_WITHDRAWN: (
        client(["data_processing", "marketing:sms"], ["personalised"]),
        "personalised_suggestion",
        "sms",
        {},
    ),
    Reason.PERSONALISED_LAPSED: (
        client(
            ["data_processing", "marketing:sms", "personalised"],
            granted_at=NOW - timedelta(days=40),
            rules=SalonRules(consent_validity_months=1, email_soft_opt_in=True),
            is_existing_client=True,
        ),
        "personalised_suggestion",
        "email",
        {},
    ),
}


def test_every_reason_code_has_an_example():
    assert set(REASON_EXAMPLES) == set(Reason)


@pytest.mark.parametrize("reason", list(REASON_EXAMPLES))
def test_every_reason_code_is_reachable(reason):
    state, kind, channel, options = REASON_EXAMPLES[reason]

    decision = decide(state, kind, channel, **options)

    assert decision == Decision(allowed=reason in ALLOWING_REASONS, reason=reason)


@pytest.mark.parametrize("reason", list(Reason))
def test_every_reason_has_a_staff_readable_sentence(reason):
    sentence = Decision(allowed=reason in ALLOWING_REASONS, reason=reason).sentence

    assert isinstance(sentence, str)
    assert sentence[0].isupper()
    assert sentence.endswith(".")


def test_sentence_reads_the_same_from_a_stored_reason_code():
    stored = Decision(allowed=False, reason="dp_withdrawn")

    assert stored.sentence == "The client withdrew consent to data processing."
