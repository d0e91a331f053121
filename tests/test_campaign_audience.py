"""A campaign's audience is one set-based query that agrees with the send policy for every consent state."""

import itertools
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from campaigns.models import Campaign
from clients.models import Client, SuppressionReason
from consents.models import Source
from consents.policy import decide
from consents.selectors import client_states, current_wording
from consents.services import ConsentChange, record_consent
from outreach.audience import audience, preview
from tests.factories import CampaignFactory, ClientFactory

pytestmark = pytest.mark.django_db

STATES = ["granted", "withdrawn", "never"]


def set_consents(client, at=None, **states):
    """Record `purpose__channel=granted|withdrawn|never` choices for a client, as the form would."""
    changes = []
    for key, state in states.items():
        if state == "never":
            continue
        purpose, _, channel = key.partition("__")
        wording = current_wording(salon=client.salon, purpose=purpose, language="en")
        changes.append(ConsentChange(purpose, state == "granted", channel, wording if state == "granted" else None))
    if changes:
        record_consent(client=client, changes=changes, source=Source.FORM_LINK, occurred_at=at)


def policy_allows(campaign, clients):
    states = client_states(clients)
    outreach = campaign.kind == Campaign.Kind.REPERMISSION
    return {c.pk for c in clients
            if decide(states[c.pk], campaign.message_kind, campaign.channel, repermission_outreach=outreach).allowed}


@pytest.mark.parametrize("kind", [Campaign.Kind.MARKETING, Campaign.Kind.PERSONALISED_SUGGESTION])
@pytest.mark.parametrize("data_processing,marketing,personalised", list(itertools.product(STATES, repeat=3)))
@pytest.mark.parametrize("channel", ["sms", "email"])
def test_audience_and_policy_agree_for_every_consent_combination(salon, kind, channel, data_processing, marketing,
                                                                 personalised):
    client = ClientFactory(salon=salon)
    set_consents(client, data_processing=data_processing, personalised=personalised,
                 **{f"marketing__{channel}": marketing})
    campaign = CampaignFactory(salon=salon, kind=kind, channel=channel)
    selected = set(audience(campaign).values_list("pk", flat=True))
    assert selected == policy_allows(campaign, [client])
    expected = data_processing == marketing == "granted" and (
        kind == Campaign.Kind.MARKETING or personalised == "granted")
    assert selected == ({client.pk} if expected else set())


FLAGS = {
    "restricted": {"is_restricted": True},
    "erased": {"erased_at": timezone.now()},
    "sms_suppressed": {"sms_suppression": SuppressionReason.OPTED_OUT},
    "email_suppressed": {"email_suppression": SuppressionReason.HARD_BOUNCE},
    "no_phone": {"phone": ""},
    "no_email": {"email": ""},
    "plain": {},
}


@pytest.mark.parametrize("flag", FLAGS)
@pytest.mark.parametrize("channel", ["sms", "email"])
@pytest.mark.parametrize("kind", list(Campaign.Kind))
def test_audience_and_policy_agree_on_contact_suppression_restriction_and_erasure(salon, kind, channel, flag):
    client = ClientFactory(salon=salon)
    set_consents(client, data_processing="granted", personalised="granted", **{f"marketing__{channel}": "granted"})
    Client.objects.filter(pk=client.pk).update(**FLAGS[flag])
    client.refresh_from_db()
    campaign = CampaignFactory(salon=salon, kind=kind, channel=channel)
    assert set(audience(campaign).values_list("pk", flat=True)) == policy_allows(campaign, [client])


@pytest.mark.parametrize("age_months,expected", [(3, True), (30, False)])
def test_a_lapsed_marketing_grant_is_not_in_the_audience(salon, age_months, expected):
    salon.consent_validity_months = 24
    salon.save()
    client = ClientFactory(salon=salon)
    set_consents(client, at=timezone.now() - timedelta(days=30 * age_months + 5), data_processing="granted",
                 marketing__sms="granted")
    campaign = CampaignFactory(salon=salon)
    assert policy_allows(campaign, [client]) == ({client.pk} if expected else set())
    assert set(audience(campaign).values_list("pk", flat=True)) == policy_allows(campaign, [client])


@pytest.mark.parametrize("marketing", STATES)
@pytest.mark.parametrize("visited", [True, False])
def test_email_soft_opt_in_matches_the_policy(salon, marketing, visited):
    salon.email_soft_opt_in = True
    salon.save()
    client = ClientFactory(salon=salon, last_visit=timezone.localdate() if visited else None, lifecycle="client")
    set_consents(client, data_processing="granted", marketing__email=marketing)
    for channel in ("email", "sms"):
        campaign = CampaignFactory(salon=salon, channel=channel)
        assert set(audience(campaign).values_list("pk", flat=True)) == policy_allows(campaign, [client])


def test_only_the_chosen_lifecycle_segments_are_selected(salon):
    by_lifecycle = {}
    for lifecycle in Client.Lifecycle.values:
        by_lifecycle[lifecycle] = ClientFactory(salon=salon, lifecycle=lifecycle)
        set_consents(by_lifecycle[lifecycle], data_processing="granted", marketing__sms="granted")
    campaign = CampaignFactory(salon=salon, segments=["prospect", "dormant"])
    assert set(audience(campaign)) == {by_lifecycle["prospect"], by_lifecycle["dormant"]}


def test_another_salons_clients_are_never_in_the_audience(salon, other_salon):
    mine = ClientFactory(salon=salon)
    theirs = ClientFactory(salon=other_salon)
    for client in (mine, theirs):
        set_consents(client, data_processing="granted", marketing__sms="granted")
    campaign = CampaignFactory(salon=salon)
    assert list(audience(campaign)) == [mine]
    assert preview(campaign).eligible == 1
    assert preview(campaign).skipped_total == 0


@pytest.mark.parametrize("marketing,data_processing,expected", [
    ("never", "never", True),
    ("granted", "never", True),
    ("never", "granted", True),
    ("withdrawn", "never", False),  # opted out of marketing on the channel (seed 003)
    ("never", "withdrawn", False),
    ("withdrawn", "granted", False),
])
def test_repermission_only_reaches_those_who_did_not_opt_out(salon, marketing, data_processing, expected):
    client = ClientFactory(salon=salon, lifecycle="dormant")
    set_consents(client, marketing__sms=marketing, data_processing=data_processing)
    campaign = CampaignFactory(salon=salon, kind=Campaign.Kind.REPERMISSION, segments=["dormant"])
    selected = set(audience(campaign).values_list("pk", flat=True))
    assert selected == ({client.pk} if expected else set())
    assert selected <= policy_allows(campaign, [client])  # never anyone the policy refuses


def test_repermission_respects_the_request_cooldown(salon):
    recent = ClientFactory(salon=salon, consent_requested_at=timezone.now() - timedelta(days=2))
    long_ago = ClientFactory(salon=salon, consent_requested_at=timezone.now() - timedelta(days=200))
    campaign = CampaignFactory(salon=salon, kind=Campaign.Kind.REPERMISSION)
    assert list(audience(campaign)) == [long_ago]
    assert policy_allows(campaign, [recent, long_ago]) == {long_ago.pk}


@pytest.mark.slow  # 100 clients with consents, per kind
@pytest.mark.parametrize("kind", list(Campaign.Kind))
def test_the_audience_takes_the_same_number_of_queries_for_10_and_100_clients(salon, kind):
    def queries_for(n):
        for _ in range(n):
            set_consents(ClientFactory(salon=salon), data_processing="granted", marketing__sms="granted",
                         personalised="granted")
        campaign = CampaignFactory(salon=salon, kind=kind)
        with CaptureQueriesContext(connection) as captured:
            ids = list(audience(campaign).values_list("pk", flat=True).iterator(chunk_size=50))
        return len(captured), len(ids)

    small, small_count = queries_for(10)
    large, large_count = queries_for(90)
    assert (small_count, large_count) == (10, 100)
    assert small == large == 1
