from django.urls import path

from . import review_views, task_views, views

app_name = "activities"
urlpatterns = [
    path("my-day/", views.my_day, name="my_day"),
    path("tasks/", views.task_list, name="task_list"),
    path("tasks/new/", task_views.task_create, name="task_create"),
    path("tasks/<int:task_id>/edit/", task_views.task_edit, name="task_edit"),
    path("tasks/<int:task_id>/complete/", task_views.task_complete, name="task_complete"),
    path(
        "communications/<int:comm_id>/review-flag/",
        review_views.review_flag,
        name="review_flag",
    ),
]
