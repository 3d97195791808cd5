"""The translation marker ``_`` of the ``taskdesk`` gettext domain.

A leaf module, so every layer can mark a message for translation without importing another
layer (Babel's extraction finds ``_`` calls by name: see ``babel.cfg``). Marked messages are
``TranslationString``s, translated where they are shown: a page in the reader's language, an
API error in the client's ``Accept-Language``.
"""

from __future__ import annotations

from translationstring import TranslationStringFactory

_ = TranslationStringFactory("taskdesk")
