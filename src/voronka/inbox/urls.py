from django.urls import path

from . import views

app_name = "inbox"
urlpatterns = [
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
