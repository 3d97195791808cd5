"""Files for attachment tests, made here: real images (Pillow), a PNG header declaring a
huge size, markup in disguise, and the multipart bodies that carry them."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

import webtest
from PIL import Image


def png(width: int = 40, height: int = 30, color: tuple[int, int, int] = (200, 40, 40)
        ) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, "PNG")
    return out.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


def png_bomb(width: int = 50_000, height: int = 50_000) -> bytes:
    """A small PNG whose header declares ``width`` x ``height`` pixels (its one row of
    data would decode into gigabytes): refused from the header, never decoded."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    data = zlib.compress(b"\x00" * 1024)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", data)
            + _chunk(b"IEND", b""))


HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
SVG = (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg">'
       b"<script>alert(1)</script></svg>")
DOCX_NAME = "需求说明.docx"


def docx() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<document/>")
    return out.getvalue()


def multipart(*files: tuple[str, bytes], field: str = "file",
              **fields: str) -> tuple[str, bytes]:
    """(content type, body) of a multipart/form-data request with ``files`` as ``field``
    parts (name, bytes) and plain ``fields``."""
    app = webtest.TestApp(lambda environ, start: [])
    uploads = [(field, name, data) for name, data in files]
    content_type, body = app.encode_multipart(list(fields.items()), uploads)
    return content_type, body
