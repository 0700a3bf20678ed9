"""Deal.next_step_due: the due time of the deal's earliest open task, for the board's sort by
next step; filled from the open tasks before its indexes are built."""

from django.conf import settings
from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def fill(apps, schema_editor):
    """Only deals with an open task get a value; every other deal keeps None (no next step)."""
    Deal = apps.get_model("sales", "Deal")
    Task = apps.get_model("activities", "Task")
    earliest = (
        Task.objects.filter(
            workspace_id=OuterRef("workspace_id"), deal_id=OuterRef("pk"), done_at__isnull=True
        )
        .order_by("due_at")
        .values("due_at")[:1]
    )
    with_open_task = Task.objects.filter(done_at__isnull=True, deal_id__isnull=False)
    Deal.objects.filter(id__in=with_open_task.values("deal_id")).update(
        next_step_due=Subquery(earliest)
    )


class Migration(migrations.Migration):
    dependencies = [
        ("activities", "0003_task_deal_index_by_workspace"),
        ("clients", "0002_company_custom_contact_custom_contact_timezone_and_more"),
        ("core", "0002_historicalcustomfield_customfield"),
        ("sales", "0005_deal_import"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="deal",
            name="next_step_due",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop, elidable=True),
        migrations.AddIndex(
            model_name="deal",
            index=models.Index(
                fields=["workspace", "stage", "next_step_due", "id"], name="deal_stage_next_step"
            ),
        ),
        migrations.AddIndex(
            model_name="deal",
            index=models.Index(
                fields=["workspace", "owner", "stage", "next_step_due", "id"],
                name="deal_owner_stage_next_step",
            ),
        ),
    ]
