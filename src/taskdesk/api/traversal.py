"""Resources the API hangs on the shared tree (through ``add_resource_child``)."""

from __future__ import annotations

from typing import Any

from taskdesk.resources import Resource


class AllTasks(Resource):
    """``/api/v1/tasks``: the tasks of every project the caller may see.

    It has no ACL entries of its own: the root's ``signed_in`` guards it, and the list query
    keeps only visible projects, in SQL.
    """

    @classmethod
    def factory(cls, parent: Resource, name: str) -> AllTasks:
        return cls(parent.request, name, parent)

    def __getitem__(self, key: str) -> Any:
        raise KeyError(key)
