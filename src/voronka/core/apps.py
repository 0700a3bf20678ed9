from django.apps import AppConfig
from django.db.backends.signals import connection_created
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "voronka.core"
    label = "core"
    verbose_name = _("Workspace")

    def ready(self):
        from . import sqlite

        connection_created.connect(sqlite.install, dispatch_uid="voronka-sqlite-like")
