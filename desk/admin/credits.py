from django.contrib import admin

from credits.models import CreditAccount, CreditEntry
from desk.admin.salons import ReadOnlyAdmin


@admin.register(CreditAccount)
class CreditAccountAdmin(ReadOnlyAdmin):
    list_display = ["salon", "balance", "low_balance_threshold"]
    list_select_related = ["salon"]


@admin.register(CreditEntry)
class CreditEntryAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "salon", "kind", "amount", "note", "actor"]
    list_filter = ["kind"]
    list_select_related = ["salon", "actor"]
