"""The validation schemas of every input, for forms, the JSON API and OpenAPI alike: request
bodies (:class:`Schema`) and the task list's query parameters (:class:`QuerySchema`)."""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache

from taskdesk.domain.events import Reason
from taskdesk.domain.preferences import Channel
from taskdesk.domain.schema import (
    AnyOf,
    Boolean,
    Choice,
    Date,
    Day,
    Field,
    Flag,
    Ids,
    Integer,
    Labels,
    Limits,
    Moment,
    Number,
    OneOf,
    Person,
    QuerySchema,
    Schema,
    TaskNumber,
    TaskReference,
    Text,
    TimeZone,
    Words,
)
from taskdesk.i18n import LOCALES
from taskdesk.messages import _
from taskdesk.settings import TaskdeskSettings, Workflow

SLUG_PATTERN = r"[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?"
USERNAME_PATTERN = r"[a-z0-9][a-z0-9._-]{1,62}"
GROUP_PATTERN = r"[a-z0-9][a-z0-9._-]{0,62}"



class ProjectsPage(StrEnum):
    """The pages at ``/projects/<name>``: the views on the projects container take their
    names from here, and no project may have one as its slug (it would hide the page)."""

    NEW = "new"


RESERVED_SLUGS: frozenset[str] = frozenset(ProjectsPage)

PROJECT_CREATE = Schema(
    "ProjectCreate",
    (
        Text("slug", required=True, max_length=64, pattern=SLUG_PATTERN,
             pattern_message=_("Use lower-case letters, digits and hyphens."),
             reserved=RESERVED_SLUGS,
             reserved_message=_("This URL name is reserved for a page of the site."),
             description="URL name of the project"),
        Text("name", required=True, max_length=120),
        Text("description", max_length=20_000, multiline=True, nullable=False),
        Choice("visibility", choices=("private", "internal"), nullable=False),
    ),
)

@lru_cache(maxsize=8)
def project_update_schema(statuses: tuple[str, ...]) -> Schema:
    """A project's changeable fields; its WIP limits are by the workflow's ``statuses``."""
    return Schema(
        "ProjectUpdate",
        (
            Text("name", required=True, max_length=120),
            Text("description", max_length=20_000, multiline=True, nullable=False),
            Choice("visibility", choices=("private", "internal"), nullable=False),
            Boolean("archived", nullable=False),
            Limits("wip_limits", choices=statuses, nullable=False,
                   description="Most tasks wanted in each status's board column (a "
                   "warning, not a refusal, when a move goes past it); null or left out: "
                   "no limit. A PATCH replaces the whole object."),
        ),
    )

COMMENT = Schema("Comment", (Text("body", required=True, max_length=20_000, multiline=True),))

USER_CREATE = Schema(
    "UserCreate",
    (
        Text("username", required=True, max_length=64, pattern=USERNAME_PATTERN,
             pattern_message=_("Use 2-63 lower-case letters, digits, dots, dashes.")),
        Text("display_name", required=True, max_length=120),
        Text("email", max_length=254, pattern=r"[^@\s]+@[^@\s]+",
             pattern_message=_("Must be an email address."), nullable=False),
        Text("password", required=True, min_length=10, max_length=1024),
        Boolean("is_site_admin", nullable=False),
    ),
)

PROFILE = Schema(
    "Profile",
    (
        Text("display_name", required=True, max_length=120),
        Text("email", max_length=254, pattern=r"[^@\s]+@[^@\s]+",
             pattern_message=_("Must be an email address."), nullable=False),
        Choice("locale", choices=LOCALES),
        TimeZone("time_zone", description="Null (or empty) for the site's time zone"),
    ),
)

#: How someone hears of each kind of notification: every reason optional (those left out
#: keep their channel).
NOTIFICATION_PREFERENCES = Schema(
    "NotificationPreferences",
    tuple(Choice(reason.value, choices=tuple(channel.value for channel in Channel),
                 nullable=False) for reason in Reason),
)

PASSWORD = Schema("Password", (Text("password", required=True, min_length=10, max_length=1024),))

GROUP = Schema(
    "Group",
    (
        Text("name", required=True, max_length=64, pattern=GROUP_PATTERN,
             pattern_message=_("Use lower-case letters, digits, dots, dashes.")),
        Text("description", max_length=2000, multiline=True, nullable=False),
    ),
)

NOTIFICATIONS_READ = Schema(
    "NotificationsRead",
    (Ids("ids", max_items=500, nullable=False,
         description="The notifications to mark read; without it, all of the caller's"),),
)

TOKEN_CREATE = Schema(
    "TokenCreate",
    (
        Text("name", required=True, max_length=80),
        Choice("scope", choices=("read", "write"), nullable=False),
        Integer("expires_in_days", minimum=1, maximum=3650,
                description="Days until the token expires; null for no expiry"),
    ),
)


def member_schema(roles: tuple[str, ...]) -> Schema:
    return Schema("Membership", (Choice("role", required=True, choices=roles),))


def _editable_task_fields(workflow: Workflow) -> tuple[Field, ...]:
    return (
        Text("title", required=True, max_length=200),
        Text("description", max_length=50_000, multiline=True, nullable=False),
        Choice("status", choices=workflow.status_names, nullable=False),
        Choice("priority", choices=workflow.priorities, nullable=False),
        Text("assignee", max_length=64, description="Username of the assignee, or null"),
        Date("due_date"),
        Labels("labels", nullable=False),
        TaskNumber("parent", description="Number of the task (in the same project) this "
                   "one is a sub-task of, or null"),
    )


#: The task fields a person edits, in the order of the task form (the names do not depend
#: on the workflow; the API's schemas add ``completed``, and ``version`` for updates).
TASK_FIELDS = tuple(spec.name for spec in _editable_task_fields(TaskdeskSettings().workflow))


@lru_cache(maxsize=8)
def task_schemas(workflow: Workflow) -> tuple[Schema, Schema]:
    """(create, update) schemas for a workflow's statuses and priorities."""
    fields = (
        *_editable_task_fields(workflow),
        Boolean("completed", nullable=False,
                description="Shortcut: true moves the task to the first done status, "
                "false back to the first open status"),
    )
    create = Schema("TaskCreate", fields)
    update = Schema(
        "TaskUpdate",
        (*fields, Integer("version", minimum=1,
                          description="The version the change is based on")),
    )
    return create, update


SORT_FIELDS = ("number", "updated", "created", "due", "priority", "rank")
#: Each field ascending, then descending (``-``).
SORT_VALUES = tuple(f"{sign}{name}" for name in SORT_FIELDS for sign in ("", "-"))


@lru_cache(maxsize=8)
def move_schema(workflow: Workflow) -> Schema:
    """A move on the board: to a status's column (default: the task's own), right after or
    before another task of that column (default: on top)."""
    return Schema(
        "TaskMove",
        (
            Choice("status", choices=workflow.status_names, nullable=False,
                   description="The column to move to; left out: the task's own"),
            TaskNumber("after", description="Put the task right after (below) this task "
                       "(its number) of the column"),
            TaskNumber("before", description="Put the task right before (above) this task "
                       "(its number) of the column; neither: on top of the column"),
            Integer("version", minimum=1, description="The version the move is based on "
                    "(checked when the status changes)"),
        ),
    )


#: The ``subtasks`` filter's values (without it, sub-tasks are listed like any task).
SUBTASK_CHOICES = ("hide", "only")


def _statuses(workflow: Workflow) -> tuple[str, ...]:
    return workflow.status_names


def _priorities(workflow: Workflow) -> tuple[str, ...]:
    return workflow.priorities


#: The filters and sort of a task list (web list and board, API lists, CSV exports); the
#: context of ``read`` and ``openapi_parameters`` is the workflow. ``state`` is shorthand
#: for statuses by category (``parse_task_query`` applies it).
TASK_QUERY = QuerySchema(
    "TaskQuery",
    (
        OneOf("status", "Statuses, comma-separated.", attribute="statuses",
              choices=_statuses, repeatable=True),
        OneOf("state", "`open`: open and active statuses; `closed`: done and cancelled ones.",
              choices=("open", "closed"), repeatable=True),
        Person("assignee", "`me`, `none` or a username.", username_pattern=USERNAME_PATTERN),
        Person("reporter", "`me`, `none` or a username.", username_pattern=USERNAME_PATTERN,
               form=False),
        OneOf("priority", "Priorities, comma-separated.", attribute="priorities",
              choices=_priorities, repeatable=True),
        AnyOf("label", "Labels, comma-separated (any).", attribute="labels"),
        Day("due_before", "Due before this day."),
        Day("due_after", "Due after this day."),
        Moment("updated_since", "Changed at or after this moment.", form=False),
        Words("q", "Free text over title, description and comments (Chinese words too).",
              attribute="text"),
        Flag("blocked", "`true`: only tasks blocked by a task that is not done yet (and "
             "that the caller may see); `false`: only the others."),
        Number("parent", "Only the sub-tasks of this task (its number).", form=False),
        OneOf("subtasks", "`hide`: leave sub-tasks out (top-level tasks only); `only`: "
              "sub-tasks only.", choices=SUBTASK_CHOICES),
        OneOf("sort", "Order; `-` for descending.", choices=SORT_VALUES),
    ),
)


#: The longest search query read (the index reads at most eight terms anyway).
MAX_SEARCH_QUERY = 200

#: The parameters of a search (web page and API).
SEARCH_QUERY = QuerySchema(
    "SearchQuery",
    (
        Words("q", "Words to find in titles, descriptions and comments of every project the "
              "caller may see (English words match their variations, Chinese words too); "
              "`#12` or `project#12` finds the task of that number instead.",
              max_length=MAX_SEARCH_QUERY),
        Words("project", "The project `#12` means (a slug): the page the search started on.",
              max_length=64),
    ),
)


#: The kinds of link, as the task at hand sees them ("this task blocks #12"); each is stored
#: once, in its canonical direction (``domain.links``).
LINK_KINDS = ("blocks", "blocked_by", "relates_to", "duplicates", "duplicated_by")

TASK_LINK = Schema(
    "TaskLinkCreate",
    (
        Choice("kind", required=True, choices=LINK_KINDS,
               description="How this task relates to the other, from this task's side"),
        TaskReference("task", required=True,
                      description="The other task: `#12` (this project), `project#12`, or "
                      "`{\"project\": \"slug\", \"number\": 12}`"),
    ),
)


#: The kinds of activity the feeds filter by (``domain.activity_feed`` says which entries
#: each one holds).
ACTIVITY_KINDS = ("created", "changed", "status", "assignee", "comments", "links",
                  "attachments", "deleted", "members", "project")

ACTIVITY_QUERY = QuerySchema(
    "ActivityQuery",
    (
        Person("person", "Only what this person did: `me` or a username.",
               username_pattern=USERNAME_PATTERN),
        OneOf("kind", "Kinds of activity, comma-separated (any): `created` tasks, "
              "`changed` tasks (any field), `status` and `assignee` changes, `comments`, "
              "`links`, `attachments`, `deleted` tasks, `members`, `project` settings.",
              attribute="kinds", choices=ACTIVITY_KINDS, repeatable=True),
    ),
)
