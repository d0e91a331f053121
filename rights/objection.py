"""Objection to direct marketing (GDPR art. 21(2)-(3)): it ends all marketing, at once and on every channel."""

from dataclasses import replace

from clients.models import Client
from consents.models import ConsentEvent, Source
from consents.services import ConsentChange, Evidence, record_consent
from core.vocabulary import CONSENT_CHANNELS, Purpose

OBJECTION_NOTE = "Objection to direct marketing (GDPR art. 21)"


def object_to_marketing(
    *, client: Client, by=None, source: str = Source.STAFF_UPDATE, evidence: Evidence | None = None
) -> list[ConsentEvent]:
    """Withdraw marketing on every channel and personalised suggestions in one register transaction.

    Every withdrawal is written, even of something already withdrawn or never asked: the entries
    are the proof of the objection. Staff sources must name the staff member (`by`).
    """
    changes = [ConsentChange(Purpose.MARKETING, False, channel) for channel in sorted(CONSENT_CHANNELS)]
    changes.append(ConsentChange(Purpose.PERSONALISED, False))
    evidence = evidence or Evidence()
    if not evidence.note:
        evidence = replace(evidence, note=OBJECTION_NOTE)
    return record_consent(client=client, changes=changes, source=source, actor=by, evidence=evidence)
