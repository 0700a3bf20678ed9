from django.contrib import admin

from .models import Communication


@admin.register(Communication)
class CommunicationAdmin(admin.ModelAdmin):
    list_display = ("kind", "direction", "channel", "occurred_at", "author", "deal")
    list_filter = ("kind", "channel")
    raw_id_fields = ("author", "contact", "deal")
