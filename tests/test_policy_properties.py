"""Properties of the send policy that hold for any client, any consents and any salon settings."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from dateutil.relativedelta import relativedelta
from hypothesis import example, given, settings
from hypothesis import strategies as st

from consents.policy import ALLOWING_REASONS, ClientState, Decision, Grant, Reason, SalonRules, decide, is_granted
from core.vocabulary import MessageKind

pytestmark = pytest.mark.slow  # ~5 s of generated examples; tests/test_policy.py checks the rules by example

# Modest and stateless: the suite stays fast and writes no example database into the project.
policy_settings = settings(max_examples=250, deadline=None, database=None)

CHANNELS = ["sms", "email", "phone"]
SENDABLE = ["sms", "email"]
KEYS = [
    ("data_processing", ""),
    ("personalised", ""),
    *[(purpose, channel) for purpose in ("service", "marketing") for channel in CHANNELS],
]
MARKETING_KINDS = [MessageKind.MARKETING, MessageKind.PERSONALISED_SUGGESTION]

NOW = datetime(2025, 6, 15, 12, 0, tzinfo=UTC)


def around_now(years_before, years_after):
    """Instants around NOW: wide enough for grants to lapse and appointments to age."""
    return st.datetimes(
        min_value=NOW.replace(year=NOW.year - years_before, tzinfo=None),
        max_value=NOW.replace(year=NOW.year + years_after, tzinfo=None),
        timezones=st.just(UTC),
    )


instants = around_now(6, 1)
past_instants = around_now(6, 0)

# Flags skewed towards a reachable client, so that the consent rules, not an early refusal,
# decide most examples.
usually = st.integers(min_value=0, max_value=3).map(bool)
rarely = st.integers(min_value=0, max_value=3).map(lambda n: n == 3)

grants = st.builds(Grant, granted=st.booleans(), at=past_instants)
channel_sets = st.frozensets(st.sampled_from(SENDABLE))
rules = st.builds(
    SalonRules,
    default_transactional_channels=channel_sets,
    consent_request_cooldown_days=st.integers(min_value=0, max_value=90),
    consent_validity_months=st.none() | st.integers(min_value=1, max_value=48),
    email_soft_opt_in=st.booleans(),
)
client_states = st.builds(
    ClientState,
    now=st.just(NOW),
    rules=rules,
    has_phone=usually,
    has_email=usually,
    is_erased=rarely,
    is_restricted=rarely,
    is_existing_client=st.booleans(),
    suppressed=channel_sets,
    consents=st.dictionaries(st.sampled_from(KEYS), grants),
    consent_requested_at=st.none() | past_instants,
    last_appointment_at=st.none() | instants,
)
kinds = st.sampled_from(list(MessageKind))
channels = st.sampled_from(CHANNELS)
reply_channels = st.sampled_from(["", *CHANNELS])


def holds(state, purpose, channel=""):
    """An explicit grant, unlapsed; the lapse computed with dateutil, independently of the policy."""
    grant = state.consents.get((purpose, channel))
    if grant is None or not grant.granted:
        return False
    months = state.rules.consent_validity_months
    expires = purpose in {"marketing", "personalised"} and months is not None
    return not expires or grant.at + relativedelta(months=months) > state.now


def decide_every_way(state, kind, channel, reply_channel):
    """The decisions for one message with and without re-permission outreach enabled."""
    return [
        decide(state, kind, channel, reply_channel=reply_channel, repermission_outreach=outreach)
        for outreach in (False, True)
    ]


@policy_settings
@given(client_states, st.sampled_from(MARKETING_KINDS), channels)
def test_without_soft_opt_in_marketing_needs_explicit_unlapsed_grants(state, kind, channel):
    state = replace(state, rules=replace(state.rules, email_soft_opt_in=False))

    if decide(state, kind, channel).allowed:
        assert holds(state, "data_processing")
        assert holds(state, "marketing", channel)
        if kind == MessageKind.PERSONALISED_SUGGESTION:
            assert holds(state, "personalised")


@policy_settings
@given(client_states, st.sampled_from(MARKETING_KINDS), channels)
def test_no_marketing_without_data_processing_and_an_unlapsed_grant_or_soft_opt_in(state, kind, channel):
    decision = decide(state, kind, channel)

    if decision.allowed:
        assert holds(state, "data_processing")
        soft_opt_in = (
            channel == "email"
            and state.rules.email_soft_opt_in
            and state.is_existing_client
            and ("marketing", "email") not in state.consents
        )
        assert holds(state, "marketing", channel) or soft_opt_in


@policy_settings
@given(client_states, st.sampled_from(MARKETING_KINDS))
def test_email_soft_opt_in_never_applies_to_sms(state, kind):
    state = replace(
        state,
        rules=replace(state.rules, email_soft_opt_in=True),
        is_existing_client=True,
        has_phone=True,
        suppressed=frozenset(),
    )

    if decide(state, kind, "sms").allowed:
        assert holds(state, "marketing", "sms")


@policy_settings
@given(
    granted_at=past_instants,
    months=st.integers(min_value=1, max_value=48),
    offset=st.integers(min_value=-86400, max_value=86400),
    key=st.sampled_from([("marketing", "sms"), ("marketing", "email"), ("personalised", "")]),
)
# Month ends, where the day is clamped: 31 March + 1 month ends on 30 April, + 11 on 29 Feb 2024.
@example(datetime(2023, 3, 31, 9, tzinfo=UTC), 1, -1, ("marketing", "sms"))
@example(datetime(2023, 3, 31, 9, tzinfo=UTC), 11, -1, ("personalised", ""))
@example(datetime(2023, 3, 31, 9, tzinfo=UTC), 11, 0, ("personalised", ""))
def test_a_grant_lapses_after_the_validity_period_in_calendar_months(granted_at, months, offset, key):
    expiry = granted_at + relativedelta(months=months)
    state = ClientState(
        now=expiry + timedelta(seconds=offset),
        rules=SalonRules(consent_validity_months=months),
        consents={key: Grant(granted=True, at=granted_at)},
    )

    assert is_granted(state, *key) == (offset < 0)


events = st.lists(st.tuples(st.sampled_from(KEYS), st.booleans(), past_instants), max_size=12)


def fold(history):
    """The current consents after a history of (key, granted, at) events: the latest one wins."""
    consents = {}
    for key, granted, at in sorted(history, key=lambda event: event[2]):
        consents[key] = Grant(granted=granted, at=at)
    return consents


@policy_settings
@given(
    client_states,
    events,
    st.sampled_from(SENDABLE),
    st.sampled_from(MARKETING_KINDS),
    st.randoms(use_true_random=False),
    st.integers(min_value=1, max_value=10**6),
)
def test_latest_withdrawal_wins(state, history, channel, kind, random, gap):
    # Grant, then withdraw later than anything else recorded for that key, in shuffled order.
    key = ("marketing", channel)
    granted_at = min([at for k, _, at in history if k == key], default=NOW - timedelta(days=30))
    withdrawn_at = max([at for k, _, at in history if k == key], default=granted_at)
    withdrawn_at += timedelta(seconds=gap)
    history = [*history, (key, True, granted_at), (key, False, withdrawn_at)]
    random.shuffle(history)
    state = replace(state, consents=fold(history), now=max(NOW, withdrawn_at))

    decision = decide(state, kind, channel)

    assert not decision.allowed
    if holds(state, "data_processing") and not (state.is_erased or state.is_restricted):
        assert decision.reason in {Reason.MARKETING_WITHDRAWN, Reason.NO_CONTACT, Reason.SUPPRESSED}


@policy_settings
@given(client_states, kinds, channels, reply_channels)
def test_restricted_client_gets_nothing_but_a_breach_notice(state, kind, channel, reply_channel):
    # Issue 7: nothing at all, not even a consent receipt or request; a breach notice is a legal duty.
    state = replace(state, is_restricted=True)

    for decision in decide_every_way(state, kind, channel, reply_channel):
        assert not decision.allowed or kind == MessageKind.BREACH_NOTICE


@policy_settings
@given(client_states, channels, reply_channels)
def test_breach_notice_goes_exactly_where_contact_exists_and_nothing_is_suppressed(state, channel, reply_channel):
    contact = state.has_phone if channel == "sms" else state.has_email
    deliverable = channel in SENDABLE and not state.is_erased and contact and channel not in state.suppressed

    for decision in decide_every_way(state, MessageKind.BREACH_NOTICE, channel, reply_channel):
        assert decision.allowed == deliverable


@policy_settings
@given(client_states, kinds, channels, reply_channels)
def test_erased_client_gets_nothing_at_all(state, kind, channel, reply_channel):
    state = replace(state, is_erased=True)

    for decision in decide_every_way(state, kind, channel, reply_channel):
        assert not decision.allowed


@policy_settings
@given(client_states, kinds, channels, reply_channels)
def test_suppressed_or_phone_channel_is_never_allowed(state, kind, channel, reply_channel):
    state = replace(state, suppressed=state.suppressed | {channel})

    for decision in decide_every_way(state, kind, channel, reply_channel):
        assert not decision.allowed


@policy_settings
@given(client_states, kinds, channels, reply_channels, st.booleans())
def test_decide_is_deterministic_and_always_gives_a_reason(state, kind, channel, reply_channel, outreach):
    def once():
        return decide(state, kind, channel, reply_channel=reply_channel, repermission_outreach=outreach)

    decision = once()

    assert decision == once()
    assert isinstance(decision, Decision)
    assert decision.allowed == (decision.reason in ALLOWING_REASONS)
    assert decision.reason in set(Reason)
    assert decision.sentence
