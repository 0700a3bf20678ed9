from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InboxConfig(AppConfig):
    name = "voronka.inbox"
    label = "inbox"
    verbose_name = _("Inbox")

    def ready(self):
        from django.db.models.signals import post_save

        from .media import on_communication_saved
        from .models import Communication

        post_save.connect(
            on_communication_saved, sender=Communication, dispatch_uid="inbox.media.fetch"
        )
