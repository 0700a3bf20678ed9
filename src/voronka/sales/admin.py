from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import Deal, Pipeline, Stage, StageChange


class StageInline(admin.TabularInline):
    model = Stage
    fields = ("name", "position", "kind", "normal_days", "is_archived")
    extra = 0


@admin.register(Pipeline)
class PipelineAdmin(SimpleHistoryAdmin):
    list_display = ("name", "position", "is_inbound", "is_archived", "workspace")
    inlines = [StageInline]


@admin.register(Deal)
class DealAdmin(SimpleHistoryAdmin):
    list_display = ("title", "pipeline", "stage", "owner", "amount", "stage_entered_at")
    list_filter = ("pipeline", "stage__kind")
    search_fields = ("title",)
    raw_id_fields = ("owner", "assistant", "company", "contact", "stage", "pipeline")


@admin.register(StageChange)
class StageChangeAdmin(admin.ModelAdmin):
    """Stage history is append-only: shown, never edited."""

    list_display = ("deal", "from_stage", "to_stage", "changed_at", "changed_by")
    raw_id_fields = ("deal",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
