"""The templates' gettext: pyramid_jinja2's, remembering each plain message's translation.

A page calls gettext for every label it shows (the task list: about 170 times), and each
call goes through Pyramid's localizer, TranslationString and the catalog lookup to answer
what it answered the request before. A message without a mapping always translates to the
same text in one language, so it is looked up once per language and process. Messages with a
mapping, and TranslationStrings (which carry their own), are translated every time.
"""

from __future__ import annotations

from typing import Any

from pyramid_jinja2.i18n import GetTextWrapper

#: At most this many (language, message) pairs are remembered: the templates' messages are
#: far fewer, and a message built from data (never done on purpose) cannot grow it for ever.
REMEMBERED = 10_000


class RememberingGetText(GetTextWrapper):  # type: ignore[misc]
    """``jinja2.i18n.gettext``: one lookup per language for each plain message."""

    def __init__(self, domain: str) -> None:
        super().__init__(domain)
        self._known: dict[tuple[str, str], str] = {}

    def gettext(self, message: Any, mapping: Any = None) -> Any:
        localizer = self.localizer
        if mapping is not None or type(message) is not str:
            return localizer.translate(message, domain=self.domain, mapping=mapping)
        key = (localizer.locale_name, message)
        known = self._known.get(key)
        if known is None:
            known = localizer.translate(message, domain=self.domain)
            if len(self._known) < REMEMBERED:
                self._known[key] = known
        return known
