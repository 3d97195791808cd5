"""Attachments through the API: upload (multipart), list, show, download, delete; the
limits and the hostile files; who may do what."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote

import pytest
import webtest
from sqlalchemy import select
from sqlalchemy.orm import Session

from taskdesk import main
from taskdesk.models import Activity, Attachment
from tests.support.api import ApiClient, OpenApiChecker
from tests.support.apps import HOST, app_settings, joined
from tests.support.databases import recorded_statements
from tests.support.factories import Factory
from tests.support.files import DOCX_NAME, HTML, SVG, docx, multipart, png, png_bomb

ATTACHMENTS = "/api/v1/projects/alpha/tasks/1/attachments"


@pytest.fixture
def task(factory: Factory, people: dict[str, Any]) -> Any:
    return factory.task(people["project"], people["manager"], title="Screenshots")


def upload(client: ApiClient, *files: tuple[str, bytes], status: Any = 201,
           url: str = ATTACHMENTS, **headers: str) -> webtest.TestResponse:
    content_type, body = multipart(*files)
    return client.post(url, body=body, content_type=content_type, status=status,
                       headers=headers)


def test_a_member_uploads_lists_downloads_and_deletes(
        client_for: Callable[..., ApiClient], people: dict[str, Any], task: Any,
        dbsession: Session) -> None:
    member = client_for(people["member"])
    image = png()
    created = upload(member, ("shot.png", image), (DOCX_NAME, docx()))
    first, second = created.json["items"]
    assert created.headers["Location"] == first["url"]
    assert first["url"] == f"http://{HOST}{ATTACHMENTS}/{first['id']}"
    assert (first["filename"], first["media_type"], first["size"], first["width"],
            first["height"], first["inline"]) == ("shot.png", "image/png", len(image), 40, 30,
                                                  True)
    assert first["uploader"] == {"username": "member", "display_name": "张伟"}
    assert first["allowed"] == ["delete_attachment"]
    assert first["download_url"] == first["url"] + "/download"
    assert first["thumbnail_url"] == first["url"] + "/thumbnail"
    assert (second["filename"], second["inline"], second["thumbnail_url"]) == (
        DOCX_NAME, False, None)
    assert second["media_type"] == (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document")

    listed = member.get(ATTACHMENTS).json
    assert [a["id"] for a in listed["items"]] == [first["id"], second["id"]]
    assert member.get(first["url"]).json == first

    shown = member.get(first["download_url"])
    assert shown.body == image
    assert shown.content_type == "image/png"
    assert shown.headers["Content-Disposition"].startswith("inline;")
    assert shown.headers["X-Content-Type-Options"] == "nosniff"
    assert shown.headers["Content-Security-Policy"] == "sandbox; default-src 'none'"
    assert member.get(first["download_url"], status=304,
                      headers={"If-None-Match": shown.headers["ETag"]}).body == b""
    thumbnail = member.get(first["thumbnail_url"])
    assert thumbnail.content_type == "image/png"
    assert thumbnail.body.startswith(b"\x89PNG")

    document = member.get(second["download_url"])
    assert document.headers["Content-Disposition"] == (
        "attachment; filename=\"____.docx\"; filename*=UTF-8''" + quote(DOCX_NAME))
    member.get(second["url"] + "/thumbnail", status=404)

    actions = list(dbsession.scalars(select(Activity.action).where(
        Activity.task_id == task.id).order_by(Activity.id)))
    assert actions.count("attachment.added") == 2

    member.delete(first["url"], status=204)
    member.get(first["url"], status=404)
    assert [a["id"] for a in member.get(ATTACHMENTS).json["items"]] == [second["id"]]
    assert "attachment.deleted" in dbsession.scalars(select(Activity.action).where(
        Activity.task_id == task.id))


def test_identical_files_are_stored_once(client_for: Callable[..., ApiClient],
                                         people: dict[str, Any], task: Any,
                                         wsgi_app: Any) -> None:
    member = client_for(people["member"])
    data = b"the same notes\n" * 100
    one, two = upload(member, ("a.txt", data), ("b.txt", data)).json["items"]
    assert one["sha256"] == two["sha256"]
    assert one["id"] != two["id"]
    store = wsgi_app.registry["taskdesk.storage"]
    assert store.path(one["sha256"]).read_bytes() == data


def test_who_may_do_what(client_for: Callable[..., ApiClient], people: dict[str, Any],
                         task: Any) -> None:
    member = client_for(people["member"])
    url = upload(member, ("notes.txt", b"notes")).json["items"][0]["url"]
    viewer = client_for(people["viewer"])
    assert viewer.get(url).json["allowed"] == []
    upload(viewer, ("v.txt", b"v"), status=403)
    viewer.delete(url, status=403)
    reporter = client_for(people["reporter"])
    reporter.delete(url, status=403)  # may comment, but it is not theirs
    # Someone who cannot see the task cannot learn the file exists: 404, like the task.
    outsider = client_for(people["outsider"])
    outsider.get(url + "/download", status=404)
    outsider.get(url, status=404)
    client_for(None).get(url + "/download", status=404)
    manager = client_for(people["manager"])
    assert manager.get(url).json["allowed"] == ["delete_attachment"]
    manager.delete(url, status=204)


def test_renamed_html_and_svg_with_script_are_never_served_inline(
        client_for: Callable[..., ApiClient], people: dict[str, Any], task: Any,
        open_app: webtest.TestApp, checker: OpenApiChecker,
        make_token: Callable[..., str]) -> None:
    # By default markup cannot be attached at all...
    member = client_for(people["member"])
    refused = upload(member, ("cute-cat.png", HTML), status=422).json["error"]
    assert "text/html" in refused["fields"]["file"]
    # ...and where the admin allows every type, it is only ever downloaded, sandboxed.
    client = ApiClient(open_app, checker, make_token(people["member"]))
    page, drawing = upload(client, ("cute-cat.png", HTML), ("logo.svg", SVG)).json["items"]
    assert (page["media_type"], page["inline"]) == ("text/html", False)
    assert (drawing["media_type"], drawing["inline"], drawing["thumbnail_url"]) == (
        "image/svg+xml", False, None)
    for item in (page, drawing):
        served = client.get(item["download_url"])
        assert served.content_type == "application/octet-stream"
        assert served.headers["Content-Disposition"].startswith("attachment;")
        assert served.headers["X-Content-Type-Options"] == "nosniff"
        assert served.headers["Content-Security-Policy"] == "sandbox; default-src 'none'"


def test_a_path_as_a_name_keeps_only_its_last_part(
        client_for: Callable[..., ApiClient], people: dict[str, Any], task: Any) -> None:
    member = client_for(people["member"])
    items = upload(member, ("../../etc/passwd", b"root:x:0:0"),
                   ("..\\..\\boot.ini", b"[boot]"),
                   ("evil\x07\tname\x1b.txt", b"x")).json["items"]
    assert [i["filename"] for i in items] == ["passwd", "boot.ini", "evil name .txt"]
    served = member.get(items[0]["download_url"])
    assert served.headers["Content-Disposition"] == (
        "attachment; filename=\"passwd\"; filename*=UTF-8''passwd")


def test_a_decompression_bomb_is_refused_from_its_header(
        client_for: Callable[..., ApiClient], people: dict[str, Any], task: Any,
        dbsession: Session) -> None:
    member = client_for(people["member"])
    error = upload(member, ("bomb.png", png_bomb()), status=422).json["error"]
    assert error["fields"]["file"] == (
        "This image is too large to show (more than 50 megapixels).")
    # Past our limit but under Pillow's own: refused by our check of the header's size.
    error = upload(member, ("big.png", png_bomb(9000, 9000)), status=422).json["error"]
    assert error["fields"]["file"] == (
        "This image is too large to show (9000 x 9000 pixels; at most 50 megapixels).")
    assert dbsession.scalar(select(Attachment.id)) is None


def test_limits_per_file_per_project_and_type(
        client_for: Callable[..., ApiClient], people: dict[str, Any], task: Any,
        wsgi_app: Any, dbsession: Session) -> None:
    member = client_for(people["member"])
    registry = wsgi_app.registry
    saved = registry.taskdesk_settings
    try:
        registry.taskdesk_settings = dataclasses.replace(
            saved, attachments_max_file_bytes=1024, attachments_max_project_bytes=1536)
        error = upload(member, ("big.txt", b"x" * 1025), status=422).json["error"]
        assert error["fields"]["file"] == (
            "big.txt is larger than 1 KB, the most one file may be.")
        upload(member, ("a.txt", b"a" * 1024))
        error = upload(member, ("b.txt", b"b" * 600), status=422).json["error"]
        assert error["fields"]["file"] == (
            "The project's attachments would exceed 1.5 KB in all; delete some first.")
        # All or nothing: one bad file refuses the others too.
        upload(member, ("ok.txt", b"ok"), ("c.txt", b"c" * 1025), status=422)
        assert len(member.get(ATTACHMENTS).json["items"]) == 1
    finally:
        registry.taskdesk_settings = saved
    error = upload(member, ("tool.exe", b"MZ\x90\x00" + b"\x00" * 100)).json
    assert error["items"][0]["media_type"] == "application/octet-stream"
    upload(member, ("empty.txt", b""), status=422)


def test_bad_requests_get_clear_errors(client_for: Callable[..., ApiClient],
                                       people: dict[str, Any], task: Any) -> None:
    member = client_for(people["member"])
    error = member.post(ATTACHMENTS, {"file": "x"}, status=415).json["error"]
    assert error["code"] == "unsupported_media_type"
    content_type, body = multipart(note="no file here")
    error = member.post(ATTACHMENTS, body=body, content_type=content_type,
                        status=422).json["error"]
    assert error["fields"] == {"file": "Choose at least one file."}
    member.get(ATTACHMENTS + "/999999", status=404)
    member.get(ATTACHMENTS + "/x", status=404)


def test_an_upload_is_idempotent_with_a_key(client_for: Callable[..., ApiClient],
                                           people: dict[str, Any], task: Any) -> None:
    member = client_for(people["member"])
    content_type, body = multipart(("a.txt", b"a"))
    key = {"Idempotency-Key": "upload-1"}
    first = member.post(ATTACHMENTS, body=body, content_type=content_type, headers=key,
                        status=201)
    again = member.post(ATTACHMENTS, body=body, content_type=content_type, headers=key,
                        status=201)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json == first.json
    assert len(member.get(ATTACHMENTS).json["items"]) == 1


@pytest.fixture(scope="session")
def open_app_wsgi(database_url: str, engine: Any) -> Any:
    """The app with every media type allowed (``*/*``)."""
    return main({}, **app_settings(database_url, **{"taskdesk.attachments.types": "*/*"}))


@pytest.fixture
def open_app(open_app_wsgi: Any, connection: Any) -> Iterator[webtest.TestApp]:
    with joined(open_app_wsgi, connection):
        yield webtest.TestApp(open_app_wsgi, extra_environ={"HTTP_HOST": HOST})


def test_the_list_runs_the_same_statements_however_many_files(
        client_for: Callable[..., ApiClient], people: dict[str, Any], task: Any,
        connection: Any) -> None:
    member = client_for(people["member"])

    def count() -> int:
        member.get(ATTACHMENTS)  # warm: the token's last-use stamp, caches
        with recorded_statements(connection) as seen:
            assert member.get(ATTACHMENTS).json["items"]
        return len(seen)

    upload(member, ("one.txt", b"1"))
    small = count()
    upload(member, *[(f"{n}.txt", str(n).encode() * 10) for n in range(12)])
    # the project with its memberships; the task and its labels (two, as for every request
    # on a task); identity (token, user, groups); the page of attachments with uploaders
    assert small == count() == 5
