"""Rollups the analytics read instead of the raw history: counts per day in the workspace's time
zone, kept up to date by ``voronka.analytics.rollups`` (see there why a job, not the actions).

Every table is keyed by the workspace first (the sharding key) and the local day second, so a
period's figures are one index range. Ids are plain integers (no foreign keys): a rollup row
outlives nothing and constrains nothing; 0 stands for "none" (a deal's first entry has no
previous stage, a communication may have no author). Amounts are whole kopecks (cents) in a
64-bit integer, so sums are exact on SQLite as on PostgreSQL.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from voronka.core.models import Workspace


class _Rollup(models.Model):
    """What every deal rollup is keyed by: the workspace, the pipeline, the deal's owner and the
    stage."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    pipeline_id = models.BigIntegerField()
    owner_id = models.BigIntegerField()
    stage_id = models.BigIntegerField()

    class Meta:
        abstract = True


class _DayRollup(_Rollup):
    """A deal rollup per local day, by every dimension the funnel filters by: the deal's source,
    its product and its client's segment (0: none)."""

    day = models.DateField()
    source = models.CharField(max_length=120, blank=True)
    product_id = models.BigIntegerField(default=0)
    segment_id = models.BigIntegerField(default=0)

    class Meta:
        abstract = True


class _Entries(models.Model):
    """Deals entering a stage: with which loss reason (lost stages), their amount, and how many
    of these entries were followed by a win of the deal."""

    loss_reason = models.CharField(max_length=255, blank=True)
    entered = models.IntegerField(default=0)
    amount_cents = models.BigIntegerField(default=0)
    later_won = models.IntegerField(default=0)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.when} stage {self.stage_id}: {self.entered}"


class _Exits(models.Model):
    """Stays in a stage that ended, counted when the stay began, by the stage left to."""

    to_stage_id = models.BigIntegerField()
    left = models.IntegerField(default=0)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.when} stage {self.stage_id} → {self.to_stage_id}: {self.left}"


class _Durations(models.Model):
    """A histogram of durations: finished stays in a stage (metric "stage", when the stay
    began) and cycles from a deal's creation to its win (metric "cycle", when it was won).

    ``hours`` is the duration's bucket (``rules.duration_bucket``): whole hours below three
    days, whole days (in hours) below four weeks, whole weeks (in hours) above; medians and
    percentiles are exact at that resolution.
    """

    metric = models.CharField(max_length=5)
    hours = models.IntegerField()
    count = models.IntegerField(default=0)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.when} stage {self.stage_id} {self.metric} {self.hours} h: {self.count}"


#: The daily tables' key after the workspace, the pipeline and the day.
_DAY_KEY = ["owner_id", "source", "stage_id"]
_FILTERS = ["product_id", "segment_id"]


class StageEntryDay(_DayRollup, _Entries):
    """Stage entries per day, by the stage the deal came from (0: its creation)."""

    from_stage_id = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("stage entries per day")
        verbose_name_plural = _("stage entries per day")
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "workspace",
                    "pipeline_id",
                    "day",
                    *_DAY_KEY,
                    "from_stage_id",
                    "loss_reason",
                    *_FILTERS,
                ],
                name="stageentryday_key",
            )
        ]
        indexes = [
            models.Index(fields=["workspace", "owner_id", "day"], name="stageentryday_owner_day"),
        ]

    @property
    def when(self):
        return self.day


class StageExitDay(_DayRollup, _Exits):
    """Stage exits per day of the stay's start."""

    class Meta:
        verbose_name = _("stage exits per day")
        verbose_name_plural = _("stage exits per day")
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "pipeline_id", "day", *_DAY_KEY, "to_stage_id", *_FILTERS],
                name="stageexitday_key",
            )
        ]

    @property
    def when(self):
        return self.day


class DurationDay(_DayRollup, _Durations):
    """Durations per day (of the stay's start, of the win)."""

    class Meta:
        verbose_name = _("durations per day")
        verbose_name_plural = _("durations per day")
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "workspace",
                    "pipeline_id",
                    "day",
                    *_DAY_KEY,
                    "metric",
                    "hours",
                    *_FILTERS,
                ],
                name="durationday_key",
            )
        ]

    @property
    def when(self):
        return self.day


class _Communications(models.Model):
    """Communications of an author by kind, direction and outcome: how many, their seconds, and
    how many carry a comment that counts under the rules of work."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    author_id = models.BigIntegerField()
    kind = models.CharField(max_length=8)
    direction = models.CharField(max_length=3, blank=True)
    outcome = models.CharField(max_length=10, blank=True)
    count = models.IntegerField(default=0)
    seconds = models.BigIntegerField(default=0)
    commented = models.IntegerField(default=0)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.when} {self.kind} by {self.author_id}: {self.count}"


class CommunicationDay(_Communications):
    """Communications per author and local day."""

    day = models.DateField()

    class Meta:
        verbose_name = _("communications per day")
        verbose_name_plural = _("communications per day")
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "day", "author_id", "kind", "direction", "outcome"],
                name="communicationday_key",
            )
        ]
        indexes = [
            models.Index(fields=["workspace", "author_id", "day"], name="communicationday_author"),
        ]

    @property
    def when(self):
        return self.day


class DealFootprint(models.Model):
    """What one deal currently adds to the rollups, so that a change to the deal (a move, a new
    owner, amount, source or product, its client's new segment) is applied as the difference
    between its old and new footprint."""

    deal_id = models.BigIntegerField(primary_key=True)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    company_id = models.BigIntegerField(default=0)
    data = models.JSONField(default=list)

    class Meta:
        verbose_name = _("deal footprint")
        verbose_name_plural = _("deal footprints")
        indexes = [models.Index(fields=["workspace", "company_id"], name="dealfootprint_company")]

    def __str__(self) -> str:
        return f"deal {self.deal_id}"


class RollupMark(models.Model):
    """How far the incremental job has read a workspace's stage changes and communications (by
    id), and the settings the rollups were computed with (a change to them rebuilds them)."""

    workspace = models.OneToOneField(Workspace, on_delete=models.CASCADE, related_name="+")
    stage_change_id = models.BigIntegerField(default=0)
    communication_id = models.BigIntegerField(default=0)
    timezone = models.CharField(max_length=64, blank=True)
    min_comment_length = models.IntegerField(default=0)
    rebuilt_at = models.DateTimeField(null=True, blank=True)
    #: The rollups no longer say what the history says and are to be rebuilt whole: a stage's
    #: kind changed, or an upgrade added a dimension.
    stale = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("rollup mark")
        verbose_name_plural = _("rollup marks")

    def __str__(self) -> str:
        return f"workspace {self.workspace_id}"


# -- Whole months, quarters and years ------------------------------------------------------------
#
# A long period read from the daily rows above reads about as many rows as the history holds
# (the keys are nearly as fine as the events). The tables below hold the same sums per calendar
# month, quarter and year of the workspace's time zone (``period``: "2025-11", "2025-Q4",
# "2025"), without the dimensions the funnel does not need: the previous stage becomes "a
# deal's creation or not", and durations are not kept per source. A period is read as whole
# blocks plus, at its edges, daily rows added or subtracted (``rules.cover``). Both are kept
# by the same writes as the daily rows (``rollups.apply_delta`` and ``rebuild``).


class _PeriodRollup(_Rollup):
    """A deal rollup per calendar month ("2025-11"), quarter ("2025-Q4") or year ("2025")."""

    period = models.CharField(max_length=7)

    class Meta:
        abstract = True

    @property
    def when(self):
        return self.period


class StageEntryPeriod(_PeriodRollup, _Entries):
    """Stage entries per period, by source; whether the entry created the deal."""

    source = models.CharField(max_length=120, blank=True)
    first = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("stage entries per period")
        verbose_name_plural = _("stage entries per period")
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "workspace",
                    "pipeline_id",
                    "period",
                    "owner_id",
                    "source",
                    "stage_id",
                    "first",
                    "loss_reason",
                ],
                name="stageentryperiod_key",
            )
        ]


class StageExitPeriod(_PeriodRollup, _Exits):
    """Stage exits per period of the stay's start, by source."""

    source = models.CharField(max_length=120, blank=True)

    class Meta:
        verbose_name = _("stage exits per period")
        verbose_name_plural = _("stage exits per period")
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "workspace",
                    "pipeline_id",
                    "period",
                    "owner_id",
                    "source",
                    "stage_id",
                    "to_stage_id",
                ],
                name="stageexitperiod_key",
            )
        ]


class DurationPeriod(_PeriodRollup, _Durations):
    """Durations per period, every source together: a source filter reads the daily rows."""

    class Meta:
        verbose_name = _("durations per period")
        verbose_name_plural = _("durations per period")
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "workspace",
                    "pipeline_id",
                    "period",
                    "owner_id",
                    "stage_id",
                    "metric",
                    "hours",
                ],
                name="durationperiod_key",
            )
        ]


class CommunicationPeriod(_Communications):
    """The communications per author of ``CommunicationDay``, summed per calendar month
    ("2025-11"), quarter ("2025-Q4") and year ("2025"): a total over weeks or months reads a
    few blocks instead of a row per author, kind and day (``queries.kpi_values``)."""

    period = models.CharField(max_length=7)

    class Meta:
        verbose_name = _("communications per period")
        verbose_name_plural = _("communications per period")
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "period", "author_id", "kind", "direction", "outcome"],
                name="communicationperiod_key",
            )
        ]

    @property
    def when(self):
        return self.period
