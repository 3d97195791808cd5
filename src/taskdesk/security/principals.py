"""The principals ACL entries name: ``user:<id>``, ``group:<id>`` and ``site-admin``
(besides Pyramid's Everyone and Authenticated).

A leaf module (it imports nothing of Taskdesk): the resource tree writes ACLs with these
names and the security policy gives them to callers.
"""

from __future__ import annotations

SITE_ADMIN = "site-admin"


def user_principal(user_id: int) -> str:
    return f"user:{user_id}"


def group_principal(group_id: int) -> str:
    return f"group:{group_id}"
