"""Languages: the locale negotiator and the gettext catalog tools.

The language of a request is the signed-in user's preference, else the choice an anonymous
visitor made with the language switcher (the ``taskdesk_locale`` cookie), else the best match
of the browser's Accept-Language, else ``pyramid.default_locale_name``. Catalogs live in
``taskdesk/locale/<lang>/LC_MESSAGES/taskdesk.po``; ``python -m taskdesk.i18n compile``
turns them into ``.mo`` files (``make install`` and the package build run it).

In a source checkout, ``python -m taskdesk.i18n extract`` collects every message the
``babel.cfg`` at the repository root points at into ``locale/taskdesk.pot``; ``update`` also
merges that template into each catalog (new messages arrive untranslated, except in English,
whose text is the message itself); ``check`` lists what a catalog still lacks.
"""

from __future__ import annotations

import copy
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

# Only the standard library at module level: setup.py loads this file to compile the
# catalogs in a build environment that has Babel but none of the app's dependencies.
if TYPE_CHECKING:
    from babel.messages.catalog import Catalog
    from pyramid.config import Configurator

LOCALES = ("en", "zh_CN")
DOMAIN = "taskdesk"
#: The cookie the web UI's language switcher sets.
LOCALE_COOKIE = "taskdesk_locale"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
TEMPLATE_PATH = LOCALE_DIR / f"{DOMAIN}.pot"
#: The repository root (src/taskdesk/i18n.py -> ../..), where babel.cfg lives.
SOURCE_ROOT = Path(__file__).resolve().parents[2]
#: The language the messages are written in: its catalog is the messages themselves.
SOURCE_LOCALE = "en"
#: Who the catalogs' headers name as translator and team.
TRANSLATORS = "Taskdesk maintainers"
#: Placeholders that a translation must keep: ``${name}`` (TranslationString mappings) and
#: ``%(name)s`` (Jinja2 ``{% trans %}`` blocks).
_PLACEHOLDER = re.compile(r"\$\{[^}]*\}|%\([^)]*\)[a-z]")

#: Accept-Language tags mapped onto the locales we ship.
_ACCEPT = {"en": "en", "zh": "zh_CN", "zh-cn": "zh_CN", "zh-hans": "zh_CN", "zh-sg": "zh_CN"}


def includeme(config: Configurator) -> None:
    """The catalogs serve every feature package (the domain's messages are in them)."""
    config.add_translation_dirs("taskdesk:locale")


def negotiate_locale(request: Any) -> str:
    """The web UI's negotiator (``config.set_locale_negotiator``)."""
    identity = request.identity
    return choose_locale(request, identity.locale if identity is not None else None)


def accepted_locale(request: Any) -> str | None:
    """The shipped locale the request's Accept-Language prefers most, or None."""
    parsed = request.accept_language.parsed or ()
    for tag, quality in sorted(parsed, key=lambda item: -item[1]):
        locale = shipped_locale(tag)
        if locale and quality > 0:
            return locale
    return None


def shipped_locale(tag: str) -> str | None:
    """The shipped locale of a language tag (``zh-CN``, ``en_US``...), or None."""
    tag = tag.strip().lower().replace("_", "-")
    return _ACCEPT.get(tag) or _ACCEPT.get(tag.split("-")[0])


def header_locale(request: Any) -> str:
    """A program's language: its Accept-Language only, else English. Never the account's
    preference or a cookie: the same call answers alike whoever's token it carries."""
    return accepted_locale(request) or SOURCE_LOCALE


def localizer_for(registry: Any, locale: str) -> Any:
    """The localizer of ``locale``, made once per application (as ``request.localizer``
    does, sharing its cache)."""
    from pyramid.i18n import make_localizer
    from pyramid.interfaces import ILocalizer, ITranslationDirectories

    localizer = registry.queryUtility(ILocalizer, name=locale)
    if localizer is None:
        directories = registry.queryUtility(ITranslationDirectories, default=[])
        localizer = make_localizer(locale, directories)
        registry.registerUtility(localizer, ILocalizer, name=locale)
    return localizer


def choose_locale(request: Any, preference: str | None) -> str:
    """The user's ``preference`` if we ship it, else the switcher, the browser, the INI."""
    if preference in LOCALES:
        return str(preference)
    chosen = request.params.get("_LOCALE_") if request.method == "GET" else None
    if chosen in LOCALES:
        return str(chosen)
    remembered = request.cookies.get(LOCALE_COOKIE)
    if remembered in LOCALES:
        return str(remembered)
    accepted = accepted_locale(request)
    if accepted:
        return accepted
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


def catalog_path(locale: str, locale_dir: Path = LOCALE_DIR) -> Path:
    return locale_dir / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


def _version() -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("taskdesk")
    except PackageNotFoundError:
        return None


def extract_messages(source_root: Path = SOURCE_ROOT) -> Catalog:
    """Every translatable message of the source tree, found where ``babel.cfg`` says."""
    from babel.messages.catalog import Catalog
    from babel.messages.extract import extract_from_dir
    from babel.messages.frontend import parse_mapping_cfg

    mapping = source_root / "babel.cfg"
    if not mapping.is_file():
        raise FileNotFoundError(f"{mapping} not found: extraction needs a source checkout")
    with mapping.open(encoding="utf-8") as mapping_file:
        method_map, options_map = parse_mapping_cfg(  # type: ignore[no-untyped-call]
            mapping_file, str(mapping)
        )
    catalog = Catalog(
        domain=DOMAIN, project="Taskdesk", version=_version(), charset="utf-8", fuzzy=False,
        header_comment="# Messages of Taskdesk, extracted by `python -m taskdesk.i18n extract`.\n"
        "# Do not edit: change the sources and extract again.\n#",
    )
    found = extract_from_dir(
        source_root, method_map, options_map,
        comment_tags=("TRANSLATORS:",), strip_comment_tags=True,
    )
    for filename, lineno, message, comments, context in found:
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments,
                    context=context)
    return catalog


def write_catalog(catalog: Catalog, path: Path) -> None:
    from babel.messages.pofile import write_po

    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as po_file:
        # No line numbers: they would change the catalogs on every unrelated edit.
        write_po(po_file, catalog, width=100, include_lineno=False, ignore_obsolete=True)


def read_catalog(path: Path, locale: str | None = None) -> Catalog:
    from babel.messages.pofile import read_po

    with path.open("rb") as po_file:
        return read_po(po_file, locale=locale, domain=DOMAIN)


def update_catalogs(template: Catalog, locale_dir: Path = LOCALE_DIR) -> list[Path]:
    """Merge ``template`` into the catalog of every locale, creating missing ones."""
    from babel.messages.catalog import Catalog

    written = []
    for locale in LOCALES:
        path = catalog_path(locale, locale_dir)
        if path.exists():
            catalog = read_catalog(path, locale)
        else:
            catalog = Catalog(
                locale=locale, domain=DOMAIN, project="Taskdesk", charset="utf-8", fuzzy=False,
                header_comment=f"# Taskdesk messages in {locale}: translate every msgstr, "
                "then `python -m taskdesk.i18n compile`.\n#",
            )
        # Catalog.update adopts the template's new Message objects: give each its own.
        catalog.update(copy.deepcopy(template))
        catalog.version = template.version
        catalog.revision_date = template.creation_date
        catalog.last_translator = TRANSLATORS
        catalog.language_team = TRANSLATORS
        if locale == SOURCE_LOCALE:
            for message in catalog:
                if message.id and (message.fuzzy or not _strings(message.string)):
                    message.string = message.id
                    message.flags.discard("fuzzy")
        write_catalog(catalog, path)
        written.append(path)
    return written


def _strings(value: str | tuple[str, ...] | list[str] | None) -> list[str]:
    """The translations of a message (one per plural form), or [] if any is missing."""
    strings = [value] if isinstance(value, str) else list(value or ())
    return strings if strings and all(strings) else []


def _placeholders(text: str | tuple[str, ...] | list[str]) -> set[str]:
    texts = [text] if isinstance(text, str) else list(text)
    return {found for item in texts for found in _PLACEHOLDER.findall(item)}


def catalog_problems(template: Catalog, catalog: Catalog) -> list[str]:
    """Why ``catalog`` is not complete for ``template``: missing, untranslated and fuzzy
    messages, and translations that lose or invent a placeholder."""
    problems = []
    for expected in template:
        if not expected.id:
            continue
        message = catalog.get(expected.id, expected.context)
        strings = _strings(message.string) if message is not None else []
        if message is None:
            problems.append(f"missing: {expected.id!r}")
        elif not strings:
            problems.append(f"untranslated: {expected.id!r}")
        elif message.fuzzy:
            problems.append(f"fuzzy: {expected.id!r}")
        elif any(_placeholders(s) != _placeholders(expected.id) for s in strings):
            problems.append(f"placeholders differ: {expected.id!r} -> {message.string!r}")
    return problems


USAGE = """usage: python -m taskdesk.i18n COMMAND
  extract   write locale/taskdesk.pot from the sources (babel.cfg)
  update    extract, then merge the template into every catalog
  check     list missing, untranslated and fuzzy messages; exit 1 if there are any
  compile   turn every catalog into a .mo file"""


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) == 2 else ""
    if command == "compile":
        for path in compile_catalogs():
            print(f"compiled {path.relative_to(LOCALE_DIR.parent)}")
        return 0
    if command not in ("extract", "update", "check"):
        print(USAGE, file=sys.stderr)
        return 2
    template = extract_messages()
    if command == "check":
        failed = False
        for locale in LOCALES:
            for problem in catalog_problems(template, read_catalog(catalog_path(locale), locale)):
                print(f"{locale}: {problem}")
                failed = True
        return 1 if failed else 0
    write_catalog(template, TEMPLATE_PATH)
    print(f"extracted {len(template)} messages into {TEMPLATE_PATH.relative_to(LOCALE_DIR.parent)}")
    if command == "update":
        for path in update_catalogs(template):
            print(f"updated {path.relative_to(LOCALE_DIR.parent)}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(sys.argv))
