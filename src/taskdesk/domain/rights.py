"""Which fields an actor may change: the one rule the web UI and the API both go through.

The domain does not evaluate ACLs. Each change receives ``may``, the actor's permission
predicate, which the views build from the request's ACL (see
``taskdesk.security.actions.actor_may``); trusted callers (the CLI, demo data, tests) pass
:data:`UNRESTRICTED`. A refused field raises :class:`ForbiddenFieldsError` naming every
refused field, or, for a form that shows such fields read-only, is left out.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any

from taskdesk.domain.errors import ForbiddenFieldsError
from taskdesk.messages import _
from taskdesk.security.permissions import Permission

P = Permission

#: Whether the actor holds a permission on the object being changed.
May = Callable[[Permission], bool]


def _unrestricted(permission: Permission) -> bool:
    return True


#: ``may`` of a trusted caller acting with every right (the CLI, demo data, tests).
UNRESTRICTED: May = _unrestricted

#: Which permission changing each task field needs: a role may set the status of tasks
#: without being allowed to edit or reassign them (e.g. the INI's "reporter").
TASK_FIELD_PERMISSIONS: Mapping[str, Permission] = {
    "title": P.EDIT_TASK,
    "description": P.EDIT_TASK,
    "priority": P.EDIT_TASK,
    "due_date": P.EDIT_TASK,
    "labels": P.EDIT_TASK,
    "parent": P.EDIT_TASK,
    "status": P.SET_STATUS,
    "completed": P.SET_STATUS,
    "assignee": P.ASSIGN,
}

#: Fields whose permission creating a task needs beyond ``create_task`` (which the caller
#: holds to create at all).
CREATE_FIELD_PERMISSIONS: Mapping[str, Permission] = {
    name: permission for name, permission in TASK_FIELD_PERMISSIONS.items()
    if permission is not P.EDIT_TASK
}

#: Which permission changing each project field needs: an archived project allows only
#: taking it out of the archive.
PROJECT_FIELD_PERMISSIONS: Mapping[str, Permission] = {
    "name": P.MANAGE_PROJECT,
    "description": P.MANAGE_PROJECT,
    "visibility": P.MANAGE_PROJECT,
    "wip_limits": P.MANAGE_PROJECT,
    "archived": P.ARCHIVE_PROJECT,
}


def refused_fields(may: May, fields: Collection[str],
                   rules: Mapping[str, Permission]) -> list[str]:
    """The ``fields`` the actor may not change under ``rules``, sorted; ``may`` is asked
    once per permission needed."""
    needed = {rules[name] for name in fields if name in rules}
    refused = {permission for permission in needed if not may(permission)}
    return sorted(name for name in fields if name in rules and rules[name] in refused)


def permitted(may: May, data: Mapping[str, Any], rules: Mapping[str, Permission], *,
              drop: bool = False, bare: Permission | None = None) -> Mapping[str, Any]:
    """``data`` when the actor may change each of its fields under ``rules``.

    Otherwise :class:`ForbiddenFieldsError` naming the refused fields, or with ``drop`` the
    data without them (for a form that shows those fields read-only: only a forged post
    sends a change of them). ``bare`` is the permission a change naming none of the rules'
    fields (e.g. only a version) needs: it is still a change, not a read.
    """
    refused = refused_fields(may, data.keys(), rules)
    if refused and not drop:
        raise ForbiddenFieldsError(refused, _("You may not change these fields."))
    if bare is not None and not data.keys() & rules.keys() and not may(bare):
        raise ForbiddenFieldsError((), _("You do not have permission to do this."))
    if not refused:
        return data
    return {name: value for name, value in data.items() if name not in refused}
