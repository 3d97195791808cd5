"""What the API answers: each resource's JSON, and its JSON Schema for the OpenAPI document.

``SCHEMAS`` is the single description of every response body; the functions below build
those bodies. The functional tests validate every response against the document, so the two
cannot drift apart. Builders take plain values (rows of columns for lists: loading ORM
entities would dominate a list request) and the ``allowed`` list computed by
:mod:`taskdesk.security.actions`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote

from pyramid.request import Request

from taskdesk.domain.events import Reason
from taskdesk.domain.links import LinkRow
from taskdesk.domain.preferences import Channel
from taskdesk.domain.schemas import LINK_KINDS, SLUG_PATTERN
from taskdesk.domain.search_results import Hit, NumberedTask
from taskdesk.domain.task_list import TaskRow, task_row
from taskdesk.models import (
    ApiToken,
    Attachment,
    Comment,
    Project,
    Task,
    User,
    Webhook,
    WebhookDelivery,
)
from taskdesk.resources import ProjectFields
from taskdesk.settings import Workflow

STRING = {"type": "string"}
INTEGER = {"type": "integer"}
BOOLEAN = {"type": "boolean"}
TIMESTAMP = {"type": "string", "format": "date-time"}
URL = {"type": "string", "format": "uri"}
ALLOWED = {
    "type": "array", "items": {"type": "string"},
    "description": "The permissions the caller holds on this resource (from its ACL).",
}


def nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


def _object(properties: dict[str, Any], description: str = "") -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }
    if description:
        schema["description"] = description
    return schema


def _list_of(name: str) -> dict[str, Any]:
    return _object({
        "items": {"type": "array", "items": {"$ref": f"#/components/schemas/{name}"}},
        "next": nullable(URL),
    }, f"A page of {name} items; `next` is the next page's URL (also in the Link header).")


ERROR = _object({
    "error": {
        "type": "object",
        "properties": {
            "status": INTEGER,
            "code": STRING,
            "message": STRING,
            "fields": {"type": "object", "additionalProperties": STRING},
        },
        "required": ["status", "code", "message"],
        "additionalProperties": False,
    },
})

PROJECT = _object({
    "id": INTEGER,
    "slug": {"type": "string", "pattern": f"^{SLUG_PATTERN}$"},
    "name": STRING,
    "description": STRING,
    "visibility": {"type": "string", "enum": ["private", "internal"]},
    "archived": BOOLEAN,
    "wip_limits": {"type": "object", "additionalProperties": INTEGER,
                   "description": "Most tasks wanted in each status's board column; statuses "
                   "without a limit are left out."},
    "created_at": TIMESTAMP,
    "updated_at": TIMESTAMP,
    "url": URL,
    "tasks_url": URL,
    "allowed": ALLOWED,
})

TASK = _object({
    "id": INTEGER,
    "project": _object({"slug": STRING, "name": STRING, "url": URL}),
    "number": INTEGER,
    "title": STRING,
    "description": STRING,
    "status": STRING,
    "completed": {"type": "boolean", "description": "Whether the status is a done status."},
    "priority": STRING,
    "assignee": nullable(STRING),
    "assignee_name": nullable(STRING),
    "reporter": nullable(STRING),
    "due_date": nullable({"type": "string", "format": "date"}),
    "labels": {"type": "array", "items": STRING},
    "parent": nullable({"type": "integer", "description": "Number of the task this one is "
                        "a sub-task of (same project); its sub-tasks are at `url`/subtasks"}),
    "checklist": _object({"done": INTEGER, "total": INTEGER}, "Markdown task-list items "
                         "(`- [ ]`, `- [x]`) of the description: ticked, and in all"),
    "created_at": TIMESTAMP,
    "updated_at": TIMESTAMP,
    "completed_at": nullable(TIMESTAMP),
    "blocked": {"type": "boolean", "description": "Blocked by a task that is not done yet "
                "(only tasks the caller may see count)."},
    "version": INTEGER,
    "url": URL,
    "allowed": ALLOWED,
})

COMMENT = _object({
    "id": INTEGER,
    "body": STRING,
    "author": nullable(STRING),
    "author_name": nullable(STRING),
    "created_at": TIMESTAMP,
    "updated_at": TIMESTAMP,
    "version": INTEGER,
    "url": URL,
    "allowed": ALLOWED,
})

TASK_LINK = _object({
    "id": INTEGER,
    "kind": {"type": "string", "enum": list(LINK_KINDS),
             "description": "How this task relates to the other, from this task's side."},
    "task": _object({
        "project": STRING,
        "number": INTEGER,
        "title": STRING,
        "status": STRING,
        "completed": {"type": "boolean", "description": "Whether the other task is done."},
        "url": URL,
    }),
    "url": URL,
    "allowed": ALLOWED,
}, "A link to another task the caller may see (links to tasks they may not see are left "
   "out). `allowed` holds `edit_task` when the caller may remove it.")

ACTIVITY = _object({
    "id": INTEGER,
    "action": STRING,
    "actor": nullable(STRING),
    "changes": {"type": "object", "description": "`{field: [old, new]}`"},
    "created_at": TIMESTAMP,
})

FEED_ENTRY = _object({
    "id": {"type": "integer", "description": "The newest folded entry's id."},
    "oldest_id": {"type": "integer", "description": "The first folded entry's id (the "
                  "same as `id` for one entry)."},
    "count": {"type": "integer", "minimum": 1,
              "description": "How many entries are folded into this one: consecutive "
              "changes by one person to one task within ten minutes."},
    "action": STRING,
    "actor": nullable(STRING),
    "changes": {"type": "object", "description": "`{field: [old, new]}`, combined over "
                "the folded entries (first old value, last new value)."},
    "created_at": TIMESTAMP,
    "started_at": TIMESTAMP,
    "task": nullable(INTEGER),
    "task_url": nullable(URL),
}, "An activity feed's entry: one activity entry, or several folded.")

MEMBER = _object({
    "principal": {"type": "string", "description": "`user:<username>` or `group:<name>`"},
    "kind": {"type": "string", "enum": ["user", "group"]},
    "name": STRING,
    "display_name": STRING,
    "role": STRING,
    "url": URL,
    "allowed": ALLOWED,
})

_TOKEN_FIELDS = {
    "id": INTEGER,
    "name": STRING,
    "prefix": {"type": "string", "description": "The secret's first characters, to tell "
               "tokens apart."},
    "scope": {"type": "string", "enum": ["read", "write"]},
    "created_at": TIMESTAMP,
    "expires_at": nullable(TIMESTAMP),
    "last_used_at": nullable(TIMESTAMP),
    "revoked_at": nullable(TIMESTAMP),
    "url": URL,
    "allowed": ALLOWED,
}
TOKEN = _object(_TOKEN_FIELDS)
NEW_TOKEN = _object({
    **_TOKEN_FIELDS,
    "secret": {"type": "string", "description": "The bearer token. Shown only this once."},
})

ME = _object({
    "id": INTEGER,
    "username": STRING,
    "display_name": STRING,
    "email": STRING,
    "is_site_admin": BOOLEAN,
    "locale": nullable(STRING),
    "time_zone": {**nullable(STRING),
                  "description": "The IANA zone the web pages show this user times in; null "
                                 "for the site's. Timestamps in the API are always UTC."},
    "url": URL,
    "tokens_url": URL,
    "allowed": ALLOWED,
})

_PERSON = nullable(_object({"username": STRING, "display_name": STRING}))
NOTIFICATION = _object({
    "id": INTEGER,
    "kind": {"type": "string", "description": "What happened: `task.created`, "
             "`task.updated`, `comment.added`, `comment.edited`, `task.due_soon`, "
             "`task.due_today`, `member.added`, ..."},
    "reason": {"type": "string", "description": "Why the caller hears of it: `assigned`, "
               "`mentioned`, `watching`, `due` or `member`."},
    "project": nullable(_object({"slug": STRING, "name": STRING, "url": URL})),
    "task": nullable(_object({"number": INTEGER, "title": STRING, "url": URL})),
    "comment_id": nullable(INTEGER),
    "actor": _PERSON,
    "changes": {"type": "object", "description": "`{field: [old, new]}` of a change"},
    "created_at": TIMESTAMP,
    "read_at": nullable(TIMESTAMP),
    "links": _object({
        "task": nullable(URL),
        "comment": nullable(URL),
    }, "API URLs of what the notification is about (null where it is about no task, or "
       "no comment)."),
})
MARKED_READ = _object({"marked": {"type": "integer", "description": "How many unread "
                                  "notifications were marked read."}})
TASK_MOVED = _object({
    "task": {"$ref": "#/components/schemas/Task"},
    "over_wip_limit": nullable({**INTEGER, "description": "The WIP limit of the task's new "
                                "column when the move put more tasks than that in it (a "
                                "warning: the move is done)."}),
})
WATCH = _object({
    "watching": {"type": "boolean", "description": "Whether the caller watches it."},
    "watchers": {"type": "integer", "description": "How many people watch it."},
})
WEBHOOK = _object({
    "id": INTEGER,
    "payload_url": {"type": "string", "description": "Where deliveries are POSTed."},
    "description": STRING,
    "events": {"type": "array", "items": STRING,
               "description": "The event kinds delivered; empty for every kind."},
    "active": BOOLEAN,
    "secret": {"type": "string", "description": "Signs every delivery (X-Taskdesk-Signature: "
               "HMAC-SHA256 of `<t>.<body>`); see the README's Webhooks section."},
    "created_at": TIMESTAMP,
    "updated_at": TIMESTAMP,
    "version": INTEGER,
    "url": URL,
    "deliveries_url": URL,
    "allowed": ALLOWED,
}, "A webhook: an integration told of the project's events by a signed JSON POST.")

ATTACHMENT = _object({
    "id": INTEGER,
    "filename": {"type": "string", "description": "The uploader's file name, made safe "
                 "(no path, no control characters)."},
    "media_type": {"type": "string", "description": "Sniffed from the file's bytes."},
    "size": INTEGER,
    "sha256": STRING,
    "width": nullable(INTEGER),
    "height": nullable(INTEGER),
    "inline": {"type": "boolean", "description": "A raster image shown inline (with a "
               "thumbnail); everything else downloads as an attachment."},
    "comment_id": nullable(INTEGER),
    "uploader": _PERSON,
    "created_at": TIMESTAMP,
    "url": URL,
    "download_url": URL,
    "thumbnail_url": nullable(URL),
    "allowed": ALLOWED,
}, "A file attached to a task or to one of its comments.")

ATTACHMENTS_CREATED = _object({
    "items": {"type": "array", "items": {"$ref": "#/components/schemas/Attachment"}},
}, "The attachments an upload created, one per `file` part, in order.")

DELIVERY = _object({
    "id": INTEGER,
    "event_id": INTEGER,
    "event": STRING,
    "status": {"type": "string", "enum": ["pending", "delivered", "failed", "parked"]},
    "attempts": INTEGER,
    "next_attempt_at": nullable(TIMESTAMP),
    "last_attempt_at": nullable(TIMESTAMP),
    "response_status": nullable(INTEGER),
    "duration_ms": nullable(INTEGER),
    "response_excerpt": {"type": "string", "description": "The answer's first kilobyte."},
    "error": STRING,
    "created_at": TIMESTAMP,
    "url": URL,
}, "One event sent to one webhook, and how the latest attempt went.")
NOTIFICATION_PREFERENCES = _object(
    {reason.value: {"type": "string", "enum": [channel.value for channel in Channel]}
     for reason in Reason},
    "How the caller hears of each kind of notification (`assigned`, `mentioned`, `watching`, "
    "`due`, `member`): `inbox` (in the inbox only), `email` (also by e-mail soon after; "
    "changes close together share one mail), `digest` (also in one daily e-mail) or `off` "
    "(not at all).",
)

MARKS = {
    "type": "array",
    "items": {"type": "array", "items": INTEGER, "minItems": 2, "maxItems": 2},
    "description": "Where the search matched: [start, end) offsets in Unicode code points.",
}
SEARCH_HIT = _object({
    "project": {"type": "string", "pattern": f"^{SLUG_PATTERN}$"},
    "project_name": STRING,
    "number": INTEGER,
    "title": STRING,
    "title_marks": MARKS,
    "status": STRING,
    "excerpt": nullable(_object({
        "field": {"type": "string", "enum": ["description", "comment"]},
        "text": STRING,
        "marks": MARKS,
    }, "Text around the first match, with `…` where it was cut.")),
    "url": URL,
}, "A task found by a search, with where it matched.")
SAVED_VIEW = _object({
    "id": INTEGER,
    "name": STRING,
    "shared": {"type": "boolean", "description": "Shared with the project (a tab for its "
               "members); false: private, only its owner sees it."},
    "filters": {"type": "object", "additionalProperties": STRING,
                "description": "The task list's query parameters, as text."},
    "valid": {"type": "boolean", "description": "Whether the filters still hold (a status "
              "may have left the workflow since); an invalid view lists nothing."},
    "owner": STRING,
    "url": URL,
    "tasks_url": {**URL, "description": "The project's task list with these filters."},
    "allowed": ALLOWED,
}, "A named task-list filter and sort of a project.")

BULK_RESULT = _object({
    "items": {"type": "array", "items": _object({
        "number": INTEGER,
        "outcome": {"type": "string", "enum": ["changed", "unchanged", "deleted", "refused"]},
        "changes": {"type": "object", "description": "Each changed field: [old, new]."},
        "reason": nullable({"type": "string", "enum": [
            "version_conflict", "forbidden", "invalid", "not_found"]}),
        "message": nullable(STRING),
    })},
    "changed": INTEGER,
    "refused": INTEGER,
}, "What a bulk change did to each task, in the order given.")
EXPLANATION = _object({
    "user": STRING,
    "path": {"type": "string", "description": "The resource's traversal path."},
    "permission": STRING,
    "allowed": {"type": "boolean", "description": "The security policy's verdict."},
    "decision": {"type": "string", "description": "Which ACL entry decided, in words."},
    "ace": nullable(_object({
        "action": {"type": "string", "enum": ["allow", "deny"]},
        "principal": STRING,
        "permissions": {"anyOf": [{"type": "array", "items": STRING},
                                  {"type": "string", "enum": ["ALL"]}]},
        "where": {"type": "string", "description": "The path of the resource whose ACL "
                  "holds the entry."},
    }, "The ACL entry that decided; null for the default deny.")),
    "grants": {"type": "array", "items": STRING,
               "description": "The user's roles in the project and where each comes from."},
    "notes": {"type": "array", "items": STRING,
              "description": "Other rules that apply (archived, visibility, site admin, "
              "prerequisites)."},
    "what_if": nullable({"$ref": "#/components/schemas/Explanation"}),
}, "Why a user may, or may not, have a permission on a resource. `what_if`: the same "
   "answer after the change asked for (which is not made), else null.")

SCHEMAS: dict[str, dict[str, Any]] = {
    "Error": ERROR,
    "Document": {"type": "object", "description": "This OpenAPI document."},
    "Me": ME,
    "Project": PROJECT,
    "ProjectList": _list_of("Project"),
    "Task": TASK,
    "TaskMoved": TASK_MOVED,
    "TaskList": _list_of("Task"),
    "Comment": COMMENT,
    "CommentList": _list_of("Comment"),
    "TaskLink": TASK_LINK,
    "TaskLinkList": _list_of("TaskLink"),
    "Activity": ACTIVITY,
    "ActivityList": _list_of("Activity"),
    "FeedEntry": FEED_ENTRY,
    "FeedEntryList": _list_of("FeedEntry"),
    "Member": MEMBER,
    "MemberList": _list_of("Member"),
    "Token": TOKEN,
    "NewToken": NEW_TOKEN,
    "TokenList": _list_of("Token"),
    "Notification": NOTIFICATION,
    "NotificationList": _list_of("Notification"),
    "MarkedRead": MARKED_READ,
    "Watch": WATCH,
    "Webhook": WEBHOOK,
    "WebhookList": _list_of("Webhook"),
    "Attachment": ATTACHMENT,
    "AttachmentList": _list_of("Attachment"),
    "AttachmentsCreated": ATTACHMENTS_CREATED,
    "Delivery": DELIVERY,
    "DeliveryList": _list_of("Delivery"),
    "NotificationPreferences": NOTIFICATION_PREFERENCES,
    "SearchHit": SEARCH_HIT,
    "SearchHitList": _list_of("SearchHit"),
    "SavedView": SAVED_VIEW,
    "SavedViewList": _list_of("SavedView"),
    "TaskBulkResult": BULK_RESULT,
    "Explanation": EXPLANATION,
}


def search_hit_json(urls: Urls, hit: Hit | NumberedTask) -> dict[str, Any]:
    """A search hit, or a task a ``#12`` search names (no marks, no excerpt)."""
    found = hit if isinstance(hit, Hit) else None
    return {
        "project": hit.project_slug,
        "project_name": hit.project_name,
        "number": hit.number,
        "title": hit.title,
        "title_marks": [list(span) for span in found.title_spans] if found else [],
        "status": hit.status,
        "excerpt": {"field": found.field, "text": found.excerpt.text,
                    "marks": [list(span) for span in found.excerpt.spans]}
        if found is not None and found.excerpt is not None else None,
        "url": urls.task(hit.project_slug, hit.number),
    }


class Urls:
    """Absolute API URLs by string joining: cheap enough for every row of a list."""

    def __init__(self, request: Request) -> None:
        self.base = f"{request.application_url}/api/v1"
        self._projects: dict[str, str] = {}

    def project(self, slug: str) -> str:
        url = self._projects.get(slug)
        if url is None:
            url = self._projects[slug] = f"{self.base}/projects/{quote(slug)}"
        return url

    def task(self, slug: str, number: int) -> str:
        return f"{self.project(slug)}/tasks/{number}"

    def comment(self, slug: str, number: int, comment_id: int) -> str:
        return f"{self.task(slug, number)}/comments/{comment_id}"

    def member(self, slug: str, principal: str) -> str:
        return f"{self.project(slug)}/members/{quote(principal, safe=':')}"

    def token(self, token_id: int) -> str:
        return f"{self.base}/me/tokens/{token_id}"

    def webhook(self, slug: str, webhook_id: int) -> str:
        return f"{self.project(slug)}/webhooks/{webhook_id}"

    def attachment(self, slug: str, number: int, attachment_id: int) -> str:
        return f"{self.task(slug, number)}/attachments/{attachment_id}"


def project_json(urls: Urls, row: Project | Any, allowed: list[str]) -> dict[str, Any]:
    """A project from its ORM row or a row of the same columns."""
    url = urls.project(row.slug)
    return {
        "id": row.id,
        "slug": row.slug,
        "name": row.name,
        "description": row.description,
        "visibility": row.visibility,
        "archived": row.is_archived,
        "wip_limits": dict(row.wip_limits or {}),
        "created_at": row.created_at,
        "updated_at": row.updated_at,
        "url": url,
        "tasks_url": f"{url}/tasks",
        "allowed": allowed,
    }


class TaskJson:
    """Builds task bodies for one workflow (which statuses count as done)."""

    def __init__(self, urls: Urls, workflow: Workflow) -> None:
        self.urls = urls
        self.done = frozenset(workflow.names_in("done"))
        self._projects: dict[str, dict[str, str]] = {}

    def row(self, row: TaskRow, allowed: list[str]) -> dict[str, Any]:
        """A task from the list query's row (a list's hot loop: one unpacking, and one
        shared ``project`` object per project of the page)."""
        (task_id, _project_id, slug, project_name, number, title, description, status,
         priority, assignee, assignee_name, reporter, due_date, created_at, updated_at,
         completed_at, version, parent, _parent_title, checklist_done, checklist_total,
         blocked, labels) = row
        project = self._projects.get(slug)
        if project is None:
            project = self._projects[slug] = {
                "slug": slug, "name": project_name, "url": self.urls.project(slug)}
        return {
            "id": task_id,
            "project": project,
            "number": number,
            "title": title,
            "description": description,
            "status": status,
            "completed": status in self.done,
            "priority": priority,
            "assignee": assignee,
            "assignee_name": assignee_name,
            "reporter": reporter,
            "due_date": due_date,
            "labels": labels,
            "parent": parent,
            "checklist": {"done": checklist_done, "total": checklist_total},
            "created_at": created_at,
            "updated_at": updated_at,
            "completed_at": completed_at,
            "blocked": blocked,
            "version": version,
            "url": f"{project['url']}/tasks/{number}",
            "allowed": allowed,
        }

    def entity(self, task: Task, project: ProjectFields, allowed: list[str],
               blocked: bool) -> dict[str, Any]:
        """A task from its ORM row (assignee, reporter and labels loaded); ``blocked`` from
        ``domain.links.is_blocked``."""
        return self.row(task_row(task, project, blocked=blocked), allowed)


def comment_json(url: str, comment: Comment | Any, author: str | None,
                 author_name: str | None, allowed: list[str]) -> dict[str, Any]:
    return {
        "id": comment.id,
        "body": comment.body,
        "author": author,
        "author_name": author_name,
        "created_at": comment.created_at,
        "updated_at": comment.updated_at,
        "version": comment.version,
        "url": url,
        "allowed": allowed,
    }


def link_json(urls: Urls, task: Task, project_slug: str, link: LinkRow,
              allowed: list[str]) -> dict[str, Any]:
    """A link of ``task`` (in the project ``project_slug``), seen from its side."""
    return {
        "id": link.id,
        "kind": link.kind,
        "task": {
            "project": link.project_slug,
            "number": link.number,
            "title": link.title,
            "status": link.status,
            "completed": link.done,
            "url": urls.task(link.project_slug, link.number),
        },
        "url": f"{urls.task(project_slug, task.number)}/links/{link.id}",
        "allowed": allowed,
    }


def activity_json(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "action": row.action,
        "actor": row.actor_username,
        "changes": row.changes or {},
        "created_at": row.created_at,
    }


def feed_entry_json(urls: Urls, entry: Any) -> dict[str, Any]:
    """A feed entry (``domain.activity_feed.FeedEntry``)."""
    return {
        "id": entry.id,
        "oldest_id": entry.oldest_id,
        "count": entry.count,
        "action": entry.action,
        "actor": entry.actor_username,
        "changes": entry.changes or {},
        "created_at": entry.created_at,
        "started_at": entry.started_at,
        "task": entry.task_number,
        "task_url": (urls.task(entry.project_slug, entry.task_number)
                     if entry.task_number is not None else None),
    }


def member_json(urls: Urls, slug: str, kind: str, name: str, display_name: str, role: str,
                allowed: list[str]) -> dict[str, Any]:
    principal = f"{kind}:{name}"
    return {
        "principal": principal,
        "kind": kind,
        "name": name,
        "display_name": display_name,
        "role": role,
        "url": urls.member(slug, principal),
        "allowed": allowed,
    }


def token_json(urls: Urls, token: ApiToken, allowed: list[str]) -> dict[str, Any]:
    return {
        "id": token.id,
        "name": token.name,
        "prefix": token.prefix,
        "scope": token.scope,
        "created_at": token.created_at,
        "expires_at": token.expires_at,
        "last_used_at": token.last_used_at,
        "revoked_at": token.revoked_at,
        "url": urls.token(token.id),
        "allowed": allowed,
    }


def webhook_json(urls: Urls, slug: str, hook: Webhook, allowed: list[str]) -> dict[str, Any]:
    url = urls.webhook(slug, hook.id)
    return {
        "id": hook.id,
        "payload_url": hook.url,
        "description": hook.description,
        "events": list(hook.events),
        "active": hook.is_active,
        "secret": hook.secret,
        "created_at": hook.created_at,
        "updated_at": hook.updated_at,
        "version": hook.version,
        "url": url,
        "deliveries_url": f"{url}/deliveries",
        "allowed": allowed,
    }


def attachment_json(urls: Urls, slug: str, number: int, row: Attachment, shown_inline: bool,
                    allowed: list[str]) -> dict[str, Any]:
    url = urls.attachment(slug, number, row.id)
    uploader = row.uploader
    return {
        "id": row.id,
        "filename": row.filename,
        "media_type": row.media_type,
        "size": row.size,
        "sha256": row.sha256,
        "width": row.width,
        "height": row.height,
        "inline": shown_inline,
        "comment_id": row.comment_id,
        "uploader": ({"username": uploader.username, "display_name": uploader.display_name}
                     if uploader is not None else None),
        "created_at": row.created_at,
        "url": url,
        "download_url": f"{url}/download",
        "thumbnail_url": f"{url}/thumbnail" if row.thumbnail_sha256 else None,
        "allowed": allowed,
    }


def delivery_json(hook_url: str, delivery: WebhookDelivery) -> dict[str, Any]:
    url = f"{hook_url}/deliveries/{delivery.id}"
    return {
        "id": delivery.id,
        "event_id": delivery.event_id,
        "event": delivery.event_kind,
        "status": delivery.status,
        "attempts": delivery.attempts,
        "next_attempt_at": delivery.next_attempt_at,
        "last_attempt_at": delivery.last_attempt_at,
        "response_status": delivery.response_status,
        "duration_ms": delivery.duration_ms,
        "response_excerpt": delivery.response_excerpt,
        "error": delivery.error,
        "created_at": delivery.created_at,
        "url": url,
    }


def me_json(urls: Urls, user: User, allowed: list[str]) -> dict[str, Any]:
    return {
        "id": user.id,
        "username": user.username,
        "display_name": user.display_name,
        "email": user.email,
        "is_site_admin": user.is_site_admin,
        "locale": user.locale,
        "time_zone": user.time_zone,
        "url": f"{urls.base}/me",
        "tokens_url": f"{urls.base}/me/tokens",
        "allowed": allowed,
    }


def version_of(moment: datetime) -> int:
    """A version number for rows without a version column: microseconds of a timestamp."""
    return int(moment.timestamp() * 1_000_000)


def notification_json(urls: Urls, item: Any) -> dict[str, Any]:
    """A notification (a :class:`taskdesk.domain.inbox.InboxItem` with its task)."""
    task_url = comment_url = None
    project = task = None
    if item.project_slug is not None:
        project = {"slug": item.project_slug, "name": item.project_name,
                   "url": urls.project(item.project_slug)}
        if item.task_number is not None:
            task_url = urls.task(item.project_slug, item.task_number)
            task = {"number": item.task_number, "title": item.task_title, "url": task_url}
            if item.comment_id is not None:
                comment_url = urls.comment(item.project_slug, item.task_number, item.comment_id)
    changes = item.data.get("changes")
    return {
        "id": item.id,
        "kind": item.kind,
        "reason": item.reason,
        "project": project,
        "task": task,
        "comment_id": item.comment_id,
        "actor": ({"username": item.actor_username, "display_name": item.actor_name}
                  if item.actor_username is not None else None),
        "changes": changes if isinstance(changes, dict) else {},
        "created_at": item.created_at,
        "read_at": item.read_at,
        "links": {"task": task_url, "comment": comment_url},
    }
