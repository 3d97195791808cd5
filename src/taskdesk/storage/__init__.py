"""Attachment blobs behind one small interface, content-addressed by SHA-256.

A store keeps bytes under their address (the hex SHA-256 of the content), so identical
files are stored once however often they are attached; rows in the database
(``models.Attachment``) name the addresses they use. :class:`BlobStore` is the interface the
domain layer writes through; :class:`DirectoryStore` keeps blobs in a directory on disk
(``taskdesk.attachments.path``). An S3-compatible store would implement the same five
methods (``put`` as a multipart upload keyed by the hash, ``addresses`` as a listing with
each object's last-modified time); nothing outside this package knows which store is used.

Writes never leave a partial blob under an address: the bytes go to a temporary file in the
store's own directory (the same file system), are hashed on the way, and are renamed into
place atomically once complete. Deleting a blob is the sweeper's job alone
(``domain.attachments.sweep_orphans``), which keeps a grace period so that a blob written by
a transaction still in flight is never taken for an orphan.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

from pyramid.config import Configurator

from taskdesk.settings import SettingsError, TaskdeskSettings, settings_of

_ADDRESS = re.compile(r"[0-9a-f]{64}")
_CHUNK = 64 * 1024


class StorageError(SettingsError):
    """The store cannot be used (its directory cannot be made or written to): start-up
    stops with this message, like for any bad setting."""


class TooLarge(Exception):
    """``put`` stopped: the content is longer than the limit it was given."""


@dataclass(frozen=True)
class Stored:
    address: str
    size: int
    #: False when the store held this content already (it was not written again).
    new: bool


def valid_address(address: str) -> bool:
    return bool(_ADDRESS.fullmatch(address))


class BlobStore(Protocol):
    def put(self, stream: BinaryIO, max_bytes: int | None = None) -> Stored:
        """Store what ``stream`` holds from its current position; raise :class:`TooLarge`
        past ``max_bytes`` (nothing is kept then)."""

    def open(self, address: str) -> BinaryIO:
        """The blob for reading; FileNotFoundError when there is none."""

    def exists(self, address: str) -> bool: ...

    def delete(self, address: str) -> None:
        """Remove the blob; no error when it is gone already."""

    def addresses(self, older_than: float) -> Iterator[str]:
        """Every stored address last written (or re-stored) before the Unix time
        ``older_than``: the candidates of a sweep."""


class DirectoryStore:
    """Blobs as files ``<root>/<ab>/<cd>/<address>`` (two fan-out levels keep directories
    small); temporary files ``<root>/.incoming-*`` while they are written."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def check(self) -> None:
        """Create the directory if needed and prove it writable; StorageError otherwise."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=self.root, prefix=".probe-"):
                pass
        except OSError as error:
            raise StorageError(
                "taskdesk.attachments.path", str(self.root),
                f"cannot be created or written to ({error.strerror or error}); create the "
                "directory and let the server's user write there") from error

    def path(self, address: str) -> Path:
        if not valid_address(address):
            raise FileNotFoundError(address)
        return self.root / address[:2] / address[2:4] / address

    def put(self, stream: BinaryIO, max_bytes: int | None = None) -> Stored:
        digest = hashlib.sha256()
        size = 0
        handle, temporary = tempfile.mkstemp(dir=self.root, prefix=".incoming-")
        try:
            with os.fdopen(handle, "wb") as out:
                while chunk := stream.read(_CHUNK):
                    size += len(chunk)
                    if max_bytes is not None and size > max_bytes:
                        raise TooLarge(size)
                    digest.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            address = digest.hexdigest()
            target = self.path(address)
            if target.exists():
                # Stored already: refresh its time, so a sweep running now cannot take it
                # for an orphan before the row naming it is committed.
                os.utime(target)
                return Stored(address, size, new=False)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(temporary, target)
            return Stored(address, size, new=True)
        finally:
            if os.path.exists(temporary):
                os.unlink(temporary)

    def open(self, address: str) -> BinaryIO:
        return self.path(address).open("rb")

    def exists(self, address: str) -> bool:
        try:
            return self.path(address).is_file()
        except FileNotFoundError:
            return False

    def delete(self, address: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path(address).unlink()

    def addresses(self, older_than: float) -> Iterator[str]:
        for path in self.root.glob("[0-9a-f][0-9a-f]/[0-9a-f][0-9a-f]/*"):
            if valid_address(path.name) and path.stat().st_mtime < older_than:
                yield path.name
        # Temporary files a crashed writer left behind.
        for path in self.root.glob(".incoming-*"):
            if path.stat().st_mtime < older_than:
                path.unlink(missing_ok=True)


def store_for(settings: TaskdeskSettings) -> DirectoryStore:
    """The store the settings name (a directory; the one kind there is so far)."""
    return DirectoryStore(settings.attachments_path)


def store_of(registry: object) -> BlobStore:
    """The application's store, made and checked at start-up."""
    store: BlobStore = registry["taskdesk.storage"]  # type: ignore[index]
    return store


def includeme(config: Configurator) -> None:
    store = store_for(settings_of(config.registry))
    store.check()  # start-up fails with a clear message if the directory is unusable
    config.registry["taskdesk.storage"] = store
