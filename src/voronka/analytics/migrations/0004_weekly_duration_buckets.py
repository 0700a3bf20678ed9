from django.db import migrations


def rebuild_later(apps, schema_editor):
    """Stays of four weeks and more are now counted in whole weeks (``rules.duration_bucket``):
    the rows written so far keep whole days, so the rollups of every workspace are rebuilt by
    the worker's next refresh (``rollups.refresh_workspace``)."""
    apps.get_model("analytics", "RollupMark").objects.update(stale=True)


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0003_product_segment_dimensions"),
    ]

    operations = [
        migrations.RunPython(rebuild_later, migrations.RunPython.noop),
    ]
