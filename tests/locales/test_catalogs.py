"""Every string is translated in every language, with its placeholders and tags intact."""

from __future__ import annotations

import gettext
import re
import subprocess
import sys
from gettext import c2py
from pathlib import Path

import pytest
import regex
from babel.messages.catalog import Catalog, Message
from babel.messages.plurals import get_plural
from babel.messages.pofile import read_po

from locales import LOCALES_DIR, RIGHT_TO_LEFT, SUPPORTED, compile_catalogs

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


def _i18n_sources() -> list[str]:
    """The rooms `make i18n` extracts, read from the Makefile so the two cannot drift apart."""
    found = re.search(r"^I18N_SOURCES := (.+)$", (ROOT / "Makefile").read_text(), re.M)
    assert found, "the Makefile names the rooms it extracts strings from"
    return found.group(1).split()


def test_the_template_matches_the_strings_in_the_code(tmp_path: Path) -> None:
    fresh = tmp_path / "messages.pot"
    subprocess.run(  # noqa: S603 - pybabel from this interpreter's environment
        [
            str(Path(sys.executable).with_name("pybabel")),
            "extract", "-F", "babel.cfg", "-k", "_", "-k", "__", "-k", "ngettext:1,2",
            "-k", "gettext", "-k", "lazy_gettext", "-k", "N_", "--no-location", "--sort-output",
            "-o", str(fresh), *_i18n_sources(),
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )  # fmt: skip

    assert _ids(_catalog(fresh)) == _ids(_catalog(LOCALES_DIR / "messages.pot")), (
        "strings changed: run `make i18n` and translate the new ones"
    )


# ---------------------------------------------------------------------------------------------
# Plurals: every count goes through ngettext, with the language's own plural rules.

_COUNTED_NOUN = re.compile(
    r"(?<!/)\{(?!fraction\})\w+\} (days|people|stamps|visits|vouchers|characters)\b"
)


def _template() -> Catalog:
    return _catalog(LOCALES_DIR / "messages.pot")


def _translated(language: str) -> Catalog:
    return _catalog(LOCALES_DIR / language / "LC_MESSAGES" / "messages.po")


@pytest.mark.parametrize("language", SUPPORTED)
def test_plural_forms_are_babels_rules_for_the_language(language: str) -> None:
    catalog = _translated(language)
    rules = get_plural(language)
    assert catalog.num_plurals == rules.num_plurals, catalog.plural_forms
    ours, babels = c2py(catalog.plural_expr), c2py(rules.plural_expr)
    assert [ours(n) for n in range(250)] == [babels(n) for n in range(250)]


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_ngettext_message_has_all_plural_forms(language: str) -> None:
    catalog = _translated(language)
    plural = [m for m in _template() if isinstance(m.id, tuple)]
    assert plural
    for source in plural:
        message = catalog.get(source.id[0])
        assert message is not None, source.id[0]
        assert isinstance(message.id, tuple), source.id[0]
        assert message.id == source.id
        forms = _forms(message)
        assert len(forms) == catalog.num_plurals, source.id[0]
        assert all(form.strip() for form in forms), source.id[0]


def test_no_message_puts_a_count_before_a_plural_noun_without_ngettext() -> None:
    """ "valid 1 days": a number before "days" or "people" needs the singular too."""
    singular_only = [m.id for m in _template() if isinstance(m.id, str) and m.id]
    counted = [text for text in singular_only if _COUNTED_NOUN.search(text)]
    assert counted == []


@pytest.mark.parametrize(
    ("language", "count", "shown"),
    [
        ("en", 1, "1 day"),
        ("en", 14, "14 days"),
        ("uk", 1, "1 день"),
        ("uk", 3, "3 дні"),
        ("uk", 5, "5 днів"),
        ("uk", 11, "11 днів"),
        ("uk", 21, "21 день"),
        ("uk", 22, "22 дні"),
        ("he", 1, "1 יום"),
        ("he", 2, "2 ימים"),
        ("he", 30, "30 ימים"),
        ("fa", 1, "1 روز"),
        ("fa", 30, "30 روز"),
        ("th", 1, "1 วัน"),
        ("th", 30, "30 วัน"),
    ],
)
def test_a_count_picks_the_form_of_its_number(
    language: str, count: int, shown: str, tmp_path: Path
) -> None:
    compiled = compile_catalogs(tmp_path)
    translations = gettext.translation("messages", compiled, languages=[language], fallback=True)

    assert translations.ngettext("{days} day", "{days} days", count).format(days=count) == shown


# ---------------------------------------------------------------------------------------------
# Words: one term per concept and language (the review's glossaries), arrows that point the
# way the language reads, buttons that fit a phone.

_FORBIDDEN = {
    # Ukrainian speaks to the reader as «ти», in emails too.
    "uk": [r"(?i)(?<!\w)(ви|вам|вас|ваш\w*)(?!\w)", r"\w+(іть|йте)(?!\w)"],
    # Hebrew: a reward is הטבה; Hebrew quotes „…”.
    "he": [r"(?<![\u0590-\u05ff])[לבהו]?פרס(?![\u0590-\u05ff])", "“"],
    # Persian: لینک, نشانی; «skipped» is not «rejected»; «now» is not «for the time being».
    "fa": [r"(?<![\u0600-\u06ff])پیوند(?![\u0600-\u06ff])", "آدرس", "ردشده", "فعلاً:"],
    # Thai: บอต, บัตรสะสมแสตมป์, สมัครบัตร; «Resume» is not «Forward».
    "th": ["บอท", "บัตรสะสมแต้ม", "เข้าร่วม", "ส่งต่อ"],
}


@pytest.mark.parametrize("language", TRANSLATED)
def test_the_glossary_holds_across_the_whole_catalog(language: str) -> None:
    offending = [
        (pattern, translated)
        for message in _translated(language)
        if message.id
        for translated in _forms(message)
        for pattern in _FORBIDDEN[language]
        if re.search(pattern, translated)
    ]
    assert offending == []


_MIRRORED = {"◀": "▶", "▶": "◀", "⬅️": "➡️"}


@pytest.mark.parametrize("language", sorted(RIGHT_TO_LEFT))
def test_direction_arrows_are_mirrored_in_right_to_left_languages(language: str) -> None:
    catalog = _translated(language)
    for message in catalog:
        source = message.id
        if not isinstance(source, str) or source == "▶ Resume":  # a play icon, not a direction
            continue
        translated = _forms(message)[0]
        for arrow, mirrored in _MIRRORED.items():
            if source.startswith(f"{arrow} "):
                assert translated.startswith(f"{mirrored} "), translated
            if source.endswith(f" {arrow}"):
                assert translated.endswith(f" {mirrored}"), translated
    # Back buttons draw their arrow in code (handlers.texts.back_label, tested in
    # tests/handlers/test_texts.py), so few arrows are left in the catalogs to check here.
    resume = catalog.get("▶ Resume")
    assert resume is not None
    assert _forms(resume)[0].startswith("▶ ")


# Buttons the review measured, with the mark the code puts before them; 30 characters (as a
# phone counts them) fit one row of a Telegram keyboard.
_BUTTONS = {
    "🚪 Exit admin mode": "",
    "Birthday this month": "",
    "Has an unused voucher": "",
    "Wallet pass (lock screen)": "",
    "Skip — no lock-screen line": "",
    "Lock-screen line": "",
    "More options": "",
    "Send me a test": "",
    "✉️ Set my test email": "",
    "On each channel": "✅ ",
    "Once only": "✅ ",
    "Other time…": "",
    "Yes, send": "",
    "Not yet": "",
    "🗑 Discard it": "",
    "✅ I'm at the counter — use it": "",
    "Use it now": "",
    "📲 Add to phone wallet": "",
    "✉️ Add my email": "",
    "🎟 Show the voucher": "",
    "▶ Resume": "",
}


@pytest.mark.parametrize("language", TRANSLATED)
def test_buttons_fit_a_phone(language: str) -> None:
    catalog = _translated(language)
    too_long = []
    for source, mark in _BUTTONS.items():
        message = catalog.get(source)
        assert message is not None, source
        label = mark + _forms(message)[0]
        if len(regex.findall(r"\X", label)) > 30:
            too_long.append(label)
    assert too_long == []
