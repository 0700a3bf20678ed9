from django.urls import path

from . import views

app_name = "planning"
urlpatterns = [
    path("plan/", views.targets, name="targets"),
    path("plan/targets/<int:target_id>/", views.targets, name="target"),
    path("plan/targets/<int:target_id>/override/", views.target_override, name="override"),
    path("plan/targets/<int:target_id>/split/", views.target_split, name="split"),
    path("plan/fact/", views.fact, name="fact"),
]
