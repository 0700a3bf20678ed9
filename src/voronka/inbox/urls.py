from django.urls import path

from . import channel_views, inbox_views, sitechat_views, telephony_views, views, webhooks
from .mail import views as mail_views

app_name = "inbox"
urlpatterns = [
    path("hooks/<slug:kind>/<str:key>/", webhooks.webhook, name="webhook"),
    path(
        "hooks/<slug:kind>/<str:key>/events/<path:event>",
        webhooks.webhook,
        name="webhook_event",
    ),
    path("widget/widget.css", sitechat_views.styles, name="widget_styles"),
    path("widget/<str:key>.js", sitechat_views.script, name="widget_script"),
    path("widget/<str:key>/config", sitechat_views.config, name="widget_config"),
    path("widget/<str:key>/session", sitechat_views.session, name="widget_session"),
    path("widget/<str:key>/messages", sitechat_views.message, name="widget_message"),
    path("widget/<str:key>/poll", sitechat_views.poll, name="widget_poll"),
    path("widget/<str:key>/contact", sitechat_views.contact, name="widget_contact"),
    path("widget/<str:key>/offline", sitechat_views.offline, name="widget_offline"),
    path("inbox/", inbox_views.inbox, name="inbox"),
    path("inbox/poll/", inbox_views.inbox_poll, name="inbox_poll"),
    path("inbox/badge/", inbox_views.badge, name="badge"),
    path(
        "settings/message-templates/",
        inbox_views.message_templates,
        name="settings_message_templates",
    ),
    path(
        "settings/message-templates/<int:template_id>/",
        inbox_views.message_template_edit,
        name="settings_message_template_edit",
    ),
    path(
        "settings/message-templates/<int:template_id>/delete/",
        inbox_views.message_template_delete,
        name="settings_message_template_delete",
    ),
    path("inbox/<int:conversation_id>/", inbox_views.conversation_detail, name="conversation"),
    path(
        "inbox/<int:conversation_id>/poll/",
        inbox_views.conversation_poll,
        name="conversation_poll",
    ),
    path(
        "inbox/<int:conversation_id>/reply/",
        inbox_views.conversation_reply,
        name="conversation_reply",
    ),
    path(
        "inbox/<int:conversation_id>/assign/",
        inbox_views.conversation_assign,
        name="conversation_assign",
    ),
    path(
        "inbox/<int:conversation_id>/state/",
        inbox_views.conversation_state,
        name="conversation_state",
    ),
    path(
        "inbox/attachments/<int:attachment_id>/",
        inbox_views.attachment_download,
        name="attachment",
    ),
    path("settings/channels/", channel_views.channels, name="settings_channels"),
    path("settings/channels/new/", channel_views.channel_create, name="settings_channel_create"),
    path(
        "settings/channels/<int:channel_id>/",
        channel_views.channel_edit,
        name="settings_channel_edit",
    ),
    path(
        "settings/channels/<int:channel_id>/register-webhook/",
        channel_views.channel_register_webhook,
        name="settings_channel_register_webhook",
    ),
    path("settings/dead-letters/", channel_views.dead_letters, name="settings_dead_letters"),
    path(
        "settings/dead-letters/<int:letter_id>/",
        channel_views.dead_letter_detail,
        name="settings_dead_letter",
    ),
    path(
        "settings/dead-letters/<int:letter_id>/replay/",
        channel_views.dead_letter_replay,
        name="settings_dead_letter_replay",
    ),
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
    path(
        "communications/<int:comm_id>/recording/upload/",
        telephony_views.communication_attach_recording,
        name="communication_attach_recording",
    ),
    path("calls/place/", telephony_views.place_call, name="place_call"),
    path("deals/<int:deal_id>/email/", mail_views.deal_email, name="deal_email"),
    path(
        "settings/channels/<int:channel_id>/mailbox/owner/",
        mail_views.mailbox_owner,
        name="settings_mailbox_owner",
    ),
    path(
        "settings/channels/<int:channel_id>/mailbox/fetch/",
        mail_views.mailbox_fetch,
        name="settings_mailbox_fetch",
    ),
]
