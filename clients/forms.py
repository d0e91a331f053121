from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .models import Client
from .phones import parse_phone
from .services import normalise_email


class ClientForm(forms.ModelForm):
    """Client form whose phone is read with the salon's region (national formats welcome)."""

    phone = forms.CharField(
        label=_("Phone"), required=False, max_length=32,
        help_text=_("National numbers are read with the salon's country; others need their +prefix."),
    )

    class Meta:
        model = Client
        fields = ["salon", "first_name", "last_name", "phone", "email", "language", "last_visit", "notes"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and self.instance.phone and not self.is_bound:
            self.initial["phone"] = self.instance.phone.as_international

    def clean_email(self):
        return normalise_email(self.cleaned_data.get("email", ""))

    def clean(self):
        cleaned = super().clean()
        salon = cleaned.get("salon") or (self.instance.salon if self.instance.salon_id else None)
        raw = cleaned.get("phone", "")
        if salon is not None and raw:
            try:
                cleaned["phone"] = parse_phone(raw, salon.phone_region)
            except ValidationError as error:
                self.add_error("phone", error)
        elif not raw:
            cleaned["phone"] = ""
        return cleaned

    def _post_clean(self):
        # ModelForm would assign the raw string before clean() parsed it; assign the parsed value.
        if "phone" in self.cleaned_data:
            self.instance.phone = self.cleaned_data["phone"]
        super()._post_clean()
