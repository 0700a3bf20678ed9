from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import Task


@admin.register(Task)
class TaskAdmin(SimpleHistoryAdmin):
    list_display = ("goal", "type", "owner", "due_at", "done_at")
    list_filter = ("type",)
    search_fields = ("goal",)
    raw_id_fields = ("owner", "deal", "contact", "created_by")
