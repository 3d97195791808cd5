"""Board column totals are bounded: past the cap they read "N+" and link to the full list."""

from __future__ import annotations

from taskdesk.web.views import tasks as task_views


def test_column_totals_past_the_cap_show_a_plus(testapp, login_as, world, make_task,
                                                monkeypatch):
    monkeypatch.setattr(task_views, "BOARD_COUNT_CAP", 2)
    for number in range(3):
        make_task(world.project, world.manager, title=f"Open {number}")
    make_task(world.project, world.manager, title="Finished", status="done")
    login_as("mia")
    page = testapp.get("/projects/apollo/board")
    headings = {
        section["data-status"]: section.find("h2").get_text(" ", strip=True)
        for section in page.html.select("section[data-status]")
    }
    assert headings["open"].endswith("2+")
    assert headings["done"].endswith("1")
    assert "All tasks" in page.html.find("section", attrs={"data-status": "open"}).get_text()
