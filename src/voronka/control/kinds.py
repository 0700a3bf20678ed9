"""How the kinds of violation are named for people: on the control screen, in digests, on My day."""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .rules import ViolationKind

#: The kinds in the order the head reads them.
KINDS = list(ViolationKind)

LABELS = {
    ViolationKind.NO_NEXT_STEP: _("No next step"),
    ViolationKind.OVERDUE_TASK: _("Overdue tasks"),
    ViolationKind.MISSING_COMMENT: _("No comment after a contact"),
    ViolationKind.STALLED: _("Stalled in a stage"),
    ViolationKind.NEXT_CONTACT_GAP: _("Next contact too far"),
}

#: Column heads of the matrix, short enough for a phone.
SHORT = {
    ViolationKind.NO_NEXT_STEP: pgettext_lazy("violations", "No next step"),
    ViolationKind.OVERDUE_TASK: pgettext_lazy("violations", "Overdue"),
    ViolationKind.MISSING_COMMENT: pgettext_lazy("violations", "No comment"),
    ViolationKind.STALLED: pgettext_lazy("violations", "Stalled"),
    ViolationKind.NEXT_CONTACT_GAP: pgettext_lazy("violations", "Far contact"),
}

EXPLAINED = {
    ViolationKind.NO_NEXT_STEP: _(
        "An open deal without an open task: nobody knows what happens next."
    ),
    ViolationKind.OVERDUE_TASK: _("A task whose due time has passed and that is not done."),
    ViolationKind.MISSING_COMMENT: _(
        "A call, meeting or conversation whose grace period passed without a comment of the "
        "required length."
    ),
    ViolationKind.STALLED: _(
        "A deal longer in its stage than the stage's normal duration, counted from when it "
        "entered the stage."
    ),
    ViolationKind.NEXT_CONTACT_GAP: _(
        "The next task is further ahead than the rules allow for this stage."
    ),
}

#: Colours of the kinds on the chart and the badges (Tabler's palette).
COLOURS = {
    ViolationKind.NO_NEXT_STEP: "#f59f00",
    ViolationKind.OVERDUE_TASK: "#d63939",
    ViolationKind.MISSING_COMMENT: "#4263eb",
    ViolationKind.STALLED: "#ae3ec9",
    ViolationKind.NEXT_CONTACT_GAP: "#0ca678",
}

#: Kinds a snooze pauses.
SNOOZABLE = frozenset({ViolationKind.STALLED, ViolationKind.NEXT_CONTACT_GAP})


def label(kind: str) -> str:
    return str(LABELS.get(kind, kind))
