from django.urls import path

from . import views, webhooks

app_name = "inbox"
urlpatterns = [
    path("hooks/<slug:kind>/<str:key>/", webhooks.webhook, name="webhook"),
    path("communications/new/", views.communication_create, name="communication_create"),
    path(
        "communications/<int:comm_id>/comment/",
        views.communication_comment,
        name="communication_comment",
    ),
    path(
        "communications/<int:comm_id>/recording/",
        views.communication_recording,
        name="communication_recording",
    ),
]
