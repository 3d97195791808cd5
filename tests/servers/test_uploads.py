"""Uploads against the real servers: a huge declared upload is refused before it is read,
and an upload past the ordinary body limit but within the upload limit is attached."""

from __future__ import annotations

import json
import socket
import time
from urllib.parse import urlsplit

import pytest

from tests.support.files import multipart, png
from tests.support.servers import Client, Site, raw_connection, read_status

pytestmark = pytest.mark.slow

GiB = 1024 ** 3
UPLOADS = "/api/v1/projects/demo/tasks/1/attachments"


def send_upload_headers(sock: socket.socket, length: int) -> None:
    sock.sendall(
        f"POST {UPLOADS} HTTP/1.1\r\nHost: 127.0.0.1\r\n".encode()
        + b"Content-Type: multipart/form-data; boundary=x\r\n"
        + f"Content-Length: {length}\r\n\r\n".encode()
    )


def test_a_10_gb_declared_upload_is_refused_before_it_is_read(site: Site,
                                                               server_kind: str) -> None:
    with site.server(server_kind), raw_connection(site.port, timeout=5) as sock:
        started = time.monotonic()
        send_upload_headers(sock, 10 * GiB)  # and never send the body
        assert read_status(sock) == 413
        assert time.monotonic() - started < 2


def test_an_upload_larger_than_a_form_is_attached(site: Site, server_kind: str) -> None:
    """3 MB: past taskdesk.max_body_bytes (1 MiB), within taskdesk.max_upload_bytes."""
    with site.server(server_kind):
        client = Client(site.port)
        assert client.login("alice").status == 303
        client.create_token()
        project = client.api("POST", "/api/v1/projects", {"slug": "demo", "name": "Demo"})
        assert project.status == 201, project.text[:300]
        task = client.api("POST", "/api/v1/projects/demo/tasks", {"title": "Files"})
        assert task.status == 201, task.text[:300]
        data = b"log line\n" * 350_000
        content_type, body = multipart(("server.log", data), ("shot.png", png()))
        answer = client.request("POST", UPLOADS, body, {
            "Content-Type": content_type, "Authorization": f"Bearer {client.token}"})
        assert answer.status == 201, answer.text[:500]
        log, shot = json.loads(answer.body)["items"]
        assert (log["size"], log["media_type"], shot["inline"]) == (len(data), "text/plain",
                                                                    True)
        download = client.request("GET", urlsplit(log["download_url"]).path,
                                  headers={"Authorization": f"Bearer {client.token}"})
        assert download.body == data
