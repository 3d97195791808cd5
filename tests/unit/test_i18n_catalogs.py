"""The gettext catalogs: complete in every language and in step with the sources; and the
extract / update / check / compile tools that keep them so."""

from __future__ import annotations

import gettext
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog

from taskdesk import i18n
from taskdesk.i18n import (
    LOCALES,
    TEMPLATE_PATH,
    catalog_path,
    catalog_problems,
    compile_catalogs,
    extract_messages,
    main,
    read_catalog,
    update_catalogs,
    write_catalog,
)


@pytest.fixture(scope="module")
def template() -> Catalog:
    return extract_messages()


def test_extraction_finds_python_and_template_messages(template: Catalog) -> None:
    sources = {location[0] for message in template for location in message.locations}
    assert "src/taskdesk/domain/schema.py" in sources
    assert "src/taskdesk/web/templates/layout.jinja2" in sources
    assert template.get("This field is required.") is not None  # a TranslationString
    assert template.get("Skip to content") is not None  # {{ _() }} in a template
    plural = template.get(("%(count)s user.", "%(count)s users."))  # {% trans %}{% pluralize %}
    assert plural is not None
    assert plural.python_format


@pytest.mark.parametrize("locale", LOCALES)
def test_catalog_has_every_extracted_message_translated(template: Catalog, locale: str) -> None:
    catalog = read_catalog(catalog_path(locale), locale)
    assert catalog_problems(template, catalog) == []


def test_zh_catalog_has_no_untranslated_or_fuzzy_entry() -> None:
    catalog = read_catalog(catalog_path("zh_CN"), "zh_CN")
    assert catalog.num_plurals == 1
    for message in catalog:
        if not message.id:
            continue
        strings = [message.string] if isinstance(message.string, str) else message.string
        assert not message.fuzzy, message.id
        assert strings, message.id
        assert all(strings), message.id


def test_zh_catalog_is_chinese() -> None:
    catalog = read_catalog(catalog_path("zh_CN"), "zh_CN")
    terms = {"Task": "任务", "Project": "项目", "Board": "看板", "Assignee": "负责人",
             "Due date": "截止日期", "Status": "状态", "Priority": "优先级", "Comment": "评论",
             "Sign in": "登录", "Reporter": "报告人"}
    for english, chinese in terms.items():
        message = catalog.get(english)
        assert message is not None, english
        assert message.string == chinese


def test_template_file_is_in_step_with_the_sources(template: Catalog) -> None:
    stored = read_catalog(TEMPLATE_PATH)
    assert {m.id for m in stored if m.id} == {m.id for m in template if m.id}, (
        "run `python -m taskdesk.i18n update` and translate the new messages"
    )


# -- the tools ----------------------------------------------------------------------------------

def _template(*messages: str | tuple[str, str]) -> Catalog:
    catalog = Catalog(domain="taskdesk")
    for message in messages:
        catalog.add(message)
    return catalog


def test_check_reports_each_kind_of_problem() -> None:
    template = _template("Missing", "Empty", "Fuzzy", "Hello ${name}", "Good",
                         ("%(n)s task", "%(n)s tasks"))
    catalog = Catalog(locale="zh_CN", domain="taskdesk")
    catalog.add("Empty", "")
    catalog.add("Fuzzy", "模糊", flags=("fuzzy",))
    catalog.add("Hello ${name}", "你好")
    catalog.add("Good", "好")
    catalog.add(("%(n)s task", "%(n)s tasks"), ("%(n)s 个任务",))
    assert catalog_problems(template, catalog) == [
        "missing: 'Missing'",
        "untranslated: 'Empty'",
        "fuzzy: 'Fuzzy'",
        "placeholders differ: 'Hello ${name}' -> '你好'",
    ]


def test_update_creates_catalogs_and_fills_english(tmp_path: Path) -> None:
    written = update_catalogs(_template("Save", ("%(n)s day", "%(n)s days")), tmp_path)
    assert written == [catalog_path(locale, tmp_path) for locale in LOCALES]
    english = read_catalog(catalog_path("en", tmp_path), "en")
    assert english.get("Save").string == "Save"
    assert english.get(("%(n)s day", "%(n)s days")).string == ("%(n)s day", "%(n)s days")
    chinese = read_catalog(catalog_path("zh_CN", tmp_path), "zh_CN")
    assert chinese.get("Save").string == ""

    # A second update keeps the translations made meanwhile and drops vanished messages.
    path = catalog_path("zh_CN", tmp_path)
    chinese.get("Save").string = "保存"
    write_catalog(chinese, path)
    update_catalogs(_template("Save", "Cancel"), tmp_path)
    chinese = read_catalog(path, "zh_CN")
    assert chinese.get("Save").string == "保存"
    assert chinese.get("Cancel").string == ""
    assert chinese.get(("%(n)s day", "%(n)s days")) is None


def test_compile_writes_mo_files_gettext_reads(tmp_path: Path) -> None:
    template = _template("Save")
    update_catalogs(template, tmp_path)
    path = catalog_path("zh_CN", tmp_path)
    chinese = read_catalog(path, "zh_CN")
    chinese.get("Save").string = "保存"
    write_catalog(chinese, path)
    assert sorted(compile_catalogs(tmp_path)) == sorted(
        catalog_path(locale, tmp_path).with_suffix(".mo") for locale in LOCALES)
    with path.with_suffix(".mo").open("rb") as mo_file:
        assert gettext.GNUTranslations(mo_file).gettext("Save") == "保存"


def test_command_line_usage(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["i18n"]) == 2
    assert main(["i18n", "translate"]) == 2
    assert "extract" in capsys.readouterr().err


def test_module_loads_with_only_the_standard_library() -> None:
    """setup.py loads i18n.py to compile the catalogs in a build environment that has Babel
    but none of the app's dependencies."""
    code = (
        "import importlib.util, sys\n"
        "for name in ('transaction', 'pyramid', 'sqlalchemy', 'taskdesk'):\n"
        "    sys.modules[name] = None  # importing them now fails\n"
        "spec = importlib.util.spec_from_file_location('i18n_alone', sys.argv[1])\n"
        "module = importlib.util.module_from_spec(spec)\n"
        "spec.loader.exec_module(module)\n"
        "print(callable(module.compile_catalogs))\n"
    )
    result = subprocess.run([sys.executable, "-c", code, i18n.__file__], capture_output=True,
                            text=True, check=False, timeout=60)
    assert result.stdout.strip() == "True", result.stderr
