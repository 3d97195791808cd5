"""The three-way merge of a change made on a stale copy (an edit form opened before someone
else saved): each field is decided from what the editor started from (base), what they sent
(mine) and what is stored now (theirs), so nobody's work is undone without being shown."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Merge:
    """How each field of a stale change is decided, in the order of the stored fields."""

    #: Only the editor changed these: their value applies.
    mine: tuple[str, ...]
    #: Only someone else changed these: the stored value stays.
    theirs: tuple[str, ...]
    #: Both changed these, to different values: the editor must choose.
    conflicts: tuple[str, ...]


def three_way(base: Mapping[str, Any], mine: Mapping[str, Any],
              theirs: Mapping[str, Any]) -> Merge:
    """Decide every field of ``theirs`` (the stored values).

    A field missing from ``mine`` is not the editor's (they may not change it, or the form did
    not send it). A field missing from ``base`` has an unknown start: it counts as changed by
    both, so a difference is shown as a conflict rather than guessed. Both sides setting the
    same value is no conflict, and nothing is left to apply.
    """
    applied: list[str] = []
    kept: list[str] = []
    conflicts: list[str] = []
    for field, stored in theirs.items():
        known_base = field in base
        they_changed = not known_base or stored != base[field]
        i_changed = field in mine and (not known_base or mine[field] != base[field])
        if i_changed and not they_changed:
            applied.append(field)
        elif i_changed and mine[field] != stored:
            conflicts.append(field)
        elif they_changed and not i_changed and known_base:
            kept.append(field)
    return Merge(mine=tuple(applied), theirs=tuple(kept), conflicts=tuple(conflicts))
