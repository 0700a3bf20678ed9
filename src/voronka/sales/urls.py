from django.urls import path

from . import import_views, kept_list_views, settings_views, views

app_name = "sales"
urlpatterns = [
    # The board and deals (views.py)
    path("board/", views.board, name="board"),
    path("board/column/<int:stage_id>/", views.board_column, name="board_column"),
    path("deals/", views.deal_list, name="deal_list"),
    path("deals/new/", views.deal_create, name="deal_create"),
    path("deals/import/", import_views.deal_import, name="deal_import"),
    path("deals/<int:deal_id>/", views.deal_detail, name="deal_detail"),
    path("deals/<int:deal_id>/edit/", views.deal_edit, name="deal_edit"),
    path("deals/<int:deal_id>/move/", views.deal_move, name="deal_move"),
    # Settings: pipelines and stages (settings_views.py)
    path("settings/pipelines/", settings_views.pipelines, name="settings_pipelines"),
    path(
        "settings/pipelines/<int:pipeline_id>/",
        settings_views.pipeline_detail,
        name="settings_pipeline",
    ),
    path(
        "settings/pipelines/<int:pipeline_id>/stages/reorder/",
        settings_views.stage_reorder,
        name="settings_stage_reorder",
    ),
    path("settings/stages/<int:stage_id>/", settings_views.stage_edit, name="settings_stage_edit"),
    path(
        "settings/stages/<int:stage_id>/delete/",
        settings_views.stage_delete,
        name="settings_stage_delete",
    ),
    # Settings: custom fields, loss reasons, task goals (settings_views.py)
    path("settings/fields/", settings_views.custom_fields, name="settings_fields"),
    path(
        "settings/fields/<int:field_id>/",
        settings_views.custom_field_edit,
        name="settings_field_edit",
    ),
    path("settings/loss-reasons/", settings_views.loss_reasons, name="settings_loss_reasons"),
    path("settings/goals/", settings_views.task_goals, name="settings_goals"),
    # Settings: products and client segments (kept_list_views.py)
    path("settings/products/", kept_list_views.products, name="settings_products"),
    path("settings/segments/", kept_list_views.segments, name="settings_segments"),
]
