"""The consent register's one writer, and the helpers that describe what is recorded."""

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from clients.models import Client
from core.vocabulary import CONSENT_CHANNELS, PER_CHANNEL_PURPOSES, Purpose
from salons.models import Salon

from .chain import GENESIS_HASH, entry_hash
from .merkle import Frontier
from .models import STAFF_SOURCES, Action, ConsentEvent, ConsentState, ConsentWording, RegisterTree, Source


@dataclass(frozen=True)
class ConsentChange:
    """One choice: a purpose (on a channel where it is per channel) granted or withdrawn."""

    purpose: str
    granted: bool
    channel: str = ""
    wording: ConsentWording | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.purpose, self.channel)


@dataclass(frozen=True)
class Evidence:
    """What proves who acted and how: the request's IP, user agent and id, or a note."""

    ip: str = ""
    user_agent: str = ""
    request_id: str = ""
    note: str = ""

    @classmethod
    def from_request(cls, request, note: str = "") -> "Evidence":
        from core.web import client_ip

        meta = request.META
        return cls(
            ip=client_ip(request),
            user_agent=meta.get("HTTP_USER_AGENT", "")[:512],
            request_id=meta.get("HTTP_X_REQUEST_ID", "")[:64],
            note=note,
        )


def _validate(client: Client, changes: list[ConsentChange], source: str, actor, evidence: Evidence) -> str:
    """Check every change before anything is written; returns the normalised IP."""
    if source not in Source.values:
        raise ValidationError(_("Unknown consent source “%(source)s”.") % {"source": source})
    if source in STAFF_SOURCES and actor is None:
        raise ValidationError(_("Consent recorded by staff must name the staff member."))
    if not changes:
        raise ValidationError(_("Nothing to record."))
    seen = set()
    for change in changes:
        if change.purpose not in Purpose.values:
            raise ValidationError(_("Unknown purpose “%(purpose)s”.") % {"purpose": change.purpose})
        if change.purpose in PER_CHANNEL_PURPOSES:
            if change.channel not in CONSENT_CHANNELS:
                raise ValidationError(
                    _("%(purpose)s consent is given per channel: choose SMS, email or phone.")
                    % {"purpose": change.purpose}
                )
        elif change.channel:
            raise ValidationError(
                _("%(purpose)s consent is not given per channel.") % {"purpose": change.purpose}
            )
        if change.key in seen:
            raise ValidationError(_("The same purpose and channel appear twice in one recording."))
        seen.add(change.key)
        if change.granted:
            if client.is_erased:
                raise ValidationError(_("An erased client cannot grant consent."))
            if change.wording is None:
                raise ValidationError(_("A grant must name the wording the client was shown."))
        wording = change.wording
        if wording is not None:
            if wording.purpose != change.purpose:
                raise ValidationError(_("The wording shown belongs to another purpose."))
            if wording.salon_id not in (None, client.salon_id):
                raise ValidationError(_("The wording shown belongs to another salon."))
    if evidence.ip:
        try:
            return ipaddress.ip_address(evidence.ip.strip()).compressed
        except ValueError:
            raise ValidationError(_("“%(ip)s” is not an IP address.") % {"ip": evidence.ip}) from None
    return ""


def record_consent(
    *,
    client: Client,
    changes: Iterable[ConsentChange],
    source: str,
    actor=None,
    evidence: Evidence = Evidence(),
    occurred_at: datetime | None = None,
    skip_unchanged: bool = False,
) -> list[ConsentEvent]:
    """Append register entries for a client's choices and update the current state, atomically.

    The only writer of the consent register. Appends are serialised per salon so the hash chain
    has no forks. With `skip_unchanged`, a choice equal to the current state writes nothing.
    Raises ValidationError before writing anything when a change is not acceptable.
    """
    changes = list(changes)
    ip = _validate(client, changes, source, actor, evidence)
    now = timezone.now()
    occurred_at = occurred_at or now
    if occurred_at > now:
        raise ValidationError(_("Consent cannot be recorded as given in the future."))

    with transaction.atomic():
        # FOR NO KEY UPDATE serialises appends per salon without blocking inserts that
        # merely reference the salon (they take FOR KEY SHARE).
        list(Salon.objects.select_for_update(no_key=True).filter(pk=client.salon_id).values_list("pk"))
        last = (
            ConsentEvent.objects.filter(salon_id=client.salon_id)
            .order_by("-seq")
            .values_list("seq", "entry_hash")
            .first()
        )
        seq, prev_hash = last if last else (0, GENESIS_HASH)
        states = {(s.purpose, s.channel): s for s in ConsentState.objects.filter(client=client)}

        events = []
        for change in changes:
            action = Action.GRANTED if change.granted else Action.WITHDRAWN
            state = states.get(change.key)
            if skip_unchanged and state is not None and state.action == action:
                continue  # a refusal of something never asked is still written: it is an explicit choice
            seq += 1
            fields = {
                "seq": seq,
                "salon_id": client.salon_id,
                "client_id": client.pk,
                "purpose": change.purpose,
                "channel": change.channel,
                "action": action.value,
                "occurred_at": occurred_at,
                "recorded_at": now,
                "wording_id": change.wording.pk if change.wording else None,
                "wording_sha256": change.wording.sha256 if change.wording else "",
                "source": source,
                "actor_id": actor.pk if actor is not None else None,
                "ip": ip,
                "user_agent": evidence.user_agent[:512],
                "request_id": evidence.request_id[:64],
                "note": evidence.note[:255],
            }
            digest = entry_hash(prev_hash=prev_hash, **fields)
            events.append(ConsentEvent(prev_hash=prev_hash, entry_hash=digest, **fields))
            prev_hash = digest
        if not events:
            return []
        ConsentEvent.objects.bulk_create(events)
        _grow_tree(client.salon_id, events)

        created = []
        for event in events:
            key = (event.purpose, event.channel)
            state = states.get(key)
            if state is None:
                states[key] = ConsentState(
                    salon_id=event.salon_id, client_id=event.client_id, purpose=event.purpose,
                    channel=event.channel, action=event.action, occurred_at=event.occurred_at, event=event,
                )
                created.append(states[key])
            elif event.occurred_at >= state.occurred_at:
                # An import of an older choice never overrides a newer one.
                state.action, state.occurred_at, state.event = event.action, event.occurred_at, event
                if state.pk is not None:
                    state.save(update_fields=["action", "occurred_at", "event"])
        ConsentState.objects.bulk_create(created)
    return events


def _grow_tree(salon_id: int, events: list[ConsentEvent]) -> None:
    """Append the new entries' hashes to the salon's Merkle tree head (under the salon lock the writer holds).

    A tree that does not end where these entries begin (a register older than the tree) is rebuilt from
    the register first, so the head always covers every entry.
    """
    tree = RegisterTree.objects.filter(salon_id=salon_id).first() or RegisterTree(salon_id=salon_id)
    frontier = tree.frontier()
    if frontier.size != events[0].seq - 1:
        frontier = Frontier()
        for stored in (ConsentEvent.objects.filter(salon_id=salon_id, seq__lt=events[0].seq).order_by("seq")
                       .values_list("entry_hash", flat=True).iterator(chunk_size=5000)):
            frontier.append(bytes.fromhex(stored))
    for event in events:
        frontier.append(bytes.fromhex(event.entry_hash))
    tree.keep(frontier)
    if tree._state.adding:
        tree.save(force_insert=True)
    else:
        tree.save(update_fields=["size", "edge", "updated_at"])


def publish_wording(*, salon: Salon | None, purpose: str, language: str, title: str, text: str) -> ConsentWording:
    """Add a new version of a purpose's wording in a language (the old ones stay, frozen if used).

    The version follows the highest one shown for that purpose and language, shipped or the salon's.
    """
    from django.db.models import Max, Q

    with transaction.atomic():
        latest = ConsentWording.objects.filter(
            Q(salon=salon) | Q(salon__isnull=True), purpose=purpose, language=language
        ).aggregate(v=Max("version"))["v"] or 0
        wording = ConsentWording(salon=salon, purpose=purpose, language=language, version=latest + 1,
                                 title=title.strip(), text=text.strip())
        wording.full_clean()
        wording.save()
    return wording
