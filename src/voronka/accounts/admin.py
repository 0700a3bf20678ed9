from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from .models import ApiToken, Team, User


@admin.register(User)
class UserAdmin(DjangoUserAdmin, SimpleHistoryAdmin):
    list_display = (
        "username",
        "first_name",
        "last_name",
        "role",
        "team",
        "is_active",
        "last_login",
    )
    list_filter = ("role", "team", "is_active")
    fieldsets = DjangoUserAdmin.fieldsets + (
        (_("Voronka"), {"fields": ("workspace", "role", "team", "language", "timezone", "phone")}),
    )


@admin.register(Team)
class TeamAdmin(SimpleHistoryAdmin):
    list_display = ("name", "lead", "workspace")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "user", "hint", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("key_hash", "hint", "last_used_at")
    list_filter = ("revoked_at",)
