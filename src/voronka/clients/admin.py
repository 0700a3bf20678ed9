from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import Company, Contact


@admin.register(Company)
class CompanyAdmin(SimpleHistoryAdmin):
    list_display = ("name", "owner", "city", "phone", "workspace")
    search_fields = ("name", "phone", "email", "inn")
    raw_id_fields = ("owner",)


@admin.register(Contact)
class ContactAdmin(SimpleHistoryAdmin):
    list_display = ("first_name", "last_name", "company", "owner", "phone", "email")
    search_fields = ("first_name", "last_name", "phone", "email")
    raw_id_fields = ("owner", "company")
