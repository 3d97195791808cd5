"""Files received in a ``multipart/form-data`` request, for the web UI and the API alike.

WebOb parses such a body with the standard library's ``cgi.FieldStorage``, which writes
each file part past a few kilobytes to a temporary file as it reads; the servers have
already spooled the body itself to disk (Waitress past ``inbuf_overflow``) or hold it in
memory bounded by ``taskdesk.max_upload_bytes`` (Hypercorn's WSGI mode). So an upload is
never held in memory whole under Waitress. The guard refuses a body past that limit from its
declared length before anything of it is read.
"""

from __future__ import annotations

from pyramid.request import Request

from taskdesk.domain.attachments import Upload


def is_multipart(request: Request) -> bool:
    return bool(request.content_type == "multipart/form-data")


def uploads(request: Request, field: str = "file") -> list[Upload]:
    """The files sent as ``field`` parts; a browser's empty part (no file chosen) and plain
    text parts are left out."""
    if not is_multipart(request):
        return []
    found = []
    for item in request.POST.getall(field):
        stream = getattr(item, "file", None)
        name = getattr(item, "filename", None)
        if stream is None or name is None:
            continue
        if not name and not stream.read(1):
            continue
        stream.seek(0)
        found.append(Upload(name, stream))
    return found
