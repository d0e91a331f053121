from django import forms
from django.core import signing
from django.utils.translation import gettext_lazy as _

from core.vocabulary import Channel, Purpose

from .models import ConsentWording
from .services import ConsentChange

# The boxes of the consent form, in order: (purpose, channel).
BOXES = [
    (Purpose.DATA_PROCESSING, ""),
    (Purpose.SERVICE, Channel.SMS),
    (Purpose.SERVICE, Channel.EMAIL),
    (Purpose.MARKETING, Channel.SMS),
    (Purpose.MARKETING, Channel.EMAIL),
    (Purpose.PERSONALISED, ""),
]
CHANNEL_LABELS = {Channel.SMS: _("By SMS"), Channel.EMAIL: _("By email"), "": _("I agree")}
SHOWN_SALT = "consents.form.shown-wordings"


def box_name(purpose: str, channel: str) -> str:
    return f"{purpose}_{channel}" if channel else purpose


class ConsentChoicesForm(forms.Form):
    """One unticked box per purpose and channel; remembers which wording versions were shown."""

    shown = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args, salon, wordings: dict[str, ConsentWording], current: dict[tuple[str, str], bool],
                 **kwargs):
        super().__init__(*args, **kwargs)
        self.salon = salon
        self.wordings = wordings
        for purpose, channel in BOXES:
            name = box_name(purpose, channel)
            self.fields[name] = forms.BooleanField(
                required=False, label=CHANNEL_LABELS[channel], initial=current.get((purpose, channel), False)
            )
        self.fields["shown"].initial = signing.dumps({p: w.pk for p, w in wordings.items()}, salt=SHOWN_SALT)

    def groups(self):
        """(wording, [bound fields]) per purpose, for the template."""
        for purpose in Purpose.values:
            fields = [self[box_name(p, c)] for p, c in BOXES if p == purpose]
            yield purpose, self.wordings[purpose], fields

    def clean_shown(self):
        try:
            ids = signing.loads(self.cleaned_data["shown"], salt=SHOWN_SALT)
        except signing.BadSignature:
            raise forms.ValidationError(_("The form was changed on the way. Please reload the page.")) from None
        wordings = {w.purpose: w for w in ConsentWording.objects.filter(pk__in=ids.values())}
        if set(wordings) != set(Purpose.values) or any(
            w.salon_id not in (None, self.salon.pk) or ids.get(w.purpose) != w.pk for w in wordings.values()
        ):
            raise forms.ValidationError(_("The form was changed on the way. Please reload the page."))
        return wordings

    def changes(self, *, withdraw_all: bool = False) -> list[ConsentChange]:
        """Every box as a choice, with the wording version actually shown for its purpose."""
        shown = self.cleaned_data["shown"]
        return [
            ConsentChange(
                purpose, not withdraw_all and self.cleaned_data[box_name(purpose, channel)], channel, shown[purpose]
            )
            for purpose, channel in BOXES
        ]
