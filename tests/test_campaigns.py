"""Campaigns: preview, batch sending through the outbox, pause/resume, never twice, the repermission command."""

from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction
from django.urls import reverse

from campaigns.models import Campaign, CampaignRecipient
from consents.models import Source
from core.vocabulary import Purpose
from messaging.backends import locmem
from messaging.models import Message
from outreach import campaign_runs, campaigns
from outreach.audience import audience, preview
from outreach.credits import top_up
from tests.factories import CampaignFactory, ClientFactory
from tests.register_tools import withdraw
from tests.test_campaign_audience import set_consents

pytestmark = pytest.mark.django_db


def opted_in(salon, n, **kwargs):
    clients = [ClientFactory(salon=salon, **kwargs) for _ in range(n)]
    for client in clients:
        set_consents(client, data_processing="granted", marketing__sms="granted")
    return clients


def test_preview_counts_eligible_skipped_by_reason_and_cost_against_balance(salon):
    salon.sms_sender_id = "Aurora"
    salon.save()
    top_up(salon=salon, amount=5)
    opted_in(salon, 3)
    set_consents(ClientFactory(salon=salon), data_processing="granted", marketing__sms="withdrawn")
    ClientFactory(salon=salon)  # never asked
    ClientFactory(salon=salon, phone="")
    campaign = CampaignFactory(salon=salon)
    result = preview(campaign)
    assert result.eligible == 3
    assert dict(result.skipped) == {
        "The client withdrew consent to marketing on this channel.": 1,
        "The client has not given consent to data processing.": 1,
        "The client has no phone number or email address for this channel.": 1,
    }
    assert result.cost == 3
    assert result.balance == 5
    assert result.short_of_credit == 0
    assert not Message.objects.exists()  # a preview sends nothing


def test_the_previewed_cost_is_what_the_outbox_charges_per_language(salon):
    opted_in(salon, 2, language="it")
    opted_in(salon, 1, language="en")
    campaign = CampaignFactory(salon=salon)
    campaign.texts = {"it": "Promo " + "ā" * 100, "en": "Short offer"}  # not GSM-7 in Italian: UCS-2, 3 segments
    campaign.save()
    result = preview(campaign)
    assert result.cost == 2 * 3 + 1
    assert result.short_of_credit == 7
    campaign_runs.start(campaign=campaign, schedule=False)
    campaigns.run_until_done(campaign=campaign)
    assert sorted(Message.objects.values_list("language", "cost")) == [("en", 1), ("it", 3), ("it", 3)]


def test_starting_sends_the_text_in_each_clients_language_through_the_outbox(salon, django_capture_on_commit_callbacks):
    top_up(salon=salon, amount=100)
    italian, = opted_in(salon, 1, language="it")
    english, = opted_in(salon, 1, language="en")
    withdrawn = ClientFactory(salon=salon)
    set_consents(withdrawn, data_processing="granted", marketing__sms="withdrawn")
    campaign = CampaignFactory(salon=salon, texts={"it": "Sconto 20% a marzo!", "en": "20% off!"})
    with django_capture_on_commit_callbacks(execute=True):
        assert campaign_runs.start(campaign=campaign)
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.DONE
    assert (campaign.eligible, campaign.queued, campaign.skipped, campaign.progress_percent) == (2, 2, 1, 100)
    bodies = {sms.to: sms.body for sms in locmem.outbox}
    assert bodies.keys() == {italian.phone.as_e164, english.phone.as_e164}
    assert bodies[italian.phone.as_e164].startswith("Sconto 20% a marzo!")
    assert bodies[english.phone.as_e164].startswith("20% off!")
    assert set(Message.objects.values_list("kind", "status")) == {("marketing", "sent")}
    assert CampaignRecipient.objects.filter(campaign=campaign, message__isnull=False).count() == 2


def test_batches_continue_until_the_audience_is_exhausted(salon):
    opted_in(salon, 5)
    campaign = CampaignFactory(salon=salon)
    campaign_runs.start(campaign=campaign, schedule=False)
    assert campaigns.run_batch(campaign_id=campaign.pk, size=2) is True
    campaign.refresh_from_db()
    assert (campaign.queued, campaign.progress_percent) == (2, 40)
    assert campaigns.run_batch(campaign_id=campaign.pk, size=2) is True
    assert campaigns.run_batch(campaign_id=campaign.pk, size=2) is False
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.DONE
    assert campaign.queued == 5
    assert Message.objects.filter(kind="marketing").count() == 5


def test_pause_stops_batches_and_resume_continues_with_the_rest(salon):
    clients = opted_in(salon, 5)
    campaign = CampaignFactory(salon=salon)
    campaign_runs.start(campaign=campaign, schedule=False)
    campaigns.run_batch(campaign_id=campaign.pk, size=2)
    assert campaign_runs.pause(campaign=campaign)
    assert campaign.status == Campaign.Status.PAUSED
    assert campaigns.run_batch(campaign_id=campaign.pk, size=2) is False  # a task already queued does nothing
    assert Message.objects.count() == 2
    assert not campaign_runs.pause(campaign=campaign)  # pausing twice changes nothing
    assert campaign_runs.resume(campaign=campaign, schedule=False)
    campaigns.run_until_done(campaign=campaign, size=2)
    assert campaign.status == Campaign.Status.DONE
    assert sorted(Message.objects.values_list("client_id", flat=True)) == sorted(c.pk for c in clients)


def test_resume_through_the_task_finishes_the_campaign(salon, django_capture_on_commit_callbacks):
    opted_in(salon, 3)
    campaign = CampaignFactory(salon=salon)
    campaign_runs.start(campaign=campaign, schedule=False)
    campaign_runs.pause(campaign=campaign)
    with django_capture_on_commit_callbacks(execute=True):
        campaign_runs.resume(campaign=campaign)
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.DONE
    assert campaign.queued == 3


def test_a_client_is_never_messaged_twice_by_one_campaign(salon):
    client, = opted_in(salon, 1)
    campaign = CampaignFactory(salon=salon)
    campaign_runs.start(campaign=campaign, schedule=False)
    campaigns.run_until_done(campaign=campaign)
    # Running it again, even forced back to running, finds nobody left.
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.RUNNING)
    campaigns.run_until_done(campaign=campaign)
    assert list(audience(campaign)) == []
    assert Message.objects.filter(client=client).count() == 1
    with pytest.raises(IntegrityError), transaction.atomic():
        CampaignRecipient.objects.create(campaign=campaign, client=client)
    # Another campaign is another message.
    second = CampaignFactory(salon=salon)
    campaign_runs.start(campaign=second, schedule=False)
    campaigns.run_until_done(campaign=second)
    assert Message.objects.filter(client=client).count() == 2


def test_a_withdrawal_after_the_start_blocks_the_message(salon):
    first, second = opted_in(salon, 2)
    campaign = CampaignFactory(salon=salon)
    campaign_runs.start(campaign=campaign, schedule=False)
    withdraw(client=second, purpose=Purpose.MARKETING, channel="sms", source=Source.FORM_LINK)
    campaigns.run_until_done(campaign=campaign)
    assert list(Message.objects.values_list("client_id", "status")) == [(first.pk, "pending")]
    assert campaign.queued == 1


def test_starting_twice_starts_once(salon):
    opted_in(salon, 1)
    campaign = CampaignFactory(salon=salon)
    assert campaign_runs.start(campaign=campaign, schedule=False)
    assert not campaign_runs.start(campaign=campaign, schedule=False)


def test_a_repermission_campaign_needs_its_legal_basis(salon):
    with pytest.raises(ValidationError) as error:
        campaigns.create_campaign(salon=salon, name="Ask again", kind=Campaign.Kind.REPERMISSION, channel="sms",
                                 segments=["dormant"])
    assert "repermission_legal_basis" in error.value.message_dict


def test_a_repermission_request_outside_a_relationship_goes_out_as_outreach(salon, django_capture_on_commit_callbacks):
    """The outbox re-decides with the message's `repermission_outreach` flag, so the worker sends it too."""
    top_up(salon=salon, amount=10)
    dormant = ClientFactory(salon=salon, lifecycle="dormant")  # no appointment, no grant: no relationship
    opted_out = ClientFactory(salon=salon, lifecycle="dormant")
    set_consents(opted_out, marketing__sms="withdrawn")
    campaign = CampaignFactory(salon=salon, kind=Campaign.Kind.REPERMISSION, segments=["dormant"])
    with django_capture_on_commit_callbacks(execute=True):
        campaign_runs.start(campaign=campaign)
    message = Message.objects.get()
    assert (message.client, message.kind, message.status, message.reason) == (
        dormant, "consent_request", "sent", "repermission_outreach")
    assert [sms.to for sms in locmem.outbox] == [dormant.phone.as_e164]


def test_the_command_dry_run_prints_counts_and_cost_and_sends_nothing(salon):
    ClientFactory(salon=salon, lifecycle="prospect")
    set_consents(ClientFactory(salon=salon, lifecycle="prospect"), data_processing="withdrawn")
    ClientFactory(salon=salon, lifecycle="dormant")
    out = StringIO()
    call_command("repermission", salon=salon.pk, segment="prospect", channel="sms", dry_run=True, stdout=out)
    text = out.getvalue()
    assert "Eligible: 1" in text
    assert "Skipped: 1" in text
    assert "opted out" in text
    assert "Cost: 1 credits (balance 0)" in text
    assert "Dry run" in text
    assert not Campaign.objects.exists()
    assert not Message.objects.exists()


def test_the_command_runs_a_repermission_campaign(salon):
    top_up(salon=salon, amount=10)
    prospects = [ClientFactory(salon=salon, lifecycle="prospect") for _ in range(3)]
    set_consents(prospects[2], marketing__sms="withdrawn")
    out = StringIO()
    call_command("repermission", salon=salon.pk, segment="prospect", channel="sms", legal_basis="Art. 6(1)(f)",
                 batch_size=1, stdout=out)
    campaign = Campaign.objects.get()
    assert campaign.kind == Campaign.Kind.REPERMISSION
    assert campaign.repermission_legal_basis == "Art. 6(1)(f)"
    assert campaign.status == Campaign.Status.DONE
    assert campaign.queued == 2
    assert set(Message.objects.values_list("client_id", flat=True)) == {prospects[0].pk, prospects[1].pk}
    assert "2 requests queued, 1 skipped" in out.getvalue()


def test_the_command_refuses_a_real_run_without_a_legal_basis(salon):
    with pytest.raises(CommandError, match="legal basis"):
        call_command("repermission", salon=salon.pk, segment="dormant", channel="email", stdout=StringIO())
    with pytest.raises(CommandError, match="No salon"):
        call_command("repermission", salon=999999, segment="dormant", channel="email", stdout=StringIO())


# Admin


def test_owner_previews_then_starts_and_sees_the_progress_bar(client, owner, salon,
                                                              django_capture_on_commit_callbacks):
    top_up(salon=salon, amount=10)
    opted_in(salon, 2)
    ClientFactory(salon=salon)
    campaign = CampaignFactory(salon=salon)
    client.force_login(owner)
    page = client.get(reverse("admin:campaigns_campaign_preview", args=[campaign.pk])).text
    assert "2 clients will get this message." in page
    assert "1 client in the chosen segments is skipped" in page
    assert "Cost: 2 credits. Balance: 10 credits." in page
    assert "Start: send to 2 clients" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("admin:campaigns_campaign_start", args=[campaign.pk]))
    assert response.status_code == 302
    page = client.get(response.url).text
    assert '<progress max="100" value="100"' in page
    assert "2 of 2 queued, 1 skipped" in page
    assert len(locmem.outbox) == 2


def test_owner_pauses_and_resumes_from_the_change_page(client, owner, salon):
    opted_in(salon, 1)
    campaign = CampaignFactory(salon=salon, status=Campaign.Status.RUNNING)
    client.force_login(owner)
    change = reverse("admin:campaigns_campaign_change", args=[campaign.pk])
    assert 'value="Pause"' in client.get(change).text
    client.post(reverse("admin:campaigns_campaign_pause", args=[campaign.pk]))
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.PAUSED
    assert 'value="Resume"' in client.get(change).text
    assert client.get(reverse("admin:campaigns_campaign_resume", args=[campaign.pk])).status_code == 405


def test_staff_may_view_but_not_run_a_campaign(client, member, salon):
    campaign = CampaignFactory(salon=salon)
    client.force_login(member)
    assert client.get(reverse("admin:campaigns_campaign_change", args=[campaign.pk])).status_code == 200
    page = client.get(reverse("admin:campaigns_campaign_preview", args=[campaign.pk])).text
    assert "Start: send to" not in page
    response = client.post(reverse("admin:campaigns_campaign_start", args=[campaign.pk]))
    assert response.status_code == 403
    assert Campaign.objects.get().status == Campaign.Status.DRAFT
    assert client.get(reverse("admin:campaigns_campaign_add")).status_code == 403


def test_another_salons_staff_cannot_see_the_campaign(client, outsider, salon):
    campaign = CampaignFactory(salon=salon)
    client.force_login(outsider)
    assert campaign.name not in client.get(reverse("admin:campaigns_campaign_changelist")).text
    assert client.get(reverse("admin:campaigns_campaign_preview", args=[campaign.pk])).status_code == 404
    response = client.post(reverse("admin:campaigns_campaign_start", args=[campaign.pk]))
    assert response.status_code == 404


def test_owner_creates_a_campaign_in_the_admin(client, owner, salon):
    client.force_login(owner)
    response = client.post(reverse("admin:campaigns_campaign_add"), {
        "salon": salon.pk, "name": "Autumn", "kind": "marketing", "channel": "email",
        "segments": ["client", "dormant"], "texts": '{"it": "Novità d\'autunno"}', "subjects": '{"it": "Autunno"}',
        "repermission_legal_basis": "",
    })
    assert response.status_code == 302, response.text
    campaign = Campaign.objects.get()
    assert campaign.segments == ["client", "dormant"]
    assert campaign.created_by == owner
    assert campaign.status == Campaign.Status.DRAFT
