from django.contrib import admin

from desk.admin.salons import ReadOnlyAdmin
from messaging.models import Message


@admin.register(Message)
class MessageAdmin(ReadOnlyAdmin):
    """The outbox: what was sent, blocked or held, why, and what it cost."""

    list_display = ["created_at", "client", "kind", "channel", "status", "reason_text", "segments", "cost",
                    "error_code", "salon"]
    list_filter = ["status", "kind", "channel", "created_at"]
    search_fields = ["client__first_name", "client__last_name", "provider_id", "recipient"]
    list_select_related = ["client", "salon"]
    date_hierarchy = "created_at"
