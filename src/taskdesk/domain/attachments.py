"""Attachments: files on tasks and comments. Every rule about them lives here.

* What a file is: its media type is sniffed from its first bytes (:func:`sniff`), never
  taken from the name or the client's claim; its name is made safe (:func:`safe_filename`)
  and is only ever shown or sent in ``Content-Disposition``, never used as a path.
* What may be attached (:func:`add_attachments`): at most ``taskdesk.attachments.
  max_file_bytes`` per file, ``max_project_bytes`` in all per project, and only the types
  in ``taskdesk.attachments.types``. Raster images (:data:`INLINE_TYPES`) have their pixel
  size read from the header and refused past :data:`MAX_PIXELS` *before* anything is
  decoded (decompression bombs), then get a PNG thumbnail.
* Who: uploading needs ``comment`` on the task; deleting is for the uploader (while they
  may comment) or whoever holds ``delete_attachment`` (managers) - the resources' ACLs.
* Adding and deleting are recorded in the task's history (``activity.record``).

Blobs and transactions. A blob is written before the row that names it is committed, and
may be shared with other rows (identical files are stored once). So deleting a row never
deletes its blob, and a request that fails after writing one does not delete it either:
another request may have stored the same bytes a moment later and be about to commit a row
naming them, and no hook of the failed request could know. Instead :func:`sweep_orphans`
(run by ``maintenance.purge``: ``taskdesk INI purge`` and the daily job) deletes blobs that
no row names *and* that were last written more than :data:`ORPHAN_GRACE` ago - far longer
than any request runs, and the store refreshes a blob's time whenever it is stored again.
A committed row's blob is never older-and-unnamed, so it is never swept; a rolled-back
request's blob is gone after the next purge past the grace period.
"""

from __future__ import annotations

import io
import re
import time
import unicodedata
import warnings
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import BinaryIO

from PIL import Image, UnidentifiedImageError
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, joinedload

from taskdesk.domain.activity import record
from taskdesk.domain.errors import ValidationError
from taskdesk.domain.keyset import window
from taskdesk.messages import _
from taskdesk.models import Attachment, Comment, Task, User
from taskdesk.models.meta import utcnow
from taskdesk.settings import TaskdeskSettings
from taskdesk.storage import BlobStore, TooLarge

#: Shown inline (with a thumbnail): raster images browsers decode safely. SVG is not among
#: them (it can carry script); neither is anything else.
INLINE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
#: Pillow's names of the same formats: an image whose header says otherwise is refused.
_PILLOW_FORMATS = {"image/png": "PNG", "image/jpeg": "JPEG", "image/gif": "GIF",
                   "image/webp": "WEBP"}
#: The largest image (in pixels) that is decoded for a thumbnail: 50 megapixels, more than
#: any camera or screenshot; 50,000 x 50,000 (2.5 gigapixels, ~10 GB decoded) is refused.
MAX_PIXELS = 50_000_000
THUMBNAIL_SIZE = (320, 320)
#: Unnamed blobs younger than this are never swept (see the module docstring).
ORPHAN_GRACE = timedelta(hours=6)
MAX_FILENAME = 200
#: Files in one upload.
MAX_FILES = 20
_SNIFF_BYTES = 4096

# Pillow's own guard stays on as a second line (it raises past twice this); ours is the
# explicit header check in _image_size, which comes first.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS


@dataclass(frozen=True)
class Upload:
    """One file as received: the client's name for it and its bytes (a file object, which
    the server has spooled to disk for large uploads)."""

    filename: str
    stream: BinaryIO


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def safe_filename(name: str) -> str:
    """The client's file name, safe to show and to send back: the last path segment only
    (``../../etc/passwd`` -> ``passwd``; Windows separators too), no control or format
    characters, no leading dots or spaces, at most :data:`MAX_FILENAME` characters (keeping
    the extension); ``file`` when nothing is left."""
    name = unicodedata.normalize("NFC", name or "")
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(" " if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") else c
                   for c in _CONTROL.sub(" ", name))
    name = re.sub(r"\s+", " ", name).strip().lstrip(". ")
    if len(name) > MAX_FILENAME:
        stem, dot, extension = name.rpartition(".")
        if dot and 0 < len(extension) <= 16:
            name = stem[: MAX_FILENAME - len(extension) - 1].rstrip() + "." + extension
        else:
            name = name[:MAX_FILENAME].rstrip()
    return name or "file"


def _zip_type(stream: BinaryIO) -> str:
    """Office documents are ZIP archives; tell them by their contents."""
    try:
        with zipfile.ZipFile(stream) as archive:
            names = archive.namelist()
            if "mimetype" in names:
                declared = archive.read("mimetype")[:100].decode("ascii", "replace").strip()
                if declared in ("application/vnd.oasis.opendocument.text",
                                "application/vnd.oasis.opendocument.spreadsheet",
                                "application/vnd.oasis.opendocument.presentation"):
                    return declared
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return "application/zip"
    prefix = "application/vnd.openxmlformats-officedocument."
    if "[Content_Types].xml" in names:
        for folder, kind in (("word/", "wordprocessingml.document"),
                             ("xl/", "spreadsheetml.sheet"),
                             ("ppt/", "presentationml.presentation")):
            if any(n.startswith(folder) for n in names):
                return prefix + kind
    return "application/zip"


def sniff(stream: BinaryIO) -> str:
    """The media type of what ``stream`` holds, from its bytes alone (the stream is left at
    its start). Markup (HTML, SVG, XML) is named as such, so it is never taken for text or
    an image, whatever the file is called."""
    stream.seek(0)
    head = stream.read(_SNIFF_BYTES)
    stream.seek(0)
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"PK\x03\x04"):
        kind = _zip_type(stream)
        stream.seek(0)
        return kind
    if head.startswith(b"\x1f\x8b"):
        return "application/gzip"
    if b"\x00" in head:
        return "application/octet-stream"
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as error:
        if error.start < len(head) - 4:  # not just a character cut at the sniff's end
            return "application/octet-stream"
        text = head[:error.start].decode("utf-8")
    lowered = text.lstrip("\ufeff \t\r\n").lower()
    if not lowered.startswith("<"):
        return "text/plain"
    # Text starting with markup: a browser would render it, so it is never plain text.
    if "<svg" in lowered:
        return "image/svg+xml"
    if lowered.startswith("<?xml") and "<html" not in lowered:
        return "application/xml"
    return "text/html"


def _allowed(media_type: str, allowed: Iterable[str]) -> bool:
    family = media_type.split("/")[0] + "/*"
    return any(a in ("*/*", family, media_type) for a in allowed)


def _image_size(stream: BinaryIO, media_type: str) -> tuple[int, int]:
    """An image's pixel size from its header (nothing is decoded yet); ValidationError for
    one past :data:`MAX_PIXELS` or one Pillow cannot read as the sniffed format."""
    try:
        with warnings.catch_warnings():
            # Pillow warns past MAX_IMAGE_PIXELS; we refuse those ourselves just below.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(stream)
        with image:
            width, height = image.size
            readable = image.format == _PILLOW_FORMATS[media_type]
    except Image.DecompressionBombError:
        # Pillow's second line (past twice our limit) refused it before we saw its size.
        raise ValidationError({"file": _(
            "This image is too large to show (more than ${n} megapixels).",
            mapping={"n": MAX_PIXELS // 1_000_000})}) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        readable = False
    finally:
        stream.seek(0)
    if not readable:
        raise ValidationError({"file": _("This image cannot be read; it may be damaged.")})
    if width * height > MAX_PIXELS:
        raise ValidationError({"file": _(
            "This image is too large to show (${width} x ${height} pixels; at most ${n} "
            "megapixels).", mapping={"width": width, "height": height,
                                      "n": MAX_PIXELS // 1_000_000})})
    return width, height


def _thumbnail(stream: BinaryIO) -> bytes:
    """A PNG at most :data:`THUMBNAIL_SIZE` of an image whose size was checked."""
    try:
        with Image.open(stream) as image:
            image.draft("RGB", THUMBNAIL_SIZE)  # JPEG: decode at a reduced scale
            image.seek(0)
            small = image.convert("RGBA")
            small.thumbnail(THUMBNAIL_SIZE)
            out = io.BytesIO()
            small.save(out, "PNG", optimize=True)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
        raise ValidationError(
            {"file": _("This image cannot be read; it may be damaged.")}) from error
    finally:
        stream.seek(0)
    return out.getvalue()


def _size_of(stream: BinaryIO) -> int:
    stream.seek(0, io.SEEK_END)
    size = stream.tell()
    stream.seek(0)
    return size


def project_usage(dbsession: Session, project_id: int) -> int:
    """Bytes attached in the project (each attachment counted, shared blobs too)."""
    total = dbsession.scalar(select(func.coalesce(func.sum(Attachment.size), 0))
                             .where(Attachment.project_id == project_id))
    return int(total or 0)


def size_text(size: int) -> str:
    """A byte count for people: ``900 B``, ``1.5 KB``, ``20 MB``, in units of 1024 bytes as
    file managers count them (so the 20971520 bytes of a setting read as 20 MB), written the
    same in every language."""
    for unit, scale in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if size >= scale:
            return f"{size / scale:.1f}".removesuffix(".0") + " " + unit
    return f"{size} B"


@dataclass(frozen=True)
class _Checked:
    upload: Upload
    filename: str
    media_type: str
    size: int
    width: int | None
    height: int | None


def _check(settings: TaskdeskSettings, upload: Upload) -> _Checked:
    filename = safe_filename(upload.filename)
    size = _size_of(upload.stream)
    if size == 0:
        raise ValidationError({"file": _("${name} is empty.", mapping={"name": filename})})
    if size > settings.attachments_max_file_bytes:
        raise ValidationError({"file": _(
            "${name} is larger than ${size}, the most one file may be.",
            mapping={"name": filename,
                     "size": size_text(settings.attachments_max_file_bytes)})})
    media_type = sniff(upload.stream)
    if not _allowed(media_type, settings.attachments_types):
        raise ValidationError({"file": _(
            "${name} is a kind of file that cannot be attached here (${type}).",
            mapping={"name": filename, "type": media_type})})
    width = height = None
    if media_type in INLINE_TYPES:
        width, height = _image_size(upload.stream, media_type)
    return _Checked(upload, filename, media_type, size, width, height)


def add_attachments(dbsession: Session, store: BlobStore, settings: TaskdeskSettings,
                    task: Task, actor: User, uploads: Sequence[Upload], *,
                    comment: Comment | None = None) -> list[Attachment]:
    """Attach ``uploads`` to ``task`` (or to its ``comment``): all of them, or none with a
    ValidationError naming the field ``file``. Every file is checked before any is stored."""
    if not uploads:
        raise ValidationError({"file": _("Choose at least one file.")})
    if len(uploads) > MAX_FILES:
        raise ValidationError({"file": _("At most ${n} files at once.",
                                         mapping={"n": MAX_FILES})})
    checked = [_check(settings, upload) for upload in uploads]
    total = project_usage(dbsession, task.project_id) + sum(c.size for c in checked)
    if total > settings.attachments_max_project_bytes:
        raise ValidationError({"file": _(
            "The project's attachments would exceed ${size} in all; delete some first.",
            mapping={"size": size_text(settings.attachments_max_project_bytes)})})
    now = utcnow()
    added: list[Attachment] = []
    for item in checked:
        try:
            stored = store.put(item.upload.stream, settings.attachments_max_file_bytes)
        except TooLarge as error:  # the file grew since it was measured
            raise ValidationError({"file": _("${name} is too large.",
                                             mapping={"name": item.filename})}) from error
        thumbnail = None
        if item.media_type in INLINE_TYPES:
            item.upload.stream.seek(0)
            thumbnail = store.put(io.BytesIO(_thumbnail(item.upload.stream))).address
        attachment = Attachment(
            project_id=task.project_id, task_id=task.id,
            comment_id=comment.id if comment is not None else None, uploader_id=actor.id,
            filename=item.filename, media_type=item.media_type, size=stored.size,
            sha256=stored.address, thumbnail_sha256=thumbnail, width=item.width,
            height=item.height, created_at=now)
        attachment.uploader = actor
        dbsession.add(attachment)
        added.append(attachment)
    dbsession.flush()
    for attachment in added:
        record(dbsession, project_id=task.project_id, task_id=task.id, actor_id=actor.id,
               action="attachment.added",
               changes={"attachment": [None, attachment.filename]},
               data={"attachment_id": attachment.id, "comment_id": attachment.comment_id})
    return added


def task_attachments(dbsession: Session, task_id: int, *, after: int = 0,
                     limit: int | None = None, offset: int = 0) -> list[Attachment]:
    """A task's attachments (its comments' included), oldest first, with their uploaders;
    one statement."""
    statement = (select(Attachment).options(joinedload(Attachment.uploader))
                 .where(Attachment.task_id == task_id))
    return list(dbsession.scalars(window(statement, Attachment.id, after=after, limit=limit,
                                         offset=offset)))


def find_attachment(dbsession: Session, task_id: int, attachment_id: int) -> Attachment | None:
    """One attachment of the task, with its uploader."""
    return dbsession.scalar(select(Attachment).options(joinedload(Attachment.uploader))
                            .where(Attachment.id == attachment_id,
                                   Attachment.task_id == task_id))


def delete_attachment(dbsession: Session, attachment: Attachment, actor: User) -> None:
    """Delete the row; its blob goes with the next sweep if no other row names it."""
    record(dbsession, project_id=attachment.project_id, task_id=attachment.task_id,
           actor_id=actor.id, action="attachment.deleted",
           changes={"attachment": [attachment.filename, None]},
           data={"attachment_id": attachment.id, "comment_id": attachment.comment_id})
    dbsession.delete(attachment)
    dbsession.flush()


def inline(attachment: Attachment) -> bool:
    """Shown in the page and served ``inline``: raster images only."""
    return attachment.media_type in INLINE_TYPES


#: Addresses asked about per statement while sweeping.
_SWEEP_BATCH = 500


def sweep_orphans(dbsession: Session, store: BlobStore, *,
                  grace: timedelta = ORPHAN_GRACE) -> int:
    """Delete the blobs no attachment names that were last written before ``grace`` ago
    (see the module docstring); return how many."""
    candidates = list(store.addresses(older_than=time.time() - grace.total_seconds()))
    removed = 0
    for start in range(0, len(candidates), _SWEEP_BATCH):
        batch = candidates[start:start + _SWEEP_BATCH]
        named: set[str | None] = set()
        for sha256, thumbnail in dbsession.execute(
            select(Attachment.sha256, Attachment.thumbnail_sha256).where(
                or_(Attachment.sha256.in_(batch), Attachment.thumbnail_sha256.in_(batch)))
        ):
            named.update((sha256, thumbnail))
        for address in batch:
            if address not in named:
                store.delete(address)
                removed += 1
    return removed
