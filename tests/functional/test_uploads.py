"""How an upload reaches a view: parts spooled to temporary files by WebOb, not held in
memory, whatever size they have; and only file parts count."""

from __future__ import annotations

import io
import tempfile

from pyramid.request import Request

from taskdesk.uploads import uploads
from tests.support.files import multipart


def request_for(body: bytes, content_type: str) -> Request:
    # As Waitress hands a large body over: a file on disk (past its inbuf_overflow).
    spooled = tempfile.TemporaryFile()  # noqa: SIM115 - the request reads it after we return
    spooled.write(body)
    spooled.seek(0)
    return Request.blank("/", method="POST", body_file=spooled, content_type=content_type,
                         content_length=str(len(body)))


def test_a_large_part_is_a_temporary_file_not_bytes_in_memory() -> None:
    data = b"0123456789" * 500_000  # 5 MB
    content_type, body = multipart(("big.bin", data), ("small.txt", b"hi"), note="text part")
    request = request_for(body, content_type)  # it owns the parts' files while it lives
    found = uploads(request)
    assert [u.filename for u in found] == ["big.bin", "small.txt"]
    big = found[0].stream
    assert not isinstance(big, io.BytesIO)
    assert big.fileno() >= 0  # a real file (cgi.FieldStorage spools every file part)
    assert big.read() == data


def test_an_empty_file_input_and_other_bodies_give_no_files() -> None:
    content_type, body = multipart(("", b""))
    assert uploads(request_for(body, content_type)) == []
    assert uploads(request_for(b'{"file": "x"}', "application/json")) == []
