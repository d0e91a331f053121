"""The salon settings form: the clients' phone number is read with the salon's own country."""

from django import forms
from django.utils.translation import gettext_lazy as _

from core.forms import RegionalPhoneFormMixin

from .models import Salon


class SalonForm(RegionalPhoneFormMixin, forms.ModelForm):
    phone_field = "contact_phone"
    contact_phone = forms.CharField(
        label=_("phone for clients"), required=False, max_length=32,
        help_text=_("Shown to clients wherever they are told to call the salon. National numbers are read "
                    "with the salon's country; others need their +prefix."),
    )

    class Meta:
        model = Salon
        # What this form itself handles; the admin adds the other fields of its fieldsets.
        fields = ["phone_region", "legal_name", "address", "contact_phone", "contact_email"]

    def phone_region(self, cleaned):
        return cleaned.get("phone_region") or self.instance.phone_region
