from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .models import Client
from .phones import parse_phone
from .services import normalise_email


class RegionalPhoneFormMixin:
    """For a ModelForm whose phone field (a CharField over a PhoneNumberField) is read with a country.

    The subclass names the field in `phone_field` and says which country in `phone_region(cleaned)`.
    """

    phone_field = "phone"

    def phone_region(self, cleaned: dict) -> str | None:
        raise NotImplementedError

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        number = getattr(self.instance, self.phone_field)
        if self.instance.pk and number and not self.is_bound:
            self.initial[self.phone_field] = number.as_international

    def clean(self):
        cleaned = super().clean()
        raw, region = cleaned.get(self.phone_field, ""), self.phone_region(cleaned)
        if raw and region:
            try:
                cleaned[self.phone_field] = parse_phone(raw, region)
            except ValidationError as error:
                self.add_error(self.phone_field, error)
        elif not raw:
            cleaned[self.phone_field] = ""
        return cleaned

    def _post_clean(self):
        # ModelForm would assign the raw string before clean() parsed it; assign the parsed value.
        if self.phone_field in self.cleaned_data:
            setattr(self.instance, self.phone_field, self.cleaned_data[self.phone_field])
        super()._post_clean()


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
