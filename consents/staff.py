"""Consent recorded by staff: what a client agreed to at the desk or on a signed paper form."""

import hashlib
from dataclasses import replace

from django import forms
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.vocabulary import Purpose

from .forms import BOXES, CHANNEL_LABELS, box_name
from .models import ConsentScan, ConsentWording, Source
from .services import ConsentChange, Evidence, record_consent

MAX_SCAN_BYTES = 10 * 1024 * 1024


class RecordConsentForm(forms.Form):
    """Nothing ticked; for each purpose the wording the client was shown; the source; an optional scan."""

    source = forms.ChoiceField(label=_("How was consent given?"),
                               choices=[(Source.IN_PERSON, Source.IN_PERSON.label), (Source.PAPER, Source.PAPER.label)])
    scan = forms.FileField(label=_("Scan of the signed form (optional)"), required=False)

    def __init__(self, *args, client, **kwargs):
        super().__init__(*args, **kwargs)
        self.client = client
        wordings = ConsentWording.objects.filter(Q(salon=client.salon) | Q(salon__isnull=True)).order_by(
            "purpose", "language", "-version"
        )
        for purpose in Purpose.values:
            choices = [(w.pk, f"{w.language} · v{w.version} · {w.title}") for w in wordings if w.purpose == purpose]
            current = next((w.pk for w in wordings if w.purpose == purpose and w.language == client.language), None)
            self.fields[f"wording_{purpose}"] = forms.TypedChoiceField(
                label=_("Wording shown for %(purpose)s") % {"purpose": Purpose(purpose).label},
                choices=choices, coerce=int, initial=current,
            )
        for purpose, channel in BOXES:
            self.fields[box_name(purpose, channel)] = forms.BooleanField(
                required=False, initial=False,
                label=f"{Purpose(purpose).label} · {CHANNEL_LABELS[channel]}",
            )

    def clean_scan(self):
        scan = self.cleaned_data.get("scan")
        if scan and scan.size > MAX_SCAN_BYTES:
            raise forms.ValidationError(_("The scan is larger than 10 MB."))
        return scan

    def clean(self):
        cleaned = super().clean()
        if not any(cleaned.get(box_name(p, c)) for p, c in BOXES):
            raise forms.ValidationError(_("Tick at least one box: what did the client agree to?"))
        return cleaned

    def changes(self) -> list[ConsentChange]:
        wordings = ConsentWording.objects.in_bulk(self.cleaned_data[f"wording_{p}"] for p in Purpose.values)
        return [
            ConsentChange(purpose, True, channel, wordings[self.cleaned_data[f"wording_{purpose}"]])
            for purpose, channel in BOXES
            if self.cleaned_data[box_name(purpose, channel)]
        ]


def record_in_person(*, form: RecordConsentForm, actor, evidence: Evidence) -> list:
    """Store the scan (if any) and record the ticked grants, naming the scan in each entry's evidence."""
    client = form.client
    with transaction.atomic():
        note = evidence.note
        scan_file = form.cleaned_data.get("scan")
        if scan_file:
            digest = hashlib.sha256()
            for chunk in scan_file.chunks():
                digest.update(chunk)
            scan = ConsentScan.objects.create(salon_id=client.salon_id, client=client, file=scan_file,
                                              sha256=digest.hexdigest(), uploaded_by=actor)
            note = f"scan #{scan.pk} sha256 {scan.sha256}"
        return record_consent(
            client=client, changes=form.changes(), source=form.cleaned_data["source"], actor=actor,
            evidence=replace(evidence, note=note),
            skip_unchanged=True,
        )
