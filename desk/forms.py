from datetime import date

from django import forms
from django.utils.translation import gettext_lazy as _

# The agenda's calendar: far enough for any real salon, and clear of the limits of date arithmetic.
FIRST_DAY = date(1970, 1, 1)
LAST_DAY = date(2999, 12, 31)


class AgendaDayForm(forms.Form):
    """The day the agenda shows (`?day=YYYY-MM-DD`); the browser's own date picker, no JavaScript."""

    day = forms.DateField(
        label=_("Go to date"), required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def clean_day(self):
        day = self.cleaned_data["day"]
        if day is not None and not FIRST_DAY <= day <= LAST_DAY:
            raise forms.ValidationError(
                _("Choose a date between %(first)s and %(last)s."),
                params={"first": FIRST_DAY.isoformat(), "last": LAST_DAY.isoformat()},
            )
        return day
