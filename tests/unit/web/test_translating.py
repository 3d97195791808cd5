"""The templates' gettext remembers plain messages per language, and only those."""

from __future__ import annotations

from pyramid import testing
from pyramid.i18n import TranslationString, make_localizer

from taskdesk.i18n import LOCALE_DIR
from taskdesk.web.translating import RememberingGetText


def _in(locale_name):
    request = testing.DummyRequest()
    request.localizer = make_localizer(locale_name, [str(LOCALE_DIR)])
    return request


def test_each_language_gets_its_own_translation_and_mappings_are_applied_each_time():
    gettext = RememberingGetText("taskdesk")
    chinese, english = _in("zh_CN"), _in("en")
    dashboard = chinese.localizer.translate("Dashboard", domain="taskdesk")
    assert dashboard != "Dashboard"
    for request, expected in ((chinese, dashboard), (english, "Dashboard"),
                              (chinese, dashboard)):
        with testing.testConfig(request=request):
            assert gettext.gettext("Dashboard") == expected
    with testing.testConfig(request=english):
        assert [gettext.gettext("Task #${number} saved.", mapping={"number": n})
                for n in (1, 2)] == ["Task #1 saved.", "Task #2 saved."]
        assert [gettext.gettext(TranslationString("Task #${number} saved.",
                                                  mapping={"number": n}))
                for n in (3, 4)] == ["Task #3 saved.", "Task #4 saved."]
