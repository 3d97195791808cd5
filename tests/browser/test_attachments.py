"""Attachments in a real browser: files chosen on the task page (an image gets a
thumbnail), a screenshot pasted into the comment box goes with the comment, one pasted into
the description on the edit page is uploaded and shown in the text; deleting asks first;
the page in Chinese and on a phone-sized screen.

Screenshots: tests/browser/artifacts/attachments-NN-*.png.
"""

from __future__ import annotations

import base64
import re
from pathlib import Path
from typing import Any

import pytest

from tests.support.browser import Site, Steps, choose_language, sign_in
from tests.support.files import DOCX_NAME, docx, png

pytestmark = pytest.mark.browser

sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
expect = sync_api.expect

#: Paste an image into the element with ``id`` as a browser does for a screenshot on the
#: clipboard (most browsers call such a file image.png).
PASTE = """([id, data]) => {
  const bytes = Uint8Array.from(atob(data), c => c.charCodeAt(0));
  const list = new DataTransfer();
  list.items.add(new File([bytes], "image.png", {type: "image/png"}));
  document.getElementById(id).dispatchEvent(new ClipboardEvent("paste", {
    clipboardData: list, bubbles: true, cancelable: true}));
}"""


def paste_image(page: Any, element_id: str, image: bytes) -> None:
    page.evaluate(PASTE, [element_id, base64.b64encode(image).decode()])


def test_attachments(page: Any, problems: list[str], live_server: Site, artifacts: Path,
                     tmp_path: Path) -> None:
    site = live_server
    steps = Steps(page, artifacts, "attachments")
    sign_in(page, site, site.username)
    choose_language(page, "en")
    page.goto(f"{site.url}/projects/new")
    page.get_by_role("textbox", name="Name", exact=True).fill("Files 文件")
    page.get_by_label("URL name").fill("files")
    page.get_by_role("button", name="Create project").click()
    page.goto(f"{site.url}/projects/files/tasks/new")
    page.get_by_label("Title").fill("The login page looks broken 登录页")
    page.get_by_role("button", name="Create task").click()
    task_url = page.url

    shot = tmp_path / "login-page.png"
    shot.write_bytes(png(640, 400, (40, 110, 200)))
    document = tmp_path / DOCX_NAME
    document.write_bytes(docx())
    page.get_by_label("Attach files").first.set_input_files([str(shot), str(document)])
    page.get_by_role("button", name="Upload").click()
    expect(page.locator(".flash--success")).to_contain_text("2 file(s) attached")
    files = page.locator("#attachments .attachment")
    expect(files).to_have_count(2)
    thumbnail = page.locator("#attachments img")
    expect(thumbnail).to_have_attribute("alt", "login-page.png")
    assert thumbnail.evaluate("img => img.naturalWidth") > 0  # the thumbnail loaded
    expect(page.locator("#attachments")).to_contain_text(DOCX_NAME)

    # A screenshot pasted into the comment box goes with the comment.
    page.get_by_label("Add a comment").fill("It happens after signing in. 登录后出现。")
    paste_image(page, "f-body", png(300, 200, (220, 60, 60)))
    assert page.locator("#f-comment-files").evaluate("input => input.files.length") == 1
    page.get_by_role("button", name="Comment", exact=True).click()
    expect(page.locator(".comment .attachment")).to_have_count(1)
    expect(page.locator(".comment .attachment img")).to_be_visible()
    steps.shot("task")

    # On the edit page a screenshot pasted into the description is uploaded and linked.
    page.goto(f"{task_url}/edit")
    page.get_by_label("Description").fill("Steps:\n")
    paste_image(page, "f-description", png(200, 120, (30, 160, 90)))
    expect(page.get_by_label("Description")).to_have_value(
        re.compile(r"!\[screenshot-[0-9T-]+\.png\]\(.+/attachments/\d+/download\)"))
    page.get_by_role("button", name="Save task").click()
    expect(page.locator(".markdown img")).to_be_visible()
    assert page.locator(".markdown img").evaluate("img => img.naturalWidth") == 200
    steps.shot("description-image")

    # The page in Chinese, then on a phone.
    choose_language(page, "zh_CN")
    expect(page.get_by_role("heading", name="附件")).to_be_visible()
    steps.shot("task-zh")
    page.set_viewport_size({"width": 390, "height": 844})
    page.locator("#attachments").scroll_into_view_if_needed()
    steps.shot("task-390")
    page.set_viewport_size({"width": 1280, "height": 860})
    choose_language(page, "en")

    # Deleting asks first.
    page.get_by_role("button", name=f"Delete {DOCX_NAME}").click()
    dialog = page.locator("dialog.confirm-dialog")
    expect(dialog).to_be_visible()
    steps.shot("delete-asks")
    dialog.get_by_role("button", name="Delete file").click()
    expect(page.locator(".flash--success")).to_contain_text(f"{DOCX_NAME} deleted.")
    expect(files).to_have_count(2)  # the first image, and the one pasted into the description
    assert problems == []
