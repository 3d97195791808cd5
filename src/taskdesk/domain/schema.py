"""Input rules, defined once and used by HTML forms, the JSON API and the OpenAPI document.

A :class:`Schema` is a tuple of fields. ``validate`` accepts form strings or JSON values,
returns clean Python values and raises :class:`ValidationError` with one message for every
bad field (all of them at once). ``json_schema`` describes the same rules for OpenAPI.

A :class:`QuerySchema` does the same for the query parameters of a list (the task list's
filters and sort): ``read`` turns URL parameters into clean values, ``openapi_parameters``
describes them, ``form_keys`` names the ones a web filter form shows, and ``as_params``
writes clean values back as URL parameters.

The two kinds of input differ in one way, decided here and nowhere else:

* a **form** sends text only: a checkbox is ``on`` (or ``true``/``1``/``yes``), a number is
  digits, labels are comma-separated, and a blank field is empty (false, no date, no labels);
* **JSON** (``strict=True``, the API) must use the types the OpenAPI document gives: ``true``
  or ``false`` for a boolean, a number for an integer, an array for labels, a string for a
  date; ``null`` clears a nullable field, and a blank string is a value only for text fields.
  Unknown keys are refused (a form carries extra keys such as the CSRF token).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, NamedTuple

from taskdesk.domain.errors import ValidationError
from taskdesk.messages import _
from taskdesk.timezones import MAX_ZONE_LENGTH, is_zone

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

#: A choice list is either fixed or computed from the settings at validation time.
Choices = tuple[str, ...] | Callable[[], Iterable[str]]


def _clean_text(value: str, multiline: bool) -> str:
    value = unicodedata.normalize("NFC", value)
    if not multiline:
        value = value.replace("\r", " ").replace("\n", " ")
    else:
        value = value.replace("\r\n", "\n")
    return _CONTROL.sub("", value).strip()


@dataclass(frozen=True)
class Field:
    name: str
    required: bool = False
    nullable: bool = True
    description: str = ""

    def convert(self, value: Any, json: bool = False) -> Any:  # pragma: no cover
        """The clean value of a non-empty ``value``; ``json``: it came from a JSON body."""
        raise NotImplementedError

    def empty_value(self) -> Any:
        return None

    def json_type(self) -> dict[str, Any]:  # pragma: no cover - overridden
        raise NotImplementedError


class FieldError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Text(Field):
    min_length: int = 0
    max_length: int = 200
    multiline: bool = False
    pattern: str | None = None
    pattern_message: str = ""
    #: Values refused although they match (e.g. slugs that name a page).
    reserved: frozenset[str] = frozenset()
    reserved_message: str = ""

    def empty_value(self) -> Any:
        return ""

    def convert(self, value: Any, json: bool = False) -> str:
        if not isinstance(value, str):
            raise FieldError(_("Must be text."))
        text = _clean_text(value, self.multiline)
        if self.required and not text:
            raise FieldError(_("This field is required."))
        if len(text) < self.min_length:
            raise FieldError(
                _("Must be at least ${n} characters.", mapping={"n": self.min_length})
            )
        if len(text) > self.max_length:
            raise FieldError(
                _("Must be at most ${n} characters.", mapping={"n": self.max_length})
            )
        if self.pattern and text and not re.fullmatch(self.pattern, text):
            raise FieldError(self.pattern_message or _("Invalid format."))
        if text in self.reserved:
            raise FieldError(self.reserved_message or _("Invalid format."))
        return text

    def json_type(self) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": "string", "maxLength": self.max_length}
        if self.required:
            schema["minLength"] = max(1, self.min_length)
        if self.pattern:
            schema["pattern"] = f"^{self.pattern}$"
        if self.reserved:
            schema["not"] = {"enum": sorted(self.reserved)}
        return schema


@dataclass(frozen=True)
class Choice(Field):
    choices: Choices = ()

    def allowed(self) -> tuple[str, ...]:
        return tuple(self.choices() if callable(self.choices) else self.choices)

    def convert(self, value: Any, json: bool = False) -> str:
        allowed = self.allowed()
        if not isinstance(value, str) or value not in allowed:
            raise FieldError(
                _("Must be one of: ${choices}.", mapping={"choices": ", ".join(allowed)})
            )
        return value

    def json_type(self) -> dict[str, Any]:
        return {"type": "string", "enum": list(self.allowed())}


@dataclass(frozen=True)
class Boolean(Field):
    def convert(self, value: Any, json: bool = False) -> bool:
        if isinstance(value, bool):
            return value
        if json:
            raise FieldError(_("Must be true or false (a JSON boolean)."))
        if isinstance(value, str) and value.lower() in ("true", "on", "1", "yes"):
            return True
        if isinstance(value, str) and value.lower() in ("false", "off", "0", "no", ""):
            return False
        raise FieldError(_("Must be true or false."))

    def empty_value(self) -> Any:
        return False

    def json_type(self) -> dict[str, Any]:
        return {"type": "boolean"}


class TaskRef(NamedTuple):
    """A task named by its project's slug (None: the project of the task at hand) and its
    number."""

    project: str | None
    number: int


#: ``#12``, ``12`` or ``project#12`` (a slug, ``#``, a number).
_TASK_REFERENCE = re.compile(r"(?:([a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?)#|#)?([1-9][0-9]{0,9})")


@dataclass(frozen=True)
class TaskReference(Field):
    """A task: ``#12`` (in the same project), ``project#12``, or in JSON also
    ``{"project": "slug", "number": 12}``."""

    def convert(self, value: Any, json: bool = False) -> TaskRef:
        if json and isinstance(value, dict):
            project, number = value.get("project"), value.get("number")
            if (set(value) != {"project", "number"} or not isinstance(project, str)
                    or isinstance(number, bool) or not isinstance(number, int)):
                raise FieldError(_("Give the task as {\"project\": slug, \"number\": n}."))
            value = f"{project}#{number}"
        if not isinstance(value, str):
            raise FieldError(_("Give the task as #12 or project#12."))
        found = _TASK_REFERENCE.fullmatch(unicodedata.normalize("NFKC", value).strip().lower())
        if found is None or int(found.group(2)) > 2**31 - 1:
            raise FieldError(_("Give the task as #12 or project#12."))
        return TaskRef(found.group(1), int(found.group(2)))

    def json_type(self) -> dict[str, Any]:
        return {"oneOf": [
            {"type": "string", "pattern": f"^{_TASK_REFERENCE.pattern}$"},
            {"type": "object", "properties": {
                "project": {"type": "string"},
                "number": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}},
             "required": ["project", "number"], "additionalProperties": False},
        ]}


@dataclass(frozen=True)
class Date(Field):
    def convert(self, value: Any, json: bool = False) -> date:
        if isinstance(value, date) and not json and 1900 <= value.year <= 2999:
            return value
        if isinstance(value, str):
            try:
                parsed = date.fromisoformat(value.strip())
            except ValueError:
                parsed = None
            if parsed is not None and 1900 <= parsed.year <= 2999:
                return parsed
        raise FieldError(_("Must be a date like 2026-12-31."))

    def json_type(self) -> dict[str, Any]:
        return {"type": "string", "format": "date"}


@dataclass(frozen=True)
class TimeZone(Field):
    """An IANA time zone name the zone data knows, e.g. ``Asia/Shanghai``."""

    def convert(self, value: Any, json: bool = False) -> str:
        if isinstance(value, str) and is_zone(value.strip()):
            return value.strip()
        raise FieldError(_("Choose a time zone from the list, e.g. Asia/Shanghai."))

    def json_type(self) -> dict[str, Any]:
        return {"type": "string", "maxLength": MAX_ZONE_LENGTH,
                "description": "An IANA time zone name, e.g. Asia/Shanghai"}


@dataclass(frozen=True)
class Integer(Field):
    minimum: int = 0
    maximum: int = 2**31 - 1

    def convert(self, value: Any, json: bool = False) -> int:
        if isinstance(value, bool):
            raise FieldError(_("Must be a whole number."))
        if isinstance(value, str) and not json and re.fullmatch(r"\s*\d{1,10}\s*", value):
            value = int(value)
        if not isinstance(value, int):
            raise FieldError(_("Must be a whole number."))
        if not self.minimum <= value <= self.maximum:
            raise FieldError(
                _("Must be between ${a} and ${b}.", mapping={"a": self.minimum, "b": self.maximum})
            )
        return value

    def json_type(self) -> dict[str, Any]:
        return {"type": "integer", "minimum": self.minimum, "maximum": self.maximum}


@dataclass(frozen=True)
class TaskNumber(Integer):
    """A task's number in its project; a form may write it as people read it, ``#12``."""

    minimum: int = 1

    def convert(self, value: Any, json: bool = False) -> int:
        if isinstance(value, str) and not json:
            value = value.strip().removeprefix("#")
        return super().convert(value, json)


@dataclass(frozen=True)
class Ids(Field):
    """A JSON list of row ids (positive whole numbers), duplicates dropped."""

    max_items: int = 500

    def convert(self, value: Any, json: bool = False) -> list[int]:
        if not isinstance(value, list) or not all(
                isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 2**31 - 1
                for v in value):
            raise FieldError(_("Must be a list of ids (whole numbers from 1)."))
        if len(value) > self.max_items:
            raise FieldError(_("At most ${n} ids.", mapping={"n": self.max_items}))
        return list(dict.fromkeys(value))

    def json_type(self) -> dict[str, Any]:
        return {"type": "array", "maxItems": self.max_items,
                "items": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}}


@dataclass(frozen=True)
class StringMap(Field):
    """A JSON object of short text values (a saved view's list parameters); the keys and
    values are checked by whoever reads them (``domain.saved_views``)."""

    max_items: int = 20
    max_length: int = 200

    def empty_value(self) -> Any:
        return {}

    def convert(self, value: Any, json: bool = False) -> dict[str, str]:
        if not isinstance(value, Mapping) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
            raise FieldError(_("Must be an object of text values."))
        if len(value) > self.max_items:
            raise FieldError(_("At most ${n} entries.", mapping={"n": self.max_items}))
        if any(len(v) > self.max_length for v in value.values()):
            raise FieldError(_("Must be at most ${n} characters.", mapping={
                "n": self.max_length}))
        return {k: v.strip() for k, v in value.items() if v.strip()}

    def json_type(self) -> dict[str, Any]:
        return {"type": "object", "maxProperties": self.max_items,
                "additionalProperties": {"type": "string", "maxLength": self.max_length}}


class Versioned(NamedTuple):
    """A task named by its number, as it was at ``version`` (when it was shown)."""

    number: int
    version: int


@dataclass(frozen=True)
class TaskVersions(Field):
    """Tasks with the version each was shown at: JSON ``[{"number": 3, "version": 2}]``; a
    form sends ``3:2`` per checkbox (given here as a list). At most ``max_items``."""

    max_items: int = 500

    def empty_value(self) -> Any:
        return []

    def _one(self, item: Any) -> Versioned:
        if isinstance(item, str):
            number, _sep, version = item.partition(":")
            if re.fullmatch(r"\d{1,10}", number) and re.fullmatch(r"\d{1,10}", version):
                item = {"number": int(number), "version": int(version)}
        if isinstance(item, Mapping) and set(item) == {"number", "version"}:
            number, version = item["number"], item["version"]
            if all(isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 2**31 - 1
                   for v in (number, version)):
                return Versioned(number, version)
        raise FieldError(_("Give each task as {\"number\": n, \"version\": v}."))

    def convert(self, value: Any, json: bool = False) -> list[Versioned]:
        if not isinstance(value, list):
            raise FieldError(_("Must be a list of tasks."))
        if len(value) > self.max_items:
            raise FieldError(_("At most ${n} tasks at once.", mapping={"n": self.max_items}))
        found = {item.number: item for item in map(self._one, value)}
        return list(found.values())

    def json_type(self) -> dict[str, Any]:
        number = {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}
        return {"type": "array", "maxItems": self.max_items, "items": {
            "type": "object", "properties": {"number": number, "version": number},
            "required": ["number", "version"], "additionalProperties": False}}


@dataclass(frozen=True)
class Labels(Field):
    """A list of short labels; a form sends them comma-separated."""

    max_items: int = 20
    max_length: int = 40

    def empty_value(self) -> Any:
        return []

    def convert(self, value: Any, json: bool = False) -> list[str]:
        if isinstance(value, str) and not json:
            # A form sends "a, b"; a full-width comma (Chinese input) separates labels too.
            value = value.replace("\uff0c", ",").split(",")
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise FieldError(_("Must be a list of labels."))
        labels: list[str] = []
        for item in value:
            label = _clean_text(item, multiline=False).lower()
            if not label:
                continue
            if len(label) > self.max_length:
                raise FieldError(
                    _("A label has at most ${n} characters.", mapping={"n": self.max_length})
                )
            if label not in labels:
                labels.append(label)
        if len(labels) > self.max_items:
            raise FieldError(_("At most ${n} labels.", mapping={"n": self.max_items}))
        return labels

    def json_type(self) -> dict[str, Any]:
        return {
            "type": "array",
            "maxItems": self.max_items,
            "items": {"type": "string", "maxLength": self.max_length},
        }


@dataclass(frozen=True)
class ChoiceList(Field):
    """Some of a fixed set of choices, each at most once; a form sends them as repeated
    fields (checkboxes, given here as a list) or comma-separated."""

    choices: Choices = ()

    def empty_value(self) -> Any:
        return []

    def allowed(self) -> tuple[str, ...]:
        return tuple(self.choices() if callable(self.choices) else self.choices)

    def convert(self, value: Any, json: bool = False) -> list[str]:
        if isinstance(value, str) and not json:
            value = split_values(value)
        allowed = self.allowed()
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise FieldError(_("Must be a list of choices."))
        unknown = [v for v in value if v not in allowed]
        if unknown:
            raise FieldError(_("Unknown: ${names}. Choose from: ${choices}.", mapping={
                "names": ", ".join(unknown), "choices": ", ".join(allowed)}))
        return [choice for choice in allowed if choice in value]

    def json_type(self) -> dict[str, Any]:
        return {"type": "array", "uniqueItems": True,
                "items": {"type": "string", "enum": list(self.allowed())}}


@dataclass(frozen=True)
class Limits(Field):
    """Whole numbers by name, each name one of ``choices`` (e.g. WIP limits by status): a
    JSON object, or from a form an object of the fields' texts. A name without a number
    (null, or a blank field) has no limit and is left out."""

    choices: Choices = ()
    minimum: int = 1
    maximum: int = 9999

    def empty_value(self) -> Any:
        return {}

    def allowed(self) -> tuple[str, ...]:
        return tuple(self.choices() if callable(self.choices) else self.choices)

    def convert(self, value: Any, json: bool = False) -> dict[str, int]:
        allowed = self.allowed()
        if not isinstance(value, Mapping):
            raise FieldError(_("Must be an object of whole numbers by name."))
        unknown = [str(name) for name in value if name not in allowed]
        if unknown:
            raise FieldError(_("Unknown: ${names}. Choose from: ${choices}.", mapping={
                "names": ", ".join(unknown), "choices": ", ".join(allowed)}))
        number = Integer(self.name, minimum=self.minimum, maximum=self.maximum)
        limits: dict[str, int] = {}
        for name in allowed:
            given = value.get(name)
            if given is None or (not json and isinstance(given, str) and not given.strip()):
                continue
            try:
                limits[name] = number.convert(given, json=json)
            except FieldError:
                raise FieldError(_("Use whole numbers from ${a} to ${b}, or nothing for no "
                                   "limit.", mapping={"a": self.minimum, "b": self.maximum})
                                 ) from None
        return limits

    def json_type(self) -> dict[str, Any]:
        number = {"anyOf": [{"type": "integer", "minimum": self.minimum,
                             "maximum": self.maximum}, {"type": "null"}]}
        return {"type": "object", "additionalProperties": False,
                "properties": {name: number for name in self.allowed()}}


@dataclass(frozen=True)
class Schema:
    name: str
    fields: tuple[Field, ...]
    description: str = ""
    _by_name: dict[str, Field] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_name", {f.name: f for f in self.fields})

    def __getitem__(self, name: str) -> Field:
        return self._by_name[name]

    def validate(
        self, data: Mapping[str, Any], *, partial: bool = False, strict: bool = False
    ) -> dict[str, Any]:
        """Clean ``data``; with ``partial`` only the given keys, as for PATCH.

        ``strict``: ``data`` is a JSON body, held to the JSON rules of the module docstring.
        Every bad field is reported, in one :class:`ValidationError`.
        """
        clean, errors = self.check(data, partial=partial, strict=strict)
        if errors:
            raise ValidationError(errors)
        return clean

    def check(
        self, data: Mapping[str, Any], *, partial: bool = False, strict: bool = False
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """``validate`` without raising: (the clean valid fields, the bad fields' messages),
        for operations that add their own checks of the valid fields to the same report."""
        errors: dict[str, Any] = {}
        clean: dict[str, Any] = {}
        if strict:
            for key in data:
                if key not in self._by_name:
                    errors[key] = _("Unknown field.")
        for spec in self.fields:
            if spec.name not in data:
                if spec.required and not partial:
                    errors[spec.name] = _("This field is required.")
                continue
            value = data[spec.name]
            blank = isinstance(value, str) and not value.strip()
            if value is None or (blank and (not strict or isinstance(spec, Text))):
                if spec.required:
                    errors[spec.name] = _("This field is required.")
                elif value is None and not spec.nullable:
                    errors[spec.name] = _("Must not be null.")
                else:
                    clean[spec.name] = spec.empty_value()
                continue
            try:
                clean[spec.name] = spec.convert(value, json=strict)
            except FieldError as error:
                errors[spec.name] = error.message
        return clean, errors

    def json_schema(self, *, partial: bool = False) -> dict[str, Any]:
        properties: dict[str, Any] = {}
        for spec in self.fields:
            schema = spec.json_type()
            if spec.nullable and not spec.required:
                schema = {"anyOf": [schema, {"type": "null"}]}
            if spec.description:
                schema["description"] = spec.description
            properties[spec.name] = schema
        result: dict[str, Any] = {
            "type": "object",
            "properties": properties,
            "additionalProperties": False,
        }
        required = [f.name for f in self.fields if f.required]
        if required and not partial:
            result["required"] = required
        return result


#: Allowed values of a query parameter: fixed, or computed from the context ``read`` is given
#: (the workflow, for statuses and priorities).
QueryChoices = tuple[str, ...] | Callable[[Any], Sequence[str]]
#: The most values a list parameter (``status=a,b,...``) may hold.
MAX_QUERY_VALUES = 50


def split_values(value: str) -> list[str]:
    """The comma-separated values of a query parameter (a full-width comma separates too)."""
    return [part.strip() for part in value.replace("\uff0c", ",").split(",") if part.strip()]


@dataclass(frozen=True)
class QueryParameter:
    """One query parameter of a list: its URL name, the attribute of the parsed query it
    fills (the name when blank), its description, and whether the web filter form shows it.

    ``parse`` gets the non-blank text given and the context of ``QuerySchema.read``; it
    raises :class:`FieldError` for a bad value. ``repeatable``: several comma-separated
    values."""

    name: str
    description: str = ""
    attribute: str = ""
    form: bool = True
    repeatable: bool = False

    def parse(self, value: str, context: Any) -> Any:  # pragma: no cover - overridden
        raise NotImplementedError

    def json_type(self, context: Any) -> dict[str, Any]:  # pragma: no cover - overridden
        raise NotImplementedError

    def unparse(self, value: Any) -> str:
        """A clean value as URL text again."""
        if isinstance(value, tuple):
            return ",".join(value)
        if isinstance(value, date):  # datetimes too
            return value.isoformat()
        return str(value)


@dataclass(frozen=True)
class OneOf(QueryParameter):
    """One of ``choices``, or (``repeatable``) several, comma-separated, without repeats."""

    choices: QueryChoices = ()

    def allowed(self, context: Any) -> Sequence[str]:
        return self.choices(context) if callable(self.choices) else self.choices

    def _unknown(self, value: str, allowed: Sequence[str]) -> FieldError:
        return FieldError(_("Unknown value: ${value}. Allowed: ${allowed}.", mapping={
            "value": value, "allowed": ", ".join(allowed)}))

    def parse(self, value: str, context: Any) -> Any:
        allowed = self.allowed(context)
        if not self.repeatable:
            value = value.strip()
            if value not in allowed:
                raise self._unknown(value, allowed)
            return value
        chosen = split_values(value)
        wrong = [item for item in chosen if item not in allowed]
        if wrong or len(chosen) > MAX_QUERY_VALUES:
            raise self._unknown(", ".join(wrong) or value, allowed)
        return tuple(dict.fromkeys(chosen))

    def json_type(self, context: Any) -> dict[str, Any]:
        allowed = list(self.allowed(context))
        if not self.repeatable:
            return {"type": "string", "enum": allowed}
        alternatives = "|".join(allowed)
        return {"type": "string", "pattern": f"^({alternatives})(,({alternatives}))*$"}


@dataclass(frozen=True)
class Person(QueryParameter):
    """``me``, ``none`` or a username (lower-cased; resolved by the query)."""

    username_pattern: str = ""

    def parse(self, value: str, context: Any) -> str:
        value = value.strip().lower()
        if not value or len(value) > 64:
            raise FieldError(_("Use me, none or a username."))
        return value

    def json_type(self, context: Any) -> dict[str, Any]:
        return {"type": "string", "pattern": f"^(me|none|{self.username_pattern})$"}


@dataclass(frozen=True)
class Day(QueryParameter):
    def parse(self, value: str, context: Any) -> date:
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            raise FieldError(_("Must be a date like 2026-12-31.")) from None

    def json_type(self, context: Any) -> dict[str, Any]:
        return {"type": "string", "format": "date"}


@dataclass(frozen=True)
class Moment(QueryParameter):
    """A date and time; without an offset, UTC."""

    def parse(self, value: str, context: Any) -> datetime:
        try:
            moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise FieldError(
                _("Must be a date and time like 2026-12-31T08:00:00Z.")) from None
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)

    def json_type(self, context: Any) -> dict[str, Any]:
        return {"type": "string", "format": "date-time"}


@dataclass(frozen=True)
class Number(QueryParameter):
    """A whole number from 1 (a task's number: ``#12`` is read as 12)."""

    def parse(self, value: str, context: Any) -> int:
        value = value.strip().removeprefix("#")
        if not re.fullmatch(r"\d{1,10}", value) or not 1 <= int(value) <= 2**31 - 1:
            raise FieldError(_("Must be a task number like 12."))
        return int(value)

    def json_type(self, context: Any) -> dict[str, Any]:
        return {"type": "string", "pattern": r"^#?[0-9]{1,10}$"}


@dataclass(frozen=True)
class Words(QueryParameter):
    """Free text, cut at ``max_length``."""

    max_length: int = 200

    def parse(self, value: str, context: Any) -> str:
        return value.strip()[: self.max_length]

    def json_type(self, context: Any) -> dict[str, Any]:
        return {"type": "string", "maxLength": self.max_length}


@dataclass(frozen=True)
class Flag(QueryParameter):
    """``true`` or ``false``."""

    def parse(self, value: str, context: Any) -> bool:
        value = value.strip().lower()
        if value not in ("true", "false"):
            raise FieldError(_("Must be true or false."))
        return value == "true"

    def json_type(self, context: Any) -> dict[str, Any]:
        return {"type": "string", "enum": ["true", "false"]}

    def unparse(self, value: Any) -> str:
        return "true" if value else "false"


@dataclass(frozen=True)
class AnyOf(QueryParameter):
    """Any values, comma-separated, lower-cased (labels: whatever exists matches)."""

    repeatable: bool = True

    def parse(self, value: str, context: Any) -> tuple[str, ...]:
        return tuple(item.lower() for item in split_values(value))[:MAX_QUERY_VALUES]

    def json_type(self, context: Any) -> dict[str, Any]:
        return {"type": "string", "maxLength": 200}


@dataclass(frozen=True)
class QuerySchema:
    """The query parameters of a list, in the order their problems are reported."""

    name: str
    parameters: tuple[QueryParameter, ...]
    keys: frozenset[str] = field(init=False, repr=False, compare=False)
    #: The parameters the web filter form shows.
    form_keys: tuple[str, ...] = field(init=False, repr=False, compare=False)
    #: (URL name, attribute, parse) of each parameter, worked out once: ``read`` runs on
    #: every list request.
    _readers: tuple[tuple[str, str, Callable[[str, Any], Any]], ...] = field(
        init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "keys", frozenset(p.name for p in self.parameters))
        object.__setattr__(self, "form_keys", tuple(p.name for p in self.parameters if p.form))
        object.__setattr__(self, "_readers", tuple(
            (p.name, p.attribute or p.name, p.parse) for p in self.parameters))

    def read(
        self, params: Mapping[str, Any], context: Any, *, strict: bool = False,
        ignore: Collection[str] = (),
    ) -> dict[str, Any]:
        """The clean values of the parameters given (by attribute; blank ones are absent).

        ``strict`` (the API) refuses keys the schema does not hold and ``ignore`` does not
        name. Every bad parameter is reported, in one :class:`ValidationError`.
        """
        errors: dict[str, Any] = {}
        if strict:
            errors.update({key: _("Unknown parameter.") for key in params
                           if key not in self.keys and key not in ignore})
        values: dict[str, Any] = {}
        for key, attribute, parse in self._readers:
            value = params.get(key)
            if value is None:
                continue
            if not isinstance(value, str):
                errors[key] = _("Give this parameter once.")
            elif value.strip():
                try:
                    values[attribute] = parse(value, context)
                except FieldError as error:
                    errors[key] = error.message
        if errors:
            raise ValidationError(errors)
        return values

    def as_params(self, values: Any) -> dict[str, str]:
        """The attributes of ``values`` that hold something, as URL parameters again (for
        next-page links and bookmarks); parameters without an attribute there are left out."""
        params: dict[str, str] = {}
        for spec in self.parameters:
            value = getattr(values, spec.attribute or spec.name, None)
            if value is not None and value != "" and value != ():
                params[spec.name] = spec.unparse(value)
        return params

    def openapi_parameters(self, context: Any) -> list[dict[str, Any]]:
        return [{"name": p.name, "in": "query", "description": p.description,
                 "schema": p.json_type(context)} for p in self.parameters]


def plain_text(message: Any) -> str:
    """A message as English text, with ``${placeholders}`` filled in (for logs and the CLI)."""
    interpolate = getattr(message, "interpolate", None)
    return str(interpolate()) if callable(interpolate) else str(message)
