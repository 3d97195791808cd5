"""Resources the web UI hangs on the shared tree (through ``add_resource_child``)."""

from __future__ import annotations

from typing import Any

from taskdesk.resources import Resource


class Deliveries(Resource):
    """``/admin/deliveries``: the outbox as admins see it (pending and parked events).

    No ACL entries of its own: its views need ``administer``, which the root grants site
    admins only.
    """

    @classmethod
    def factory(cls, parent: Resource, name: str) -> Deliveries:
        return cls(parent.request, name, parent)

    def __getitem__(self, key: str) -> Any:
        raise KeyError(key)
