from django.urls import path

from . import daily_views, meeting_views, views

app_name = "control"
urlpatterns = [
    path("control/", views.screen, name="screen"),
    path("control/violations/", views.violations, name="violations"),
    path("control/meeting/", meeting_views.meeting, name="meeting"),
    path("control/daily/", daily_views.daily, name="daily"),
    path("control/deals/<int:deal_id>/snooze/", views.deal_snooze, name="deal_snooze"),
    path("control/snoozes/<int:snooze_id>/end/", views.snooze_end, name="snooze_end"),
    path("settings/rules/", views.settings_rules, name="settings_rules"),
]
