"""Languages: the locale negotiator and the gettext catalog tools.

The language of a request is the signed-in user's preference, else the choice an anonymous
visitor made with the language switcher (the ``taskdesk_locale`` cookie), else the best match
of the browser's Accept-Language, else ``pyramid.default_locale_name``. Catalogs live in
``taskdesk/locale/<lang>/LC_MESSAGES/taskdesk.po``; ``python -m taskdesk.i18n compile``
turns them into ``.mo`` files (``make install`` and the package build run it).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

LOCALES = ("en", "zh_CN")
DOMAIN = "taskdesk"
#: The cookie the web UI's language switcher sets.
LOCALE_COOKIE = "taskdesk_locale"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"

#: Accept-Language tags mapped onto the locales we ship.
_ACCEPT = {"en": "en", "zh": "zh_CN", "zh-cn": "zh_CN", "zh-hans": "zh_CN", "zh-sg": "zh_CN"}


def negotiate_locale(request: Any) -> str:
    identity = request.identity
    if identity is not None and identity.user.locale in LOCALES:
        return str(identity.user.locale)
    chosen = request.params.get("_LOCALE_") if request.method == "GET" else None
    if chosen in LOCALES:
        return str(chosen)
    remembered = request.cookies.get(LOCALE_COOKIE)
    if remembered in LOCALES:
        return str(remembered)
    for tag, _quality in request.accept_language.parsed or ():
        locale = _ACCEPT.get(tag.lower()) or _ACCEPT.get(tag.lower().split("-")[0])
        if locale:
            return locale
    return str(request.registry.settings.get("pyramid.default_locale_name", "en"))


def compile_catalogs(locale_dir: Path = LOCALE_DIR) -> list[Path]:
    """Compile every ``.po`` below ``locale_dir`` into a ``.mo`` beside it."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    written = []
    for po_path in sorted(locale_dir.glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file, locale=po_path.parent.parent.name)
        mo_path = po_path.with_suffix(".mo")
        with mo_path.open("wb") as mo_file:
            write_mo(mo_file, catalog)
        written.append(mo_path)
    return written


def main(argv: list[str]) -> int:
    if argv[1:] != ["compile"]:
        print("usage: python -m taskdesk.i18n compile", file=sys.stderr)
        return 2
    for path in compile_catalogs():
        print(f"compiled {path.relative_to(LOCALE_DIR.parent)}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(sys.argv))
