"""Every visible string has a Russian translation, and the catalogues match the code."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest

import voronka

PACKAGE = Path(voronka.__file__).parent
APPS = sorted(
    p.parent.parent.parent.parent.name for p in PACKAGE.glob("*/locale/ru/LC_MESSAGES/django.po")
)


def _untranslated(po: polib.POFile) -> list[str]:
    return [
        e.msgid
        for e in po
        if not e.obsolete
        and ("fuzzy" in e.flags or not (e.msgstr or any(e.msgstr_plural.values())))
    ]


def test_every_app_with_visible_strings_has_a_russian_catalogue():
    assert {"core", "accounts", "clients", "sales", "activities", "inbox"} <= set(APPS)


@pytest.mark.parametrize("app", APPS)
def test_the_russian_catalogue_is_complete(app):
    po = polib.pofile(str(PACKAGE / app / "locale/ru/LC_MESSAGES/django.po"))
    assert _untranslated(po) == []


@pytest.mark.parametrize("app", APPS)
def test_the_catalogue_holds_every_string_the_code_marks(app, tmp_path):
    """Extract the app's strings afresh and compare: a new string without a translation fails."""
    copy = tmp_path / app
    shutil.copytree(
        PACKAGE / app, copy, ignore=shutil.ignore_patterns("tests", "__pycache__", "*.mo")
    )
    voronka_cmd = Path(sys.executable).with_name("voronka")
    subprocess.run(
        [str(voronka_cmd), "makemessages", "-l", "ru", "--no-obsolete", "--verbosity", "0"],
        cwd=copy,
        check=True,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "voronka.settings"},
    )
    fresh = polib.pofile(str(copy / "locale/ru/LC_MESSAGES/django.po"))
    committed = polib.pofile(str(PACKAGE / app / "locale/ru/LC_MESSAGES/django.po"))
    known = {(e.msgctxt, e.msgid) for e in committed if not e.obsolete}
    missing = sorted(e.msgid for e in fresh if (e.msgctxt, e.msgid) not in known)
    assert missing == [], f"run `make messages` and translate these in {app}"
