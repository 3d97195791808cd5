"""The permission matrix: every registered view x method x actor, with the exact status.

The list of views comes from Pyramid's introspector, so a view added without a rule here
fails ``test_every_view_has_a_rule`` (as does a view without a permission, a rule whose
view is gone, and a view registered with another permission than its rule names). Static
files and exception views (error pages) are exempt.

The expected status is not asked of the app: ``matrix.expected`` derives it from the rule's
permission and a model of the spec written in ``matrix`` (roles, visibility, archived
projects, comment authorship, token scope), in short:

* allowed -> the rule's ``success`` status (a read-only token never passes on a method other
  than GET/HEAD/OPTIONS, but on a route that only reads: GraphQL's POST);
* not recognised (anonymous, a deactivated user's old cookie, a revoked token) -> 401 on the
  API (a broken token never reads as 404); on the web, 303 to ``/login?next=...`` for GET;
* inside a project the caller may not see (private, not a member) -> 404;
* a resource only its owner can find (``/me/tokens/<id>``) and the caller is not
  recognised -> 404;
* otherwise -> 403.

Actors (``world.ACTORS``): anonymous, outsider (signed in, no role), viewer, member, manager,
group_member (member through a group), site_admin, deactivated (a manager whose cookie was
made before deactivation), revoked_token and read_only_token (the manager's), write_token
(the member's; it proves bearer requests need no CSRF token).

Views without a method predicate are allowed only when listed in ``CATCH_ALL_VIEWS`` (the
API's 405 answer); the matrix probes each with a method nothing else answers, expecting
what the same name's GET rule expects, with the listed success status.

Each request runs in a savepoint rolled back afterwards, so every actor starts from the same
data (see ``matrix.run``). The data is ``world.build_world``: three projects (private,
internal, archived) in which viewer, member, manager, the deactivated user and the group
"team" (with ``group_member`` in it) hold roles; one task and one comment by the member in
each.

How to add a rule for a new view
--------------------------------
Add to ``RULES`` below ``rules(<context class>, "<view name>", "<METHODS>", <Permission>,
...)`` with, as needed:

* ``api=True`` for a view on the JSON route ``api_v1`` (bodies are then sent as JSON; the
  GraphQL route ``graphql`` answers like it, see ``matrix.JSON_ROUTES``);
* ``success=`` the status of a successful call (200 default; 201/204/303 for changes);
* ``body=lambda w, state: {...}`` a valid form or JSON body (``w`` is the ``World``:
  ``w.users["candidate"]``, ``w.tasks[state]``, ...; ``state`` names the project);
* ``target=`` a key of ``matrix.TARGETS`` when the view is reached another way than its
  context's default resource (``matrix.DEFAULT_TARGETS``), e.g. a view on its own route;
* ``requires=`` the permission the request really needs when the view checks more than its
  registered permission (the API's task PATCH checks each field's permission);
* ``query=`` a query string.

The permission is checked against the view's registration; the context, view name, method
and route must match ``view_config``. If the view needs a resource the world lacks, add it
to ``world.build_world`` and a path to ``matrix.TARGETS``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
import webtest
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from taskdesk.api.traversal import AllTasks
from taskdesk.resources import (
    AdminArea,
    AttachmentContainer,
    AttachmentResource,
    AuditLog,
    CommentContainer,
    CommentResource,
    DeliveryContainer,
    DeliveryResource,
    Explainer,
    GroupContainer,
    GroupResource,
    Me,
    MemberContainer,
    MemberResource,
    ProjectContainer,
    ProjectResource,
    Root,
    SignIn,
    TaskContainer,
    TaskResource,
    TokenContainer,
    TokenResource,
    TwoFactorSettings,
    UserContainer,
    UserResource,
    WebhookContainer,
    WebhookResource,
)
from taskdesk.security.permissions import Permission as P
from tests.functional.security.matrix import (
    PROJECT_TARGETS,
    Rule,
    catch_all_rules,
    check_registration,
    registered_views,
    rules,
    run,
)
from tests.functional.security.world import ACTORS, Actor, World, build_world
from tests.support.factories import Factory
from tests.support.sessions import new_browser

NEW_PASSWORD = "a brand new password"


def task_form(w: World, state: str, **values: str) -> dict[str, str]:
    """Every field of the task form, valid, based on the task's current version."""
    return {"title": "Edited title", "description": "", "status": "open",
            "priority": "normal", "assignee": "", "due_date": "", "labels": "",
            "version": str(w.tasks[state].version), **values}


def version(w: World, state: str) -> dict[str, str]:
    return {"version": str(w.tasks[state].version)}


def confirmed(w: World, state: str) -> dict[str, str]:
    """What a destructive form carries once confirmed (without it: a confirmation page)."""
    return {"confirmed": "yes"}


def link_form(w: World, state: str) -> dict[str, str]:
    """A new link (the world links the two tasks as "relates to" already)."""
    return {"kind": "blocks", "task": f"#{w.others[state].number}"}


def bulk_form(w: World, state: str) -> dict[str, str]:
    task = w.tasks[state]
    return {"task": f"{task.number}:{task.version}", "priority": "high"}


def bulk_json(w: World, state: str) -> dict[str, Any]:
    task = w.tasks[state]
    return {"tasks": [{"number": task.number, "version": task.version}], "priority": "high"}


def comment_version(w: World, state: str) -> dict[str, str]:
    return {"version": str(w.comments[state].version)}


def a_file(w: World, state: str) -> list[tuple[str, str, bytes]]:
    return [("file", "notes.txt", b"some notes")]


RULES: list[Rule] = [
    # -- site: probes, sign-in, language ---------------------------------------------------
    *rules(Root, "healthz", "GET HEAD", P.PUBLIC),
    *rules(Root, "readyz", "GET HEAD", P.PUBLIC),
    *rules(SignIn, "", "GET", P.PUBLIC),
    *rules(SignIn, "", "POST", P.PUBLIC,
           body=lambda w, s: {"username": "nobody", "password": "not the password"}),
    # The second step of a sign-in and required enrolment: without a pending sign-in
    # (nobody here has one) they send the browser back to the sign-in page.
    *rules(SignIn, "verify", "GET", P.PUBLIC, success=303),
    *rules(SignIn, "verify", "POST", P.PUBLIC, success=303,
           body=lambda w, s: {"code": "123456"}),
    *rules(SignIn, "enrol", "GET", P.PUBLIC, success=303),
    *rules(SignIn, "enrol", "POST", P.PUBLIC, success=303,
           body=lambda w, s: {"code": "123456"}),
    *rules(Root, "logout", "POST", P.PUBLIC, success=303),
    # OpenID Connect sign-in: public; the matrix's app has no provider set up, so both
    # answer 404 to everyone (tests/functional/security/test_oidc.py signs in for real).
    *rules(Root, "oidc-sign-in", "POST", P.PUBLIC, success=404),
    *rules(Root, "oidc-callback", "GET", P.PUBLIC, success=404),
    *rules(Root, "language", "POST", P.PUBLIC, success=303,
           body=lambda w, s: {"locale": "zh_CN", "next": "/"}),
    *rules(Root, "", "GET", P.SIGNED_IN),
    # Search everywhere: what it finds is filtered by visibility in SQL (test_search.py).
    *rules(Root, "search", "GET", P.SIGNED_IN, query="q=task"),
    # The one-click link of notification mails: public, its token is the authority. The
    # matrix has no genuine token, so every caller gets the "not a valid link" page (400);
    # tests/functional/notify/test_unsubscribe.py follows real links.
    *rules(Root, "unsubscribe", "GET POST", P.PUBLIC, success=400),
    # -- the signed-in user's own area ------------------------------------------------------
    *rules(Me, "", "GET", P.SIGNED_IN),
    *rules(Me, "profile", "POST", P.SIGNED_IN, success=303,
           body=lambda w, s: {"display_name": "New Name", "email": "new@example.com",
                              "locale": "en"}),
    *rules(Me, "password", "POST", P.SIGNED_IN, success=303,
           body=lambda w, s: {"current_password": Factory.PASSWORD,
                              "new_password": NEW_PASSWORD,
                              "new_password_confirm": NEW_PASSWORD}),
    *rules(Me, "sessions", "POST", P.SIGNED_IN, success=303),
    *rules(Me, "notification-preferences", "POST", P.SIGNED_IN, success=303,
           body=lambda w, s: {"assigned": "digest", "watching": "off"}),
    # Two-factor settings are only ever the caller's own (tests/functional/web/
    # test_two_factor.py): nobody in the world has it on, so a wrong code is a form error,
    # new recovery codes have nothing to replace, and turning it off changes nothing.
    *rules(TwoFactorSettings, "", "GET", P.SIGNED_IN),
    *rules(TwoFactorSettings, "", "POST", P.SIGNED_IN, success=400,
           body=lambda w, s: {"code": "12345x"}),
    *rules(TwoFactorSettings, "recovery-codes", "POST", P.SIGNED_IN, success=303),
    *rules(TwoFactorSettings, "disable", "POST", P.SIGNED_IN, success=303,
           body=lambda w, s: {"reauth": Factory.PASSWORD}),
    *rules(TwoFactorSettings, "forget-devices", "POST", P.SIGNED_IN, success=303),
    # The inbox is only ever the caller's own (tests/functional/web/test_notifications.py).
    *rules("Inbox", "", "GET", P.SIGNED_IN),
    *rules("Inbox", "read", "POST", P.SIGNED_IN, success=303),
    *rules("Inbox", "open", "GET", P.SIGNED_IN, success=303),
    *rules("Inbox", "changes", "GET", P.SIGNED_IN),
    *rules("Inbox", "bell", "GET", P.SIGNED_IN),
    *rules(TokenContainer, "", "GET", P.SIGNED_IN),
    *rules(TokenContainer, "", "POST", P.SIGNED_IN,
           body=lambda w, s: {"name": "ci", "scope": "read", "expires_in_days": "30"}),
    *rules(TokenResource, "revoke", "POST", P.SIGNED_IN, success=303),
    # Activity: my feed, and a new secret Atom feed address (shown once: no redirect).
    *rules(Me, "activity", "GET", P.SIGNED_IN),
    *rules(Me, "feed", "POST", P.SIGNED_IN),
    # The Atom feed: its secret is the authority, whoever asks (a feed reader sends no
    # cookie); it shows what the address's owner may see (test_activity_feeds.py).
    *rules("FeedResource", "activity.atom", "GET", P.PUBLIC),
    # -- site administration -----------------------------------------------------------------
    *rules(AdminArea, "", "GET", P.ADMINISTER),
    *rules(UserContainer, "", "GET", P.ADMINISTER),
    *rules(UserContainer, "new", "GET", P.ADMINISTER),
    *rules(UserContainer, "new", "POST", P.ADMINISTER, success=303,
           body=lambda w, s: {"username": "newbie", "display_name": "Newbie",
                              "email": "newbie@example.com", "password": NEW_PASSWORD}),
    *rules(UserResource, "", "GET", P.ADMINISTER),
    *rules(UserResource, "deactivate", "POST", P.ADMINISTER, success=303, body=confirmed),
    *rules(UserResource, "reactivate", "POST", P.ADMINISTER, success=303),
    *rules(UserResource, "password", "POST", P.ADMINISTER, success=303,
           body=lambda w, s: {"password": NEW_PASSWORD}),
    *rules(UserResource, "admin", "POST", P.ADMINISTER, success=303,
           body=lambda w, s: {"is_site_admin": "true"}),
    *rules(UserResource, "end-sessions", "POST", P.ADMINISTER, success=303),
    *rules(UserResource, "reset-two-factor", "POST", P.ADMINISTER, success=303,
           body=confirmed),
    *rules(GroupContainer, "", "GET", P.ADMINISTER),
    *rules(GroupContainer, "new", "GET", P.ADMINISTER),
    *rules(GroupContainer, "new", "POST", P.ADMINISTER, success=303,
           body=lambda w, s: {"name": "newgroup", "description": ""}),
    *rules(GroupResource, "", "GET", P.ADMINISTER),
    *rules(GroupResource, "add-member", "POST", P.ADMINISTER, success=303,
           body=lambda w, s: {"username": "candidate"}),
    *rules(GroupResource, "remove-member", "POST", P.ADMINISTER, success=303,
           body=lambda w, s: {"username": "grouped", "confirmed": "yes"}),
    *rules(GroupResource, "candidates", "GET", P.ADMINISTER, query="q=cand"),
    *rules("Deliveries", "", "GET", P.ADMINISTER),
    *rules("Deliveries", "retry", "POST", P.ADMINISTER, success=303,
           body=lambda w, s: {"event": "1"}),
    *rules(AuditLog, "", "GET", P.ADMINISTER, query="kind=auth.sign_in"),
    *rules(Explainer, "", "GET", P.ADMINISTER,
           query="user=member&path=private-project&permission=edit_task&if_role=viewer"),
    *rules(Explainer, "", "GET", P.ADMINISTER, api=True,
           query="user=member&path=private-project&permission=edit_task&if_role=viewer"),
    # -- projects and their members ------------------------------------------------------------
    *rules(ProjectContainer, "", "GET", P.SIGNED_IN),
    *rules(ProjectContainer, "new", "GET", P.CREATE_PROJECT),
    *rules(ProjectContainer, "new", "POST", P.CREATE_PROJECT, success=303,
           body=lambda w, s: {"slug": "brand-new", "name": "Brand new", "description": "",
                              "visibility": "private"}),
    *rules(ProjectResource, "settings", "GET", P.MANAGE_PROJECT),
    *rules(ProjectResource, "settings", "POST", P.MANAGE_PROJECT, success=303,
           body=lambda w, s: {"name": "Renamed", "description": "New words",
                              "visibility": "private"}),
    *rules(ProjectResource, "archive", "POST", P.ARCHIVE_PROJECT, success=303, body=confirmed),
    *rules(ProjectResource, "unarchive", "POST", P.ARCHIVE_PROJECT, success=303),
    *rules(MemberContainer, "", "GET", P.VIEW),
    *rules(MemberContainer, "", "POST", P.MANAGE_MEMBERS, success=303,
           body=lambda w, s: {"kind": "user", "name": "candidate", "role": "member"}),
    *rules(MemberResource, "", "POST", P.MANAGE_MEMBERS, success=303,
           body=lambda w, s: {"role": "member"}),
    *rules(MemberResource, "remove", "POST", P.MANAGE_MEMBERS, success=303, body=confirmed),
    *rules(MemberContainer, "candidates", "GET", P.MANAGE_MEMBERS, query="q=cand"),
    # -- tasks ---------------------------------------------------------------------------------
    *rules(ProjectResource, "", "GET", P.VIEW),
    *rules(ProjectResource, "board", "GET", P.VIEW),
    *rules(ProjectResource, "charts", "GET", P.VIEW),
    *rules(ProjectResource, "changes", "GET", P.VIEW),
    *rules(ProjectResource, "activity", "GET", P.VIEW),
    *rules(TaskContainer, "", "GET", P.VIEW, success=303),
    *rules(TaskContainer, "export.csv", "GET", P.VIEW),
    *rules(TaskContainer, "new", "GET", P.CREATE_TASK),
    *rules(TaskContainer, "new", "POST", P.CREATE_TASK, success=303,
           body=lambda w, s: {k: v for k, v in task_form(w, s).items() if k != "version"}),
    *rules(TaskResource, "", "GET", P.VIEW),
    *rules(TaskResource, "edit", "GET", P.EDIT_TASK),
    *rules(TaskResource, "edit", "POST", P.EDIT_TASK, success=303, body=task_form),
    *rules(TaskResource, "status", "POST", P.SET_STATUS, success=303,
           body=lambda w, s: {"status": "in_progress", **version(w, s)}),
    *rules(TaskResource, "move", "POST", P.SET_STATUS, success=303,
           body=lambda w, s: {"status": "in_progress", **version(w, s)}),
    *rules(TaskResource, "assign-me", "POST", P.ASSIGN, success=303, body=version),
    *rules(TaskResource, "assign", "POST", P.ASSIGN, success=303,
           body=lambda w, s: {"assignee": "", **version(w, s)}),
    *rules(ProjectResource, "assignable", "GET", P.ASSIGN, query="q=mem"),
    *rules(ProjectResource, "assignees", "GET", P.VIEW, query="q=mem"),
    *rules(ProjectResource, "mentionable", "GET", P.VIEW, query="q=mem"),
    # Watching needs only "view": whoever may see a task or project may hear of it.
    *rules(TaskResource, "watch", "POST", P.VIEW, success=303),
    *rules(TaskResource, "unwatch", "POST", P.VIEW, success=303),
    *rules(ProjectResource, "watch", "POST", P.VIEW, success=303),
    *rules(ProjectResource, "unwatch", "POST", P.VIEW, success=303),
    # Links: adding or removing one needs edit_task on the task it is added to or removed
    # from (and view on the other task, which is in the same project here).
    *rules("TaskLinks", "", "GET", P.VIEW, success=303),
    *rules("TaskLinks", "", "POST", P.EDIT_TASK, success=303, body=link_form),
    *rules("TaskLinkResource", "delete", "POST", P.EDIT_TASK, success=303),
    # Sub-tasks are listed on the parent's page; adding one creates a task.
    *rules("SubtaskContainer", "", "GET", P.VIEW, success=303),
    *rules("SubtaskContainer", "", "POST", P.CREATE_TASK, success=303,
           body=lambda w, s: {"title": "A sub-task"}),
    # Ticking a checklist item rewrites the description: an edit.
    *rules(TaskResource, "checklist", "POST", P.EDIT_TASK, success=303, body=version),
    *rules(TaskResource, "delete", "GET", P.DELETE_TASK),
    *rules(TaskResource, "delete", "POST", P.DELETE_TASK, success=303,
           body=lambda w, s: {**version(w, s), "confirmed": "yes"}),
    # Bulk changes: secured with "view"; each task's change is checked as a single change
    # would be (a viewer's is refused per task, on the summary page).
    *rules(TaskContainer, "bulk", "GET", P.VIEW, success=303),
    *rules(TaskContainer, "bulk", "POST", P.VIEW, body=bulk_form),
    # Saved views: anyone who may see the project saves a private one (sharing needs
    # edit_task, checked in the domain); the owner, or a manager for a shared one, changes
    # or deletes it.
    *rules("SavedViewContainer", "", "GET", P.VIEW, success=303),
    *rules("SavedViewContainer", "", "POST", P.VIEW, success=303,
           body=lambda w, s: {"name": "Mine", "priority": "high"}),
    *rules("SavedViewResource", "", "GET", P.VIEW, success=303),
    *rules("SavedViewResource", "edit", "GET", P.CHANGE_VIEW),
    *rules("SavedViewResource", "edit", "POST", P.CHANGE_VIEW, success=303,
           body=lambda w, s: {"name": "Renamed"}),
    *rules("SavedViewResource", "delete", "GET", P.CHANGE_VIEW),
    *rules("SavedViewResource", "delete", "POST", P.CHANGE_VIEW, success=303, body=confirmed),
    # -- comments ------------------------------------------------------------------------------
    *rules(CommentContainer, "", "GET", P.VIEW, success=303),
    *rules(CommentContainer, "", "POST", P.COMMENT, success=303,
           body=lambda w, s: {"body": "A reply"}),
    *rules(CommentResource, "edit", "GET", P.EDIT_COMMENT),
    *rules(CommentResource, "edit", "POST", P.EDIT_COMMENT, success=303,
           body=lambda w, s: {"body": "Edited words", **comment_version(w, s)}),
    *rules(CommentResource, "delete", "POST", P.DELETE_COMMENT, success=303),
    # -- JSON API ------------------------------------------------------------------------------
    *rules(Root, "openapi.json", "GET", P.PUBLIC, api=True),
    *rules("*", "", "GET", P.PUBLIC, route="api_docs", target="api_docs"),
    *rules(Me, "", "GET", P.SIGNED_IN, api=True),
    *rules(Me, "notification-preferences", "GET", P.SIGNED_IN, api=True),
    *rules(Me, "notification-preferences", "PUT", P.SIGNED_IN, api=True,
           body=lambda w, s: {"mentioned": "digest"}),
    *rules("Inbox", "", "GET", P.SIGNED_IN, api=True),
    *rules("Inbox", "read", "POST", P.SIGNED_IN, api=True, body=lambda w, s: {}),
    *rules("TaskWatch", "", "GET", P.VIEW, api=True),
    *rules("TaskWatch", "", "PUT", P.VIEW, api=True),
    *rules("TaskWatch", "", "DELETE", P.VIEW, api=True, success=204),
    *rules("ProjectWatch", "", "GET", P.VIEW, api=True),
    *rules("ProjectWatch", "", "PUT", P.VIEW, api=True),
    *rules("ProjectWatch", "", "DELETE", P.VIEW, api=True, success=204),
    *rules(TokenContainer, "", "GET", P.SIGNED_IN, api=True),
    *rules(TokenContainer, "", "POST", P.SIGNED_IN, api=True, success=201,
           body=lambda w, s: {"name": "ci", "scope": "read"}),
    *rules(TokenResource, "", "GET", P.SIGNED_IN, api=True),
    *rules(TokenResource, "", "DELETE", P.SIGNED_IN, api=True, success=204),
    *rules(ProjectContainer, "", "GET", P.SIGNED_IN, api=True),
    *rules(ProjectContainer, "", "POST", P.CREATE_PROJECT, api=True, success=201,
           body=lambda w, s: {"slug": "from-the-api", "name": "From the API"}),
    *rules(ProjectResource, "", "GET", P.VIEW, api=True),
    # Secured with "view"; each field needs its own permission (name: manage_project).
    *rules(ProjectResource, "", "PATCH", P.VIEW, api=True, requires=P.MANAGE_PROJECT,
           body=lambda w, s: {"name": "Renamed"}),
    *rules(ProjectResource, "", "DELETE", P.ARCHIVE_PROJECT, api=True),
    *rules(ProjectResource, "tasks.csv", "GET", P.VIEW, api=True),
    *rules(Root, "tasks.csv", "GET", P.SIGNED_IN, api=True),
    *rules(AllTasks, "", "GET", P.SIGNED_IN, api=True),
    *rules(Root, "search", "GET", P.SIGNED_IN, api=True, query="q=task"),
    *rules(MemberContainer, "", "GET", P.VIEW, api=True),
    *rules(MemberResource, "", "GET", P.VIEW, api=True),
    *rules(MemberResource, "", "PUT", P.MANAGE_MEMBERS, api=True,
           body=lambda w, s: {"role": "member"}),
    *rules(MemberResource, "", "DELETE", P.MANAGE_MEMBERS, api=True, success=204),
    *rules(TaskContainer, "", "GET", P.VIEW, api=True),
    *rules(TaskContainer, "", "POST", P.CREATE_TASK, api=True, success=201,
           body=lambda w, s: {"title": "From the API"}),
    *rules(TaskResource, "", "GET", P.VIEW, api=True),
    # Secured with "view"; each field needs its own permission (title: edit_task).
    *rules(TaskResource, "", "PATCH", P.VIEW, api=True, requires=P.EDIT_TASK,
           body=lambda w, s: {"title": "Patched"}),
    *rules(TaskResource, "", "DELETE", P.DELETE_TASK, api=True, success=204),
    *rules(TaskResource, "activity", "GET", P.VIEW, api=True),
    *rules(ProjectResource, "activity", "GET", P.VIEW, api=True),
    *rules(TaskResource, "move", "POST", P.SET_STATUS, api=True,
           body=lambda w, s: {"status": "in_progress"}),
    *rules("TaskLinks", "", "GET", P.VIEW, api=True),
    *rules("TaskLinks", "", "POST", P.EDIT_TASK, api=True, success=201, body=link_form),
    *rules("TaskLinkResource", "", "GET", P.VIEW, api=True),
    *rules("TaskLinkResource", "", "DELETE", P.EDIT_TASK, api=True, success=204),
    *rules("SubtaskContainer", "", "GET", P.VIEW, api=True),
    *rules(TaskContainer, "bulk", "POST", P.VIEW, api=True, body=bulk_json),
    *rules("SavedViewContainer", "", "GET", P.VIEW, api=True),
    *rules("MyViews", "", "GET", P.SIGNED_IN, api=True),
    *rules("SavedViewContainer", "", "POST", P.VIEW, api=True, success=201,
           body=lambda w, s: {"name": "Mine", "filters": {"priority": "high"}}),
    *rules("SavedViewResource", "", "GET", P.VIEW, api=True),
    *rules("SavedViewResource", "", "PATCH", P.CHANGE_VIEW, api=True,
           body=lambda w, s: {"name": "Renamed"}),
    *rules("SavedViewResource", "", "DELETE", P.CHANGE_VIEW, api=True, success=204),
    *rules(CommentContainer, "", "GET", P.VIEW, api=True),
    *rules(CommentContainer, "", "POST", P.COMMENT, api=True, success=201,
           body=lambda w, s: {"body": "From the API"}),
    *rules(CommentResource, "", "GET", P.VIEW, api=True),
    *rules(CommentResource, "", "PATCH", P.EDIT_COMMENT, api=True,
           body=lambda w, s: {"body": "Edited through the API"}),
    *rules(CommentResource, "", "DELETE", P.DELETE_COMMENT, api=True, success=204),
    # -- GraphQL (what each caller sees through it: tests/functional/graphql) ---------------
    # Only reads, by GET or POST: a read-only token may POST (cookies still need CSRF).
    *rules(Root, "", "GET", P.SIGNED_IN, route="graphql", target="graphql",
           query="query=%7B+me+%7B+username+%7D+%7D"),
    *rules(Root, "", "POST", P.SIGNED_IN, route="graphql", target="graphql",
           body=lambda w, s: {"query": "{ me { username } }"}),
    # -- webhooks (a project's; the all-projects ones under /admin: test_webhooks) ----------
    *rules(WebhookContainer, "", "GET", P.MANAGE_WEBHOOKS),
    *rules(WebhookContainer, "", "POST", P.MANAGE_WEBHOOKS, success=303,
           body=lambda w, s: {"payload_url": "https://1.1.1.1/new"}),
    *rules(WebhookResource, "", "GET", P.MANAGE_WEBHOOKS),
    *rules(WebhookResource, "", "POST", P.MANAGE_WEBHOOKS, success=303,
           body=lambda w, s: {"payload_url": "https://1.1.1.1/changed", "active": "on"}),
    *rules(WebhookResource, "regenerate", "POST", P.MANAGE_WEBHOOKS, success=303,
           body=confirmed),
    *rules(WebhookResource, "delete", "POST", P.MANAGE_WEBHOOKS, success=303, body=confirmed),
    *rules(DeliveryResource, "redeliver", "POST", P.MANAGE_WEBHOOKS, success=303),
    *rules(WebhookContainer, "", "GET", P.MANAGE_WEBHOOKS, api=True),
    *rules(WebhookContainer, "", "POST", P.MANAGE_WEBHOOKS, api=True, success=201,
           body=lambda w, s: {"payload_url": "https://1.1.1.1/api"}),
    *rules(WebhookResource, "", "GET", P.MANAGE_WEBHOOKS, api=True),
    *rules(WebhookResource, "", "PATCH", P.MANAGE_WEBHOOKS, api=True,
           body=lambda w, s: {"description": "Patched"}),
    *rules(WebhookResource, "", "DELETE", P.MANAGE_WEBHOOKS, api=True, success=204),
    *rules(DeliveryContainer, "", "GET", P.MANAGE_WEBHOOKS, api=True),
    *rules(DeliveryResource, "", "GET", P.MANAGE_WEBHOOKS, api=True),
    *rules(DeliveryResource, "", "POST", P.MANAGE_WEBHOOKS, api=True, success=202),
    # -- attachments (the member uploaded an image to each task) -----------------------------
    *rules(AttachmentContainer, "", "GET", P.VIEW, success=303),  # to the task page
    *rules(AttachmentContainer, "", "POST", P.COMMENT, success=303, files=a_file),
    *rules(AttachmentResource, "download", "GET", P.VIEW),
    *rules(AttachmentResource, "thumbnail", "GET", P.VIEW),
    *rules(AttachmentResource, "delete", "POST", P.DELETE_ATTACHMENT, success=303),
    *rules(AttachmentContainer, "", "GET", P.VIEW, api=True),
    *rules(AttachmentContainer, "", "POST", P.COMMENT, api=True, success=201, files=a_file),
    *rules(AttachmentResource, "", "GET", P.VIEW, api=True),
    *rules(AttachmentResource, "", "DELETE", P.DELETE_ATTACHMENT, api=True, success=204),
    *rules(AttachmentResource, "download", "GET", P.VIEW, api=True),
    *rules(AttachmentResource, "thumbnail", "GET", P.VIEW, api=True),
]
TABLE = {rule.key: rule for rule in RULES}
#: Views without a method predicate that answer every method nothing else answers, and
#: their status when the caller holds the permission (probed with such a method).
CATCH_ALL_VIEWS = {"taskdesk.api.operations.method_not_allowed": 405,
                   "taskdesk.graphql.views.method_not_allowed": 405}
assert len(TABLE) == len(RULES), "two rules for the same view and method"

FAMILIES: dict[str, Callable[[Rule], bool]] = {
    "site": lambda rule: rule.where not in PROJECT_TARGETS,
    "projects": lambda rule: rule.where in PROJECT_TARGETS and not rule.api,
    "api-projects": lambda rule: rule.where in PROJECT_TARGETS and rule.api,
}


def matrix_size(table: list[Rule]) -> int:
    """The number of requests the matrix makes for ``table``."""
    return sum(len(rule.states) * len(ACTORS) for rule in table)


def full_table(wsgi_app: Any) -> list[Rule]:
    """``RULES`` and the probes of the catch-all views currently registered."""
    return RULES + catch_all_rules(registered_views(wsgi_app), TABLE, CATCH_ALL_VIEWS)


def test_every_view_has_a_rule(wsgi_app: Any) -> None:
    views = registered_views(wsgi_app)
    problems = check_registration(views, TABLE, CATCH_ALL_VIEWS)
    assert not problems, "\n".join(problems)
    table = full_table(wsgi_app)
    print(f"\npermission matrix: {len(views)} views, {len(table)} view-methods, "
          f"{len(ACTORS)} actors, {matrix_size(table)} requests")


def check(
    wsgi_app: Any, connection: Connection, dbsession: Session, factory: Factory,
    table: list[Rule], actors: tuple[Actor, ...],
) -> None:
    """Run ``table`` for ``actors`` on a fresh world; fail listing every wrong status."""
    world = build_world(factory, dbsession)
    app: webtest.TestApp = new_browser(wsgi_app)
    wrong = []
    for outcome in run(app, connection, world, table, actors):
        if outcome.status != outcome.expected:
            wrong.append(outcome.describe())
        elif outcome.reason == "sign in first" and "/login?next=" not in (outcome.location or ""):
            wrong.append(outcome.describe() + ", not to the sign-in page")
    total = sum(len(rule.states) * len(actors) for rule in table)
    assert not wrong, f"{len(wrong)} of {total} wrong:\n" + "\n".join(wrong)


#: The matrix is checked one family and one actor at a time: each case is a few seconds
#: that pytest-xdist can hand to either worker (a whole family took half a minute).
@pytest.mark.parametrize("actor", ACTORS, ids=lambda actor: actor.name)
@pytest.mark.parametrize("family", FAMILIES)
def test_permission_matrix(
    family: str, actor: Actor, wsgi_app: Any, connection: Connection, dbsession: Session,
    factory: Factory,
) -> None:
    table = [rule for rule in full_table(wsgi_app) if FAMILIES[family](rule)]
    if not table:
        pytest.skip(f"no {family} views registered yet")
    check(wsgi_app, connection, dbsession, factory, table, (actor,))


#: The callers whose answers differ most (not every actor, to stay fast).
HEAD_ACTORS = tuple(a for a in ACTORS if a.name in ("anonymous", "outsider", "viewer",
                                                    "revoked_token", "site_admin"))


@pytest.mark.parametrize("actor", HEAD_ACTORS, ids=lambda actor: actor.name)
def test_head_answers_like_get(
    actor: Actor, wsgi_app: Any, connection: Connection, dbsession: Session, factory: Factory
) -> None:
    """Pyramid lets HEAD into every GET view: it must be refused exactly like GET."""
    heads = [replace(rule, method="HEAD") for rule in RULES if rule.method == "GET"]
    check(wsgi_app, connection, dbsession, factory, heads, (actor,))
