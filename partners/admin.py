from django.contrib import admin

from partners.models import Term


@admin.register(Term)
class TermAdmin(admin.ModelAdmin):
    """The coded lists: edit a label, order it, or retire it (never delete one in use)."""

    list_display = ["label", "list", "order", "active"]
    list_editable = ["order", "active"]
    list_filter = ["list", "active"]
    search_fields = ["label"]
