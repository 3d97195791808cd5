"""Input rules, defined once and used by HTML forms, the JSON API and the OpenAPI document.

A :class:`Schema` is a tuple of fields. ``validate`` accepts form strings or JSON values,
returns clean Python values and raises :class:`ValidationError` with one message for every
bad field (all of them at once). ``json_schema`` describes the same rules for OpenAPI.

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
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from translationstring import TranslationStringFactory

from taskdesk.domain.errors import ValidationError
from taskdesk.timezones import MAX_ZONE_LENGTH, is_zone

_ = TranslationStringFactory("taskdesk")

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


def plain_text(message: Any) -> str:
    """A message as English text, with ``${placeholders}`` filled in (for logs and the CLI)."""
    interpolate = getattr(message, "interpolate", None)
    return str(interpolate()) if callable(interpolate) else str(message)
