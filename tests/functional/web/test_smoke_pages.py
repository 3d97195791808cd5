"""Every page of the web UI renders for the people who may see it."""

from __future__ import annotations


def test_pages_render(testapp, login_as, world, make_task):
    task = make_task(world.project, world.manager, title="Write the 文档", labels=["docs"])
    login_as("manny")
    for path in ("/", "/projects", "/projects/new", "/projects/apollo/",
                 "/projects/apollo/board", "/projects/apollo/charts",
                 "/projects/apollo/settings", "/projects/apollo/members/",
                 "/projects/apollo/tasks/new", f"/projects/apollo/tasks/{task.number}",
                 f"/projects/apollo/tasks/{task.number}/edit",
                 f"/projects/apollo/tasks/{task.number}/delete"):
        page = testapp.get(path)
        assert page.status_int == 200, path
        assert "<main" in page.text
