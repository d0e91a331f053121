"""Reads for campaigns: the audience as one set-based query over the current-state table, and the preview."""

from datetime import datetime, timedelta

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from campaigns.models import Campaign, CampaignRecipient
from clients.models import Client
from consents.links import form_url
from consents.models import Action, ConsentState
from consents.policy import decide
from consents.selectors import client_states
from core.vocabulary import Channel, MessageKind, Purpose, add_months
from messaging.services import price, render
from outreach.preview import SendPreview, balance_of

PREVIEW_BATCH = 500


def _state(purpose: str, channel: str, action: str, **extra) -> Exists:
    return Exists(ConsentState.objects.filter(client=OuterRef("pk"), purpose=purpose, channel=channel, action=action,
                                              **extra))


def segment(campaign: Campaign) -> QuerySet[Client]:
    """The salon's clients in the campaign's lifecycle segments (before any consent filter)."""
    return Client.objects.filter(salon_id=campaign.salon_id, lifecycle__in=list(campaign.segments))


def audience(campaign: Campaign, *, now: datetime | None = None) -> QuerySet[Client]:
    """Clients the campaign may still message now, in one query (SPEC §3, read as sets).

    Agrees with `decide` for marketing and personalised suggestions; re-permission also leaves out
    whoever opted out (seed 003). Clients already taken by this campaign are excluded.
    """
    now = now or timezone.now()
    salon, channel = campaign.salon, campaign.channel
    contact = ~Q(phone="") if channel == Channel.SMS else ~Q(email="")
    queryset = segment(campaign).filter(contact, erased_at__isnull=True, is_restricted=False,
                                        **{f"{channel}_suppression": ""})
    if campaign.kind == Campaign.Kind.REPERMISSION:
        cooldown = now - timedelta(days=salon.consent_request_cooldown_days)
        queryset = queryset.filter(
            Q(consent_requested_at__isnull=True) | Q(consent_requested_at__lte=cooldown),
            ~_state(Purpose.MARKETING, channel, Action.WITHDRAWN),
            ~_state(Purpose.DATA_PROCESSING, "", Action.WITHDRAWN),
        )
    else:
        fresh = {}
        if salon.consent_validity_months is not None:
            fresh = {"occurred_at__gt": add_months(now, -salon.consent_validity_months)}
        marketing = _state(Purpose.MARKETING, channel, Action.GRANTED, **fresh)
        if channel == Channel.EMAIL and salon.email_soft_opt_in:
            never_asked = ~Exists(ConsentState.objects.filter(client=OuterRef("pk"), purpose=Purpose.MARKETING,
                                                              channel=channel))
            marketing = marketing | (Q(last_visit__isnull=False) & never_asked)
        queryset = queryset.filter(_state(Purpose.DATA_PROCESSING, "", Action.GRANTED), marketing)
        if campaign.kind == Campaign.Kind.PERSONALISED_SUGGESTION:
            queryset = queryset.filter(_state(Purpose.PERSONALISED, "", Action.GRANTED, **fresh))
    if campaign.pk:
        queryset = queryset.exclude(
            Exists(CampaignRecipient.objects.filter(campaign_id=campaign.pk, client=OuterRef("pk")))
        )
    return queryset


def unit_prices(campaign: Campaign, languages) -> dict[str, int]:
    """Credits per message in each language, priced from the really rendered text."""
    salon = campaign.salon
    sample = Client(salon=salon, first_name="Anna")
    prices = {}
    for language in languages:
        subject, text = campaign.text_for(language)
        _subject, body = render(kind=campaign.message_kind, channel=campaign.channel, language=language,
                                context={"salon": salon, "client": sample, "link": form_url("x" * 22),
                                         "text": text, "subject": subject})
        prices[language] = price(salon, campaign.channel, body)[2]
    return prices


def preview(campaign: Campaign, *, now: datetime | None = None) -> SendPreview:
    """Eligible count, skipped count by reason and the credit cost against the balance.

    Eligible and cost come from grouped queries over the audience; the reasons come from the send
    policy run over the rest of the segment in batches, so the staff read the policy's own sentences.
    """
    now = now or timezone.now()
    result = SendPreview(channel=campaign.channel)
    chosen = audience(campaign, now=now)
    by_language = dict(chosen.order_by().values_list("language").annotate(n=Count("pk")))
    result.eligible = sum(by_language.values())
    prices = unit_prices(campaign, by_language)
    result.cost = sum(prices[language] * n for language, n in by_language.items())
    result.balance = balance_of(campaign.salon_id)

    rest = segment(campaign).exclude(pk__in=chosen.values("pk"))
    if campaign.pk:
        already = CampaignRecipient.objects.filter(campaign_id=campaign.pk)
        done = already.count()
        if done:
            result.skipped[_("Already messaged by this campaign.")] = done
        rest = rest.exclude(pk__in=already.values("client_id"))
    kind = campaign.message_kind
    outreach = campaign.kind == Campaign.Kind.REPERMISSION
    last_pk = 0
    while True:
        batch = list(rest.filter(pk__gt=last_pk).select_related("salon").order_by("pk")[:PREVIEW_BATCH])
        if not batch:
            break
        last_pk = batch[-1].pk
        states = client_states(batch, now=now)
        for client in batch:
            decision = decide(states[client.pk], kind, campaign.channel, repermission_outreach=outreach)
            if decision.allowed and kind == MessageKind.CONSENT_REQUEST:
                result.skipped[_("The client opted out before (withdrew marketing or data processing).")] += 1
            else:
                result.skipped[str(decision.sentence)] += 1
    return result
