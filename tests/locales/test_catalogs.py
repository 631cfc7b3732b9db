"""Every string is translated in every language, with its placeholders and tags intact."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po

from locales import LOCALES_DIR, SUPPORTED

ROOT = LOCALES_DIR.parent
PLACEHOLDER = re.compile(r"\{[a-z_]*\}")
TAG = re.compile(r"</?[a-z]+>")
TRANSLATED = [language for language in SUPPORTED if language != "en"]


def _catalog(path: Path) -> Catalog:
    with path.open("rb") as source:
        return read_po(source)


def _ids(catalog: Catalog) -> set[str]:
    return {m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.id}


def _forms(message: Message) -> list[str]:
    if isinstance(message.string, str):
        return [message.string]
    return list(message.string or ())


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_message_is_translated_with_the_same_placeholders_and_tags(language: str) -> None:
    catalog = _catalog(LOCALES_DIR / language / "LC_MESSAGES" / "messages.po")
    template = _catalog(LOCALES_DIR / "messages.pot")
    assert _ids(catalog) == _ids(template)
    for message in catalog:
        if not message.id:
            continue
        source = message.id if isinstance(message.id, str) else message.id[0]
        assert not message.fuzzy, source
        forms = _forms(message)
        if isinstance(message.id, tuple):
            assert len(forms) == catalog.num_plurals, source
        for translated in forms:
            assert translated.strip(), f"{language}: untranslated {source!r}"
            assert set(PLACEHOLDER.findall(translated)) == set(PLACEHOLDER.findall(source)), (
                f"{language}: placeholders differ in {source!r}"
            )
            assert TAG.findall(translated) == TAG.findall(source), source


def test_the_template_matches_the_strings_in_the_code(tmp_path: Path) -> None:
    fresh = tmp_path / "messages.pot"
    subprocess.run(  # noqa: S603 - pybabel from this interpreter's environment
        [
            str(Path(sys.executable).with_name("pybabel")),
            "extract", "-F", "babel.cfg", "-k", "_", "-k", "__", "-k", "ngettext:1,2",
            "-k", "gettext", "-k", "lazy_gettext", "--no-location", "--sort-output",
            "-o", str(fresh), "handlers", "bot", "loyalty", "channels", "templates",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )  # fmt: skip

    assert _ids(_catalog(fresh)) == _ids(_catalog(LOCALES_DIR / "messages.pot")), (
        "strings changed: run `make i18n` and translate the new ones"
    )
