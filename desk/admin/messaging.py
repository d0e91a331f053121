from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from desk.admin.salons import ReadOnlyAdmin
from messaging.models import Message
from messaging.services import resend


@admin.register(Message)
class MessageAdmin(ReadOnlyAdmin):
    """The outbox: what was sent, blocked or held, why, and what it cost. Links show redacted: staff can
    send a message again, link included, but never open a client's link."""

    list_display = ["created_at", "client", "kind", "channel", "status", "reason_text", "segments", "cost",
                    "error_code", "salon"]
    list_filter = ["status", "kind", "channel", "created_at"]
    search_fields = ["client__first_name", "client__last_name", "provider_id", "recipient"]
    list_select_related = ["client", "salon"]
    date_hierarchy = "created_at"
    actions = ["send_again"]

    @admin.action(description=_("Send again (the same text and link)"))
    def send_again(self, request, queryset):
        sent = 0
        for message in queryset.select_related("client"):
            try:
                resend(message=message, by=request.user)
            except ValidationError as error:
                self.message_user(request, f"#{message.pk}: {' '.join(error.messages)}", level=messages.ERROR)
            else:
                sent += 1
        if sent:
            self.message_user(request, ngettext("%(n)d message queued again.", "%(n)d messages queued again.",
                                                sent) % {"n": sent})
