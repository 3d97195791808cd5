"""Turning a person's notifications into one e-mail: HTML with a plain-text alternative, in
their language and time zone, rendered from this package's Jinja2 templates.

HTML templates are autoescaped (a task title or comment is text, never markup); the text
template is not (nothing in it is interpreted). Messages are translated with the
``taskdesk`` catalogs, as pages are.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime as rfc2822_date
from email.utils import formataddr, parseaddr
from functools import lru_cache
from typing import Any
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_datetime
from babel.lists import format_list
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from translationstring import TranslationString

from taskdesk.domain.events import DUE_SOON, DUE_TODAY, Reason
from taskdesk.domain.mailing import MailItem
from taskdesk.domain.preferences import REASON_LABELS
from taskdesk.i18n import DOMAIN, LOCALES, localizer_for
from taskdesk.messages import _
from taskdesk.models import User
from taskdesk.security.unsubscribe import UNSUBSCRIBE_PATH, unsubscribe_token
from taskdesk.settings import TaskdeskSettings
from taskdesk.timezones import user_zone

Translate = Callable[..., str]
#: Field names of ``task.updated`` changes, as a mail names them.
FIELD_LABELS = {
    "title": _("title"),
    "description": _("description"),
    "status": _("status"),
    "priority": _("priority"),
    "assignee": _("assignee"),
    "due_date": _("due date"),
    "labels": _("labels"),
    "parent": _("parent task"),
}
#: Why someone got a mail, said at its foot.
BECAUSE = {
    Reason.ASSIGNED: _("you are the assignee"),
    Reason.MENTIONED: _("you were mentioned"),
    Reason.WATCHING: _("you watch the task or its project"),
    Reason.DUE: _("a task assigned to you is due"),
    Reason.MEMBER: _("your role in a project changed"),
}
#: Values longer than this are not repeated in a mail (descriptions): only their field is.
SHORT_VALUE = 80


@dataclass
class Entry:
    """One notification in a mail: when, what (translated), the comment's text, a link."""

    when: str
    text: str
    link: str
    changes: list[tuple[str, str, str]] = field(default_factory=list)
    comment: str | None = None


@dataclass
class Group:
    """The entries about one task (or one project), in the order they happened."""

    project: str
    heading: str
    link: str
    entries: list[Entry] = field(default_factory=list)


@lru_cache(maxsize=8)
def _locale(name: str) -> Locale:
    try:
        return Locale.parse(name)
    except (UnknownLocaleError, ValueError):
        return Locale("en")


@lru_cache(maxsize=8)
def _moment_pattern(locale: Locale) -> str:
    """The locale's medium date and short time, joined as it joins them (as pages show
    times): "Dec 3, 2026, 6:30 PM", "2026年12月3日 18:30"."""
    join = str(locale.datetime_formats["medium"])
    return (join.replace("{1}", locale.date_formats["medium"].pattern)
            .replace("{0}", locale.time_formats["short"].pattern))


class Composer:
    """Builds the mails of one application (its settings, catalogs and templates)."""

    def __init__(self, registry: Any, settings: TaskdeskSettings) -> None:
        self.registry = registry
        self.settings = settings
        self.default_locale = str(registry.settings.get("pyramid.default_locale_name", "en"))
        self._environments: dict[str, tuple[Environment, Translate]] = {}

    # -- language ---------------------------------------------------------------------------
    def locale_of(self, user: User) -> str:
        return user.locale if user.locale in LOCALES else (
            self.default_locale if self.default_locale in LOCALES else "en")

    def environment(self, locale: str) -> tuple[Environment, Translate]:
        """The templates with the ``locale``'s translations installed, and its translating
        function (made once per language)."""
        found = self._environments.get(locale)
        if found is None:
            localizer = localizer_for(self.registry, locale)

            def translate(message: str, mapping: dict[str, Any] | None = None) -> str:
                if not isinstance(message, TranslationString):
                    message = TranslationString(message, domain=DOMAIN, mapping=mapping)
                return str(localizer.translate(message))

            def pluralize(singular: str, plural: str, n: int) -> str:
                return str(localizer.pluralize(singular, plural, n, domain=DOMAIN))

            environment = Environment(
                loader=PackageLoader("taskdesk.notify", "templates"),
                autoescape=select_autoescape(["html.jinja2"], default_for_string=False),
                extensions=["jinja2.ext.i18n"], undefined=StrictUndefined,
                trim_blocks=True, lstrip_blocks=True,
            )
            environment.install_gettext_callables(  # type: ignore[attr-defined]
                translate, pluralize, newstyle=False)
            environment.globals["_"] = translate
            found = self._environments[locale] = (environment, translate)
        return found

    # -- links ------------------------------------------------------------------------------
    def task_url(self, slug: str, number: int) -> str:
        return f"{self.settings.public_url}/projects/{quote(slug)}/tasks/{number}/"

    def project_url(self, slug: str) -> str:
        return f"{self.settings.public_url}/projects/{quote(slug)}/"

    def unsubscribe_url(self, user: User, reasons: Sequence[Reason]) -> str:
        token = unsubscribe_token(self.settings.session_secret, user.id, reasons)
        return f"{self.settings.public_url}/{UNSUBSCRIBE_PATH}/{token}"

    # -- content ----------------------------------------------------------------------------
    def _entry(self, item: MailItem, translate: Translate, zone: ZoneInfo, locale: Locale) -> Entry:
        actor = item.actor_name or translate(_("Someone"))
        mapping = {"actor": actor}
        reason, kind = item.reason, item.kind
        changes: list[tuple[str, str, str]] = []
        comment = None
        link = (self.task_url(item.project_slug or "", item.task_number)
                if item.task_number is not None else self.project_url(item.project_slug or ""))
        if kind in (DUE_SOON, DUE_TODAY):
            due = item.data.get("due_date") or (item.due_date.isoformat() if item.due_date
                                                else "")
            try:
                day = format_date(datetime.fromisoformat(due).date(), "long", locale=locale)
            except ValueError:
                day = due
            message = (_("Due tomorrow, ${date}.", mapping={"date": day}) if kind == DUE_SOON
                       else _("Due today, ${date}.", mapping={"date": day}))
        elif kind == "task.created":
            message = {
                Reason.ASSIGNED: _("${actor} created this task and assigned it to you.",
                                   mapping=mapping),
                Reason.MENTIONED: _("${actor} mentioned you in this new task.",
                                    mapping=mapping),
            }.get(reason, _("${actor} created this task.", mapping=mapping))  # type: ignore[call-overload]
        elif kind == "task.updated":
            changed = item.data.get("changes") or {}
            for name, values in changed.items():
                label = translate(FIELD_LABELS.get(name, name.replace("_", " ")))
                old, new = [*values, "", ""][:2] if isinstance(values, list) else ("", "")
                old, new = _shown(old), _shown(new)
                short = len(old) <= SHORT_VALUE and len(new) <= SHORT_VALUE
                changes.append((label, old if short else "", new if short else ""))
            if reason == Reason.ASSIGNED and "assignee" in changed:
                message = _("${actor} assigned this task to you.", mapping=mapping)
            elif reason == Reason.MENTIONED:
                message = _("${actor} mentioned you in the description.", mapping=mapping)
            else:
                message = _("${actor} changed this task.", mapping=mapping)
        elif kind == "task.deleted":
            message = _("${actor} deleted this task.", mapping=mapping)
        elif kind in ("comment.added", "comment.edited"):
            comment = item.comment_body
            if item.comment_id is not None and item.task_number is not None:
                link = f"{link}#comment-{item.comment_id}"
            if reason == Reason.MENTIONED:
                message = _("${actor} mentioned you in a comment:", mapping=mapping)
            elif kind == "comment.added":
                message = _("${actor} commented:", mapping=mapping)
            else:
                message = _("${actor} edited a comment:", mapping=mapping)
        elif kind == "comment.deleted":
            message = _("${actor} deleted a comment.", mapping=mapping)
        elif kind == "member.added":
            message = _("${actor} added you to this project.", mapping=mapping)
        elif kind == "member.changed":
            message = _("${actor} changed your role in this project.", mapping=mapping)
        elif kind == "member.removed":
            message = _("${actor} removed you from this project.", mapping=mapping)
        else:
            message = _("${actor} made a change (${kind}).", mapping={**mapping, "kind": kind})
        when = format_datetime(item.created_at, _moment_pattern(locale), tzinfo=zone,
                               locale=locale)
        return Entry(when=when, text=translate(message), link=link, changes=changes,
                     comment=comment)

    def groups(self, items: Sequence[MailItem], translate: Translate, zone: ZoneInfo,
               locale: Locale) -> list[Group]:
        """The items by task (project-level ones by project), in order of first arrival."""
        groups: dict[tuple[str, int | None], Group] = {}
        for item in items:
            slug = item.project_slug or ""
            key = (slug, item.task_number)
            group = groups.get(key)
            if group is None:
                if item.task_number is not None:
                    heading = f"#{item.task_number} {item.task_title or ''}".strip()
                    link = self.task_url(slug, item.task_number)
                else:
                    heading = item.project_name or slug
                    link = self.project_url(slug)
                group = groups[key] = Group(item.project_name or slug, heading, link)
            group.entries.append(self._entry(item, translate, zone, locale))
        return list(groups.values())

    def compose(self, user: User, items: Sequence[MailItem], *, digest: bool,
                now: datetime) -> EmailMessage:
        """The mail telling ``user`` of ``items`` (all visible to them), ready to send."""
        locale_name = self.locale_of(user)
        environment, translate = self.environment(locale_name)
        locale = _locale(locale_name)
        zone = user_zone(user.time_zone, self.settings.time_zone)
        groups = self.groups(items, translate, zone, locale)
        reasons = sorted({Reason(item.reason) for item in items if item.reason in
                          Reason.__members__.values()}, key=list(Reason).index)
        first = groups[0]
        subject = (f"[{first.project}] {first.heading}" if first.heading != first.project
                   else f"[{first.project}]")
        if digest:
            subject = translate(_("Taskdesk digest for ${date}: ${subject}", mapping={
                "date": format_date(now.astimezone(zone).date(), "medium", locale=locale),
                "subject": subject}))
        if len(groups) > 1:
            subject = translate(_("${subject} and ${count} more", mapping={
                "subject": subject, "count": len(groups) - 1}))
        unsubscribe = self.unsubscribe_url(user, reasons)
        values = {
            "user": user, "groups": groups, "digest": digest, "count": len(items),
            "subject": subject, "html_lang": locale_name.replace("_", "-"),
            # "A, B and C" / "A、B和C": the locale's way of listing.
            "because": format_list([translate(BECAUSE[reason]) for reason in reasons],
                                   locale=locale),
            "reasons": [(translate(REASON_LABELS[reason]), self.unsubscribe_url(user, [reason]))
                        for reason in reasons],
            "unsubscribe_url": unsubscribe,
            "preferences_url": f"{self.settings.public_url}/me/#notifications",
            "zone": zone.key,
        }
        message = EmailMessage()
        # Header values are one line (titles and names are, but a line break must never
        # reach a header).
        message["Subject"] = " ".join(subject.split())
        message["From"] = self.settings.mail_from
        message["To"] = formataddr((" ".join(user.display_name.split()), user.email))
        message["Date"] = rfc2822_date(now)
        message["Message-ID"] = self.message_id(user, items)
        message["List-Unsubscribe"] = f"<{unsubscribe}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        message["Auto-Submitted"] = "auto-generated"
        message.set_content(environment.get_template("mail.txt.jinja2").render(values))
        message.add_alternative(environment.get_template("mail.html.jinja2").render(values),
                                subtype="html")
        # After the parts: making the message multipart moves Content-* headers into them.
        message["Content-Language"] = locale_name.replace("_", "-")
        return message

    def message_id(self, user: User, items: Sequence[MailItem]) -> str:
        """The same for the same notifications: a mail sent again after a crash between
        sending and recording it carries the same Message-ID, which mail programs use to
        show it once."""
        host = urlsplit(self.settings.public_url).hostname or "taskdesk.invalid"
        domain = parseaddr(self.settings.mail_from)[1].rpartition("@")[2] or host
        return f"<taskdesk.{user.id}.{items[0].id}-{items[-1].id}.{len(items)}@{domain}>"


def _shown(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "—"
    return " ".join(str(value).split())
