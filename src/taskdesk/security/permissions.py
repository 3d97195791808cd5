"""Permission names, as an enum so that a typo is an error rather than a silent deny."""

from enum import StrEnum


class Permission(StrEnum):
    """Every permission a view may require.

    The first group is granted inside a project through roles (see ``taskdesk.roles.*``);
    the second group is granted by the root ACL or by ownership.
    """

    VIEW = "view"
    COMMENT = "comment"
    CREATE_TASK = "create_task"
    EDIT_TASK = "edit_task"
    SET_STATUS = "set_status"
    ASSIGN = "assign"
    DELETE_TASK = "delete_task"
    DELETE_COMMENT = "delete_comment"
    MANAGE_MEMBERS = "manage_members"
    MANAGE_PROJECT = "manage_project"
    #: Add, change and remove the project's webhooks, see their secrets and delivery log.
    MANAGE_WEBHOOKS = "manage_webhooks"
    #: Delete any attachment in the project (the uploader may delete their own while they
    #: may still comment, see PREREQUISITES).
    DELETE_ATTACHMENT = "delete_attachment"
    #: Archive a project or take it out of the archive: held by whoever may manage it
    #: (derived from ``manage_project``, not named in roles), and the one change an
    #: archived project still allows.
    ARCHIVE_PROJECT = "archive_project"

    EDIT_COMMENT = "edit_comment"
    #: Rename, change or delete a saved view: its owner, and a project manager for a shared
    #: one (see ``resources.SavedViewResource``), while they may still see the project.
    CHANGE_VIEW = "change_view"
    CREATE_PROJECT = "create_project"
    SIGNED_IN = "signed_in"
    ADMINISTER = "administer"
    PUBLIC = "public"


#: Permissions a project role may grant (the others come from the root ACL or ownership).
PROJECT_PERMISSIONS: tuple[Permission, ...] = (
    Permission.VIEW,
    Permission.COMMENT,
    Permission.CREATE_TASK,
    Permission.EDIT_TASK,
    Permission.SET_STATUS,
    Permission.ASSIGN,
    Permission.DELETE_TASK,
    Permission.DELETE_COMMENT,
    Permission.MANAGE_MEMBERS,
    Permission.MANAGE_PROJECT,
    Permission.MANAGE_WEBHOOKS,
    Permission.DELETE_ATTACHMENT,
)

#: What a read-only API token may do.
READ_ONLY_PERMISSIONS: frozenset[Permission] = frozenset({Permission.VIEW})

#: What still holds in an archived project: reading, and un-archiving for those who may
#: archive it. Everything else is denied there to everyone, site admins included.
ARCHIVED_PERMISSIONS: frozenset[Permission] = frozenset(
    {Permission.VIEW, Permission.ARCHIVE_PROJECT})
ARCHIVED_DENIED: frozenset[Permission] = (
    frozenset(PROJECT_PERMISSIONS) | {Permission.EDIT_COMMENT, Permission.DELETE_COMMENT}
) - ARCHIVED_PERMISSIONS

#: An ownership right holds only while its prerequisite holds on the same context:
#: the author of a comment may edit it only while they may still comment in the project.
PREREQUISITES: dict[str, Permission] = {
    Permission.EDIT_COMMENT: Permission.COMMENT,
    Permission.DELETE_COMMENT: Permission.COMMENT,
    Permission.DELETE_ATTACHMENT: Permission.COMMENT,
    Permission.CHANGE_VIEW: Permission.VIEW,
}

DEFAULT_ROLES: dict[str, tuple[Permission, ...]] = {
    "viewer": (Permission.VIEW,),
    "member": (
        Permission.VIEW,
        Permission.COMMENT,
        Permission.CREATE_TASK,
        Permission.EDIT_TASK,
        Permission.SET_STATUS,
        Permission.ASSIGN,
    ),
    "manager": PROJECT_PERMISSIONS,
}
