"""The blob store and the sweep of orphans: content addressing, atomic writes, nothing left
by a refused or rolled-back upload once the purge has run, never a blob a row names."""

from __future__ import annotations

import io
import os
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from taskdesk import main
from taskdesk.domain.attachments import Upload, add_attachments, sweep_orphans
from taskdesk.storage import DirectoryStore, TooLarge
from tests.support.apps import app_settings
from tests.support.factories import Factory
from tests.support.files import png


def test_identical_content_is_stored_once_under_its_hash(tmp_path: Path) -> None:
    store = DirectoryStore(tmp_path)
    first = store.put(io.BytesIO(b"same bytes"))
    second = store.put(io.BytesIO(b"same bytes"))
    assert first.address == second.address
    assert (first.new, second.new) == (True, False)
    path = store.path(first.address)
    assert path.parent.parent.name == first.address[:2]
    assert path.parent.name == first.address[2:4]
    assert store.open(first.address).read() == b"same bytes"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_a_write_past_the_limit_leaves_nothing(tmp_path: Path) -> None:
    store = DirectoryStore(tmp_path)
    with pytest.raises(TooLarge):
        store.put(io.BytesIO(b"x" * 2000), max_bytes=1000)
    assert list(tmp_path.rglob("*")) == []


def test_addresses_are_never_paths(tmp_path: Path) -> None:
    store = DirectoryStore(tmp_path)
    for bad in ("../../etc/passwd", "a" * 63, "A" * 64, ""):
        assert not store.exists(bad)
        with pytest.raises(FileNotFoundError):
            store.open(bad)


def _age(store: DirectoryStore, address: str, hours: float) -> None:
    past = time.time() - hours * 3600
    os.utime(store.path(address), (past, past))


def test_the_sweep_removes_only_old_blobs_no_row_names(
        tmp_path: Path, dbsession: Session, factory: Factory, settings: object) -> None:
    store = DirectoryStore(tmp_path)
    owner = factory.user("owner")
    task = factory.task(factory.project(owner, slug="files"), owner)
    kept = add_attachments(dbsession, store, settings, task, owner,  # type: ignore[arg-type]
                           [Upload("kept.png", io.BytesIO(png()))])[0]
    # A request that wrote its blob and was then rolled back: the row is gone, the blob not.
    savepoint = dbsession.begin_nested()
    lost = add_attachments(dbsession, store, settings, task, owner,  # type: ignore[arg-type]
                           [Upload("lost.txt", io.BytesIO(b"rolled back"))])[0]
    lost_address = lost.sha256
    savepoint.rollback()
    crashed = store.put(io.BytesIO(b"a crash left this")).address
    fresh = store.put(io.BytesIO(b"an upload still in flight")).address
    for address in (kept.sha256, kept.thumbnail_sha256, lost_address, crashed):
        assert address is not None
        _age(store, address, hours=7)

    assert sweep_orphans(dbsession, store) == 2
    assert store.exists(kept.sha256)
    assert store.exists(kept.thumbnail_sha256 or "")
    assert not store.exists(lost_address)
    assert not store.exists(crashed)
    assert store.exists(fresh)  # younger than the grace period
    assert sweep_orphans(dbsession, store, grace=timedelta(0)) == 1
    assert not store.exists(fresh)


def test_start_up_stops_with_a_clear_message_when_the_directory_is_unusable(
        tmp_path: Path, database_url: str) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    with pytest.raises(SystemExit, match=r"taskdesk: invalid setting taskdesk\.attachments\."
                       r"path = .*a-file/attachments.*cannot be created or written to"):
        main({}, **app_settings(database_url, **{
            "taskdesk.attachments.path": str(blocker / "attachments")}))
