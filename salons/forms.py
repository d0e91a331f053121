"""The salon settings form: the clients' phone number is read with the salon's own country."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from clients.phones import parse_phone

from .models import Salon


class SalonForm(forms.ModelForm):
    contact_phone = forms.CharField(
        label=_("phone for clients"), required=False, max_length=32,
        help_text=_("Shown to clients wherever they are told to call the salon. National numbers are read "
                    "with the salon's country; others need their +prefix."),
    )

    class Meta:
        model = Salon
        # What this form itself handles; the admin adds the other fields of its fieldsets.
        fields = ["phone_region", "legal_name", "address", "contact_phone", "contact_email"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and self.instance.contact_phone and not self.is_bound:
            self.initial["contact_phone"] = self.instance.contact_phone.as_international

    def clean(self):
        cleaned = super().clean()
        raw = cleaned.get("contact_phone", "")
        region = cleaned.get("phone_region") or self.instance.phone_region
        if raw and region:
            try:
                cleaned["contact_phone"] = parse_phone(raw, region)
            except ValidationError as error:
                self.add_error("contact_phone", error)
        elif not raw:
            cleaned["contact_phone"] = ""
        return cleaned

    def _post_clean(self):
        # ModelForm would assign the raw string before clean() parsed it; assign the parsed value.
        if "contact_phone" in self.cleaned_data:
            self.instance.contact_phone = self.cleaned_data["contact_phone"]
        super()._post_clean()
