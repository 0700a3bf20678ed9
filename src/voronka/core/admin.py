"""Django's admin, for operators' work: open to the workspace owner only, not the product's UI."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import Workspace


def _owner_only(request) -> bool:
    user = request.user
    return bool(user.is_active and user.is_staff and getattr(user, "role", None) == "owner")


admin.site.has_permission = _owner_only
admin.site.site_header = _("Voronka administration")
admin.site.site_title = "Voronka"


@admin.register(Workspace)
class WorkspaceAdmin(admin.ModelAdmin):
    list_display = ("name", "timezone", "currency", "created_at")
