from django import forms
from django.utils.translation import gettext_lazy as _

from core.contacts import normalise_email
from core.forms import RegionalPhoneFormMixin

from .models import Client


class ClientForm(RegionalPhoneFormMixin, forms.ModelForm):
    """Client form whose phone is read with the salon's region (national formats welcome)."""

    phone = forms.CharField(
        label=_("Phone"), required=False, max_length=32,
        help_text=_("National numbers are read with the salon's country; others need their +prefix."),
    )

    class Meta:
        model = Client
        fields = ["salon", "first_name", "last_name", "phone", "email", "language", "last_visit", "notes"]

    def clean_email(self):
        return normalise_email(self.cleaned_data.get("email", ""))

    def phone_region(self, cleaned):
        salon = cleaned.get("salon") or (self.instance.salon if self.instance.salon_id else None)
        return salon.phone_region if salon is not None else None
