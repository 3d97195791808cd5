"""Folding a feed's entries: consecutive changes by one person to one task within the
window become one entry with the combined changes; anything else stays as it is."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from taskdesk.domain.activity_feed import FOLD_WINDOW, fold
from taskdesk.domain.feeds import ActivityRow

NOON = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


def _row(id_: int, minutes: float, *, actor: str | None = "mia", task: int | None = 1,
         action: str = "task.updated", **changes: list[object]) -> ActivityRow:
    return ActivityRow(id=id_, created_at=NOON + timedelta(minutes=minutes), action=action,
                       changes=dict(changes), project_slug="apollo", project_name="Apollo",
                       task_number=task, task_title="Plan" if task else None,
                       actor_username=actor, actor_name=actor.title() if actor else None)


def test_consecutive_changes_fold_with_combined_changes():
    rows = [_row(3, 4, status=["doing", "done"]), _row(2, 2, priority=["normal", "high"]),
            _row(1, 0, status=["open", "doing"], title=["A", "B"])]
    (entry,) = fold(rows)
    assert entry.count == 3
    assert (entry.id, entry.oldest_id) == (3, 1)
    assert (entry.created_at, entry.started_at) == (rows[0].created_at, rows[2].created_at)
    assert entry.changes == {"status": ["open", "done"], "title": ["A", "B"],
                             "priority": ["normal", "high"]}


def test_a_field_changed_back_is_left_out():
    (entry,) = fold([_row(2, 1, status=["doing", "open"]), _row(1, 0, status=["open", "doing"],
                                                                  title=["A", "B"])])
    assert entry.changes == {"title": ["A", "B"]}


def test_what_does_not_fold():
    window = FOLD_WINDOW.total_seconds() / 60
    cases = [
        [_row(2, 1, actor="vic"), _row(1, 0)],                  # another person
        [_row(2, 1, task=2), _row(1, 0)],                       # another task
        [_row(2, window + 1), _row(1, 0)],                      # too far apart
        [_row(2, 1, actor=None), _row(1, 0, actor=None)],       # accounts gone: unknown
        [_row(2, 1, action="comment.added"), _row(1, 0)],       # not a change
        [_row(2, 1), _row(1, 0, action="task.created")],        # creation stays apart
    ]
    for rows in cases:
        assert [entry.count for entry in fold(rows)] == [1, 1], rows


def test_the_window_counts_from_the_newest_change():
    minutes = FOLD_WINDOW.total_seconds() / 60
    rows = [_row(3, minutes), _row(2, minutes / 2), _row(1, 0)]
    assert [entry.count for entry in fold(rows)] == [3]
    rows = [_row(3, minutes + 1), _row(2, minutes / 2), _row(1, 0)]
    assert [entry.count for entry in fold(rows)] == [2, 1]


def test_one_entry_is_shown_as_it_is():
    row = _row(1, 0, action="comment.added")
    (entry,) = fold([row])
    assert (entry.count, entry.oldest_id, entry.changes) == (1, 1, {})
