from django.apps import AppConfig
from django.db.models.signals import post_save, pre_save
from django.utils.translation import gettext_lazy as _


class AnalyticsConfig(AppConfig):
    name = "voronka.analytics"
    label = "analytics"
    verbose_name = _("Analytics")

    def ready(self) -> None:
        # The rollups follow every saved deal, stage change and communication (see rollups.py).
        from voronka.clients.models import Company
        from voronka.inbox.models import Communication
        from voronka.sales.models import Deal, Stage, StageChange

        from . import rollups

        post_save.connect(rollups.deal_saved, sender=Deal, dispatch_uid="analytics_deal")
        post_save.connect(
            rollups.stage_change_saved, sender=StageChange, dispatch_uid="analytics_stage_change"
        )
        post_save.connect(
            rollups.communication_saved, sender=Communication, dispatch_uid="analytics_comm"
        )
        pre_save.connect(
            rollups.company_segment_read, sender=Company, dispatch_uid="analytics_company_segment"
        )
        post_save.connect(rollups.company_saved, sender=Company, dispatch_uid="analytics_company")
        pre_save.connect(rollups.stage_kind_read, sender=Stage, dispatch_uid="analytics_stage_kind")
        post_save.connect(rollups.stage_saved, sender=Stage, dispatch_uid="analytics_stage")
