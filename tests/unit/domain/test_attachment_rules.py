"""What a file is (sniffed from its bytes) and what it may be called."""

from __future__ import annotations

import io

import pytest

from taskdesk.domain.attachments import safe_filename, size_text, sniff
from tests.support.files import HTML, SVG, docx, png


@pytest.mark.parametrize(("data", "media_type"), [
    (png(), "image/png"),
    (b"\xff\xd8\xff\xe0" + b"\x00" * 20, "image/jpeg"),
    (b"GIF89a" + b"\x00" * 20, "image/gif"),
    (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp"),
    (b"%PDF-1.7\n", "application/pdf"),
    (docx(), "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    (b"PK\x03\x04 not really a zip", "application/zip"),
    (b"\x1f\x8b\x08\x00", "application/gzip"),
    (HTML, "text/html"),
    (b"  \n<p>hello</p>", "text/html"),
    (SVG, "image/svg+xml"),
    (b'<?xml version="1.0"?><note/>', "application/xml"),
    ("需求说明\nline two <div> in the middle\n".encode(), "text/plain"),
    (b"MZ\x90\x00\x03\x00", "application/octet-stream"),
    (b"\xfe\xff\xfa invalid utf-8 early" + b"x" * 100, "application/octet-stream"),
])
def test_the_type_comes_from_the_bytes(data: bytes, media_type: str) -> None:
    stream = io.BytesIO(data)
    assert sniff(stream) == media_type
    assert stream.tell() == 0


@pytest.mark.parametrize(("name", "safe"), [
    ("../../etc/passwd", "passwd"),
    ("C:\\Users\\me\\report.pdf", "report.pdf"),
    ("需求说明.docx", "需求说明.docx"),
    ("a\x00b\x1bc\u202etxt.exe", "a b c txt.exe"),
    ("...hidden", "hidden"),
    ("", "file"),
    ("../", "file"),
    ("x" * 300 + ".png", "x" * 196 + ".png"),
])
def test_names_are_made_safe(name: str, safe: str) -> None:
    assert safe_filename(name) == safe


def test_sizes_read_as_file_managers_show_them() -> None:
    assert [size_text(n) for n in (900, 1536, 20 * 1024 * 1024, 3 * 1024**3)] == [
        "900 B", "1.5 KB", "20 MB", "3 GB"]
