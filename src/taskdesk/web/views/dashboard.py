"""The dashboard, everyone's landing page: "My work" (my open tasks in every project, by due
date then priority), tasks I reported, activity in my projects."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pyramid.request import Request

from taskdesk.domain.feeds import activity, sees_any_project
from taskdesk.domain.task_list import list_tasks, my_work, parse_task_query
from taskdesk.domain.tasks import is_overdue
from taskdesk.resources import Root
from taskdesk.security.permissions import Permission
from taskdesk.security.policy import signed_in
from taskdesk.settings import settings_of
from taskdesk.web.declare import web_view

#: How many tasks each dashboard list shows; the project lists have the rest.
MY_TASKS_LIMIT = 100
REPORTED_LIMIT = 10
ACTIVITY_LIMIT = 15


@web_view(context=Root, renderer="dashboard.jinja2", permission=Permission.SIGNED_IN,
          request_method="GET")
def dashboard(context: Root, request: Request) -> dict[str, Any]:
    dbsession = request.dbsession
    viewer = signed_in(request).viewer
    workflow = settings_of(request.registry).workflow
    mine = my_work(dbsession, viewer, workflow, limit=MY_TASKS_LIMIT)
    today = request.today
    end_of_week = today + timedelta(days=6 - today.weekday())
    groups: dict[str, list[Any]] = {"overdue": [], "week": [], "later": []}
    for task in mine.items:
        if is_overdue(workflow, task.status, task.due_date, today):
            groups["overdue"].append(task)
        elif task.due_date is not None and task.due_date <= end_of_week:
            groups["week"].append(task)
        else:
            groups["later"].append(task)
    reported = list_tasks(
        dbsession, viewer,
        parse_task_query({"reporter": "me", "state": "open", "sort": "-updated"}, workflow),
        limit=REPORTED_LIMIT,
    )
    latest = activity(dbsession, viewer, member_only=True, limit=ACTIVITY_LIMIT)
    # A new user's dashboard is empty: it says how to get into a project, or find work.
    in_a_project = bool(mine.items or reported.items or latest) or sees_any_project(
        dbsession, viewer)
    return {
        "nav": "dashboard",
        "groups": groups,
        "more_mine": mine.next_cursor is not None,
        "reported": reported.items,
        "activity": latest,
        "in_a_project": in_a_project,
        "can_create_project": request.has_permission(Permission.CREATE_PROJECT, context),
    }
