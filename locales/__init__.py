"""gettext catalogs (Babel) shared by the bot, email and web templates.

``locales/<lang>/LC_MESSAGES/messages.po`` are the sources; they are compiled to ``.mo`` at
start-up into a cache folder, so no compiled file is ever stale or committed.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALES_DIR = Path(__file__).parent
DOMAIN = "messages"
SUPPORTED: tuple[str, ...] = ("en", "uk", "he", "fa", "th")
RIGHT_TO_LEFT = frozenset({"he", "fa"})
NATIVE_NAMES = {
    "en": "English",
    "uk": "Українська",
    "he": "עברית",
    "fa": "فارسی",
    "th": "ไทย",
}


def supported_language(code: str | None, available: Iterable[str] = SUPPORTED) -> str | None:
    """The translated language for a messenger's or browser's code, or None.

    Takes ``uk``, ``pt-br``, ``en_US``; Telegram's clients still send the withdrawn ISO code
    ``iw`` for Hebrew.
    """
    if not code:
        return None
    language = code.strip().replace("_", "-").split("-")[0].lower()
    language = {"iw": "he"}.get(language, language)
    return language if language in available else None


def compile_catalogs(target: Path) -> Path:
    """Compile every ``.po`` into ``target/<lang>/LC_MESSAGES/messages.mo``; returns target."""
    target.mkdir(parents=True, exist_ok=True)
    for po_path in sorted(LOCALES_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
        language = po_path.parent.parent.name
        mo_path = target / language / "LC_MESSAGES" / f"{DOMAIN}.mo"
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        mo_path.parent.mkdir(parents=True, exist_ok=True)
        with po_path.open("rb") as source:
            catalog = read_po(source, locale=language, domain=DOMAIN)
        with mo_path.open("wb") as compiled:
            write_mo(compiled, catalog, use_fuzzy=False)
    return target
