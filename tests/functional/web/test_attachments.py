"""Attachments on the task page: upload through the form, thumbnails and names, comments
with files, delete with confirmation, who sees what; the statement count with files."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from taskdesk.models import Attachment, Comment
from tests.support.files import DOCX_NAME, docx, png, png_bomb
from tests.support.web import confirm, find_form


def send(app: Any, form: Any, files: list[tuple[str, bytes]], status: Any = None,
         **fields: str) -> Any:
    """Submit ``form`` (a multipart form of the page) with ``files`` chosen in its file
    input, as a browser does with a multiple file input."""
    params = [(name, value) for name, value in form.submit_fields() if name != "file"]
    params += list(fields.items())
    return app.post(form.action, params, upload_files=[("file", n, d) for n, d in files],
                    status=status)


def test_upload_show_and_delete_on_the_task_page(testapp, login_as, world, make_task,
                                                 dbsession):
    task = make_task(world.project, world.manager, title="Layout bug")
    login_as("mia")
    page = testapp.get(f"/projects/apollo/tasks/{task.number}")
    assert "No attachments." in page.text
    form = find_form(page, "/attachments/")
    page = send(testapp, form, [("screen.png", png()), (DOCX_NAME, docx())]).follow()
    assert "2 file(s) attached." in page.text
    section = page.html.find(id="attachments")
    names = [a.get_text() for a in section.select(".attachment__info a")]
    assert names == ["screen.png", DOCX_NAME]
    thumbnail = section.find("img")
    assert thumbnail["alt"] == "screen.png"
    assert thumbnail["src"].endswith("/thumbnail")
    assert testapp.get(thumbnail["src"]).body.startswith(b"\x89PNG")
    document = section.find("a", string=DOCX_NAME)
    download = testapp.get(document["href"])
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert "Mia Member" in section.get_text()
    history = page.html.find(id="history-heading").parent.get_text()
    assert "Mia Member attached screen.png" in history

    file_id = dbsession.scalar(select(Attachment.id).where(Attachment.filename == DOCX_NAME))
    delete = find_form(page, f"/attachments/{file_id}/delete")
    assert delete.fields["csrf_token"]
    page = delete.submit().follow()
    assert f"{DOCX_NAME} deleted." in page.text
    assert f"Mia Member deleted the attachment {DOCX_NAME}" in page.text
    assert dbsession.scalar(select(func.count()).select_from(Attachment)) == 1


def test_refused_files_show_the_reason_and_keep_nothing(testapp, login_as, world, make_task,
                                                        dbsession):
    task = make_task(world.project, world.manager, title="Bomb")
    login_as("mia")
    form = find_form(testapp.get(f"/projects/apollo/tasks/{task.number}"), "/attachments/")
    page = send(testapp, form, [("huge.png", png_bomb())], status=400)
    error = page.html.find(id="file-error")
    assert error.get_text() == "This image is too large to show (more than 50 megapixels)."
    assert page.html.find(id="f-attach")["aria-invalid"] == "true"
    assert dbsession.scalar(select(func.count()).select_from(Attachment)) == 0


def test_a_comment_carries_its_files(testapp, login_as, world, make_task, dbsession):
    task = make_task(world.project, world.manager, title="Crash")
    login_as("mia")
    form = find_form(testapp.get(f"/projects/apollo/tasks/{task.number}"), "/comments/")
    page = send(testapp, form, [("crash.png", png())], body="See the screenshot").follow()
    comment = dbsession.scalar(select(Comment).where(Comment.task_id == task.id))
    article = page.html.find(id=f"comment-{comment.id}")
    assert [a.get_text() for a in article.select(".attachment__info a")] == ["crash.png"]
    # Shown with its comment, not among the task's own files.
    assert "No attachments." in page.html.find(id="attachments").get_text()

    # A refused file refuses the comment too, and keeps what was typed.
    form = find_form(page, "/comments/")
    page = send(testapp, form, [("bomb.png", png_bomb())], status=400, body="And this")
    assert page.html.find(id="comment-files-error") is not None
    assert find_form(page, "/comments/")["body"].value == "And this"
    assert dbsession.scalar(select(func.count()).select_from(Comment)) == 1

    # Deleting the comment deletes its files with it.
    page = testapp.get(f"/projects/apollo/tasks/{task.number}")
    find_form(page, f"/comments/{comment.id}/delete").submit().follow()
    assert dbsession.scalar(select(func.count()).select_from(Attachment)) == 0


def test_viewers_see_files_but_cannot_add_or_delete(testapp, login_as, world, make_task,
                                                     dbsession, signed_in):
    task = make_task(world.project, world.manager, title="Spec")
    mia = signed_in("mia")
    form = find_form(mia.get(f"/projects/apollo/tasks/{task.number}"), "/attachments/")
    send(mia, form, [("spec.txt", b"the spec")]).follow()
    file_id = dbsession.scalar(select(Attachment.id))
    url = f"/projects/apollo/tasks/{task.number}/attachments/{file_id}"

    login_as("vic")
    page = testapp.get(f"/projects/apollo/tasks/{task.number}")
    assert "spec.txt" in page.text
    assert not [f for f in page.forms.values() if "/attachments" in (f.action or "")]
    assert testapp.get(url + "/download").body == b"the spec"
    token = page.html.select_one("meta[name=csrf-token]")["content"]
    testapp.post(url + "/delete", {"csrf_token": token},
                 status=403)

    # Someone who cannot see the task cannot see its files: 404, as for the task.
    olga = signed_in("olga")
    olga.get(f"/projects/apollo/tasks/{task.number}", status=404)
    olga.get(url + "/download", status=404)
    testapp.reset()
    testapp.get(url + "/download", status=303)  # signed out: to the sign-in page

    # A manager deletes anyone's file (confirming without JavaScript).
    manny = signed_in("manny")
    page = manny.get(f"/projects/apollo/tasks/{task.number}")
    asked = find_form(page, f"/attachments/{file_id}/delete").submit()
    if asked.status_int == 200:
        asked = confirm(asked)
    asked.follow()
    assert dbsession.scalar(select(func.count()).select_from(Attachment)) == 0


def test_the_task_page_reads_attachments_in_one_statement(testapp, login_as, world,
                                                          make_task, dbsession,
                                                          count_statements, signed_in):
    task = make_task(world.project, world.manager, title="Many files")
    path = f"/projects/apollo/tasks/{task.number}"
    login_as("manny")
    mia = signed_in("mia")

    def count() -> int:
        testapp.get(path)
        with count_statements() as statements:
            testapp.get(path)
        return len(statements)

    def attach(n: int) -> None:
        form = find_form(mia.get(path), "/attachments/")
        send(mia, form, [(f"f{i}.png", png(10 + i, 10)) for i in range(n)]).follow()
        form = find_form(mia.get(path), "/comments/")
        send(mia, form, [("c.txt", b"c")], body="with a file").follow()

    attach(1)
    small = count()
    attach(5)
    assert small == count() == 11  # the task page's 10, and one for its attachments
