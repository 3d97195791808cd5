"""The ``taskdesk`` admin command: ``taskdesk INI SUBCOMMAND [options]``.

It bootstraps the application from the INI file (so settings are validated exactly as the
server does), runs one subcommand inside a transaction and exits non-zero with a one-line
message on any error.
"""

from __future__ import annotations

import argparse
import configparser
import getpass
import sys
import time
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

import transaction
from plaster.exceptions import PlasterError
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from taskdesk.domain import accounts, two_factor
from taskdesk.domain.errors import DomainError, ValidationError
from taskdesk.domain.schema import plain_text
from taskdesk.models import get_tm_session
from taskdesk.settings import TaskdeskSettings, settings_of

#: Needed by the commands that write published passwords (demo and benchmark data).
PRODUCTION_FLAG = "--i-know-this-is-production"


class CommandError(Exception):
    """A failure the command reports as one line."""


@contextmanager
def bootstrapped(ini: str) -> Iterator[dict[str, Any]]:
    from pyramid.paster import bootstrap, setup_logging

    path = Path(ini)
    if not path.is_file():
        raise CommandError(f"no such INI file: {ini}")
    try:
        setup_logging(str(path))
        env = bootstrap(str(path))
    except (PlasterError, LookupError, configparser.Error, UnicodeDecodeError) as error:
        reason = str(error).strip().splitlines()[0]
        raise CommandError(f"{ini} is not a usable application INI file: {reason}") from None
    with env:
        try:
            yield env
        finally:  # the connections close now, not whenever the process ends
            env["registry"]["dbbinds"].engine.dispose()


@contextmanager
def unit_of_work(env: dict[str, Any]) -> Iterator[Session]:
    """A session committed when the block succeeds and rolled back when it raises."""
    manager = transaction.TransactionManager(explicit=True)
    with manager:
        yield get_tm_session(env["registry"]["dbsession_factory"], manager)


def _settings(env: dict[str, Any]) -> TaskdeskSettings:
    return settings_of(env["registry"])


def _read_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        raise CommandError("no terminal to ask for a password: use --password-stdin")
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Password again: "):
        raise CommandError("the passwords differ")
    return first


def _describe(error: DomainError) -> str:
    if isinstance(error, ValidationError):
        return "; ".join(f"{field}: {plain_text(text).rstrip('.')}"
                         for field, text in error.fields.items())
    return plain_text(error.message)


def cmd_migrate(env: dict[str, Any], args: argparse.Namespace) -> None:
    from alembic.util import CommandError as AlembicError

    from taskdesk.migrations import current_revision, revision_names, upgrade

    engine = env["registry"]["dbbinds"].engine
    known = revision_names(args.ini)
    try:
        upgrade(engine, args.ini, args.revision)
    except AlembicError as error:
        reason = str(error).strip().splitlines()[0].rstrip(".")
        raise CommandError(f"cannot migrate to {args.revision}: {reason} "
                           f"(known revisions: {', '.join(known)}, or head)") from None
    current = current_revision(engine)
    print(f"database at revision {current}" + (" (head)" if current == known[-1] else ""))


def cmd_wait_for_migrations(env: dict[str, Any], args: argparse.Namespace) -> None:
    """Wait until the database is at this version's head revision: the start-up gate of a
    web or worker container while the migrate job runs (deploy/k8s), so no process serves
    on a schema older than its code. A revision this version does not know means a newer
    version migrated the database: no wait helps, so it fails at once."""
    from sqlalchemy.exc import OperationalError

    from taskdesk.migrations import current_revision, revision_names

    engine = env["registry"]["dbbinds"].engine
    known = revision_names(args.ini)
    deadline = time.monotonic() + args.timeout
    while True:
        try:
            current = current_revision(engine)
            state = f"at revision {current}" if current else "not migrated"
        except OperationalError as error:  # the database may still be starting
            current = None
            state = f"unreachable ({type(error.orig or error).__name__})"
        finally:
            engine.dispose()
        if current == known[-1]:
            print(f"database at revision {current} (head)")
            return
        if current is not None and current not in known:
            raise CommandError(f"the database is at revision {current}, which this version "
                               f"does not know (its newest is {known[-1]}): a newer version "
                               "migrated it")
        if time.monotonic() >= deadline:
            raise CommandError(f"the database is {state} after {args.timeout:g} s; this "
                               f"version needs revision {known[-1]}: run `taskdesk INI "
                               "migrate` (the migrate job)")
        time.sleep(min(2.0, max(0.0, deadline - time.monotonic())))


def cmd_create_user(env: dict[str, Any], args: argparse.Namespace) -> None:
    password = _read_password(args)
    with unit_of_work(env) as dbsession:
        try:
            user = accounts.create_user(dbsession, {
                "username": args.username,
                "display_name": args.display_name or args.username,
                "email": args.email or "",
                "password": password,
                "is_site_admin": args.admin,
            }, cost=_settings(env).password_cost)
        except DomainError as error:
            raise CommandError(f"cannot create user {args.username!r}: {_describe(error)}"
                               ) from None
        print(f"created user {user.username}" + (" (site admin)" if args.admin else ""))


def _user(dbsession: Session, username: str) -> Any:
    user = accounts.find_user(dbsession, username)
    if user is None:
        raise CommandError(f"no user named {username}")
    return user


def cmd_set_password(env: dict[str, Any], args: argparse.Namespace) -> None:
    password = _read_password(args)
    with unit_of_work(env) as dbsession:
        accounts.set_password(dbsession, _user(dbsession, args.username), password,
                              cost=_settings(env).password_cost)
    print(f"password of {args.username} changed; their sessions were ended")


def _set_active(env: dict[str, Any], username: str, active: bool, already: str,
                done: str) -> None:
    """Switch a user's account on or off; refuse (one line) when it is so already."""
    with unit_of_work(env) as dbsession:
        user = _user(dbsession, username)
        if not accounts.set_active(dbsession, user, active):
            raise CommandError(f"{user.username} is {already} already; nothing changed")
    print(f"{user.username} {done}")


def cmd_deactivate_user(env: dict[str, Any], args: argparse.Namespace) -> None:
    _set_active(env, args.username, False, "deactivated",
                "deactivated; their sessions and tokens stop working now")


def cmd_reactivate_user(env: dict[str, Any], args: argparse.Namespace) -> None:
    _set_active(env, args.username, True, "active",
                "reactivated; they may sign in again, and their API tokens work again unless "
                "revoked or expired")


def cmd_reset_two_factor(env: dict[str, Any], args: argparse.Namespace) -> None:
    with unit_of_work(env) as dbsession:
        user = _user(dbsession, args.username)
        if not two_factor.reset(dbsession, user.id, actor_id=None):
            raise CommandError(f"{user.username} has no two-factor authentication; "
                               "nothing changed")
    print(f"two-factor authentication of {user.username} reset: their next sign-in needs "
          "only the password")


def _width(text: str) -> int:
    """Columns ``text`` takes in a terminal: East Asian wide characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(_width(row[i]) for row in (header, *rows)) for i in range(len(header))]
    lines = ["  ".join(cell + " " * (width - _width(cell))
                       for cell, width in zip(row, widths, strict=True)).rstrip()
             for row in (header, *rows)]
    return "\n".join(lines)


def cmd_list_users(env: dict[str, Any], args: argparse.Namespace) -> None:
    with unit_of_work(env) as dbsession:
        users, total = accounts.search_users(dbsession, args.text or "", active=args.active,
                                             limit=None)
        seen = accounts.last_seen(dbsession, users)
        rows = [
            (user.username, user.display_name, user.email or "-",
             "yes" if user.is_site_admin else "-", "yes" if user.is_active else "no",
             seen[user.id].strftime("%Y-%m-%d %H:%M") if user.id in seen else "-")
            for user in users
        ]
    if rows:
        print(_table(("USERNAME", "DISPLAY NAME", "E-MAIL", "SITE ADMIN", "ACTIVE",
                      "LAST SEEN (UTC)"), rows))
    print(f"{total} user{'' if total == 1 else 's'}")


def cmd_audit_verify(env: dict[str, Any], args: argparse.Namespace) -> int:
    """Walk the audit log's hash chain: 0 when intact, 1 naming the first broken entry."""
    from taskdesk.domain import audit

    with unit_of_work(env) as dbsession:
        verdict = audit.verify(dbsession)
    if verdict.intact:
        print(f"audit log intact: {verdict.checked} entries; head hash {verdict.head_hash}")
        return 0
    print(f"audit log broken at entry {verdict.broken_id}: {verdict.reason} "
          f"({verdict.checked} entries before it are intact; their head hash "
          f"{verdict.head_hash})", file=sys.stderr)
    return 1


def _moment(text: str) -> datetime:
    """A --since value: a day (its midnight, UTC) or a moment (UTC without an offset)."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not a date like 2026-12-31 or a moment like 2026-12-31T08:00:00Z: {text}"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def cmd_audit_export(env: dict[str, Any], args: argparse.Namespace) -> None:
    """Write the audit log as JSON lines (one entry each), streamed in batches."""
    from taskdesk.domain import audit

    with unit_of_work(env) as dbsession, ExitStack() as stack:
        if args.output:
            try:
                out: TextIO = stack.enter_context(open(args.output, "w", encoding="utf-8"))
            except OSError as error:
                raise CommandError(f"cannot write {args.output}: {error.strerror}") from None
        else:
            out = sys.stdout
        written = 0
        for line in audit.export_lines(dbsession, args.since):
            out.write(line)
            written += 1
    if args.output:
        print(f"exported {written} audit entries to {args.output}", file=sys.stderr)


def cmd_explain(env: dict[str, Any], args: argparse.Namespace) -> None:
    """Why USER may or may not have PERMISSION on PATH (and what if one thing changed)."""
    from taskdesk.security.explain import Explanation, explain, read_question

    params = {"user": args.user, "path": args.path, "permission": args.permission}
    for key in ("if_role", "if_join", "if_leave"):
        if getattr(args, key):
            params[key] = getattr(args, key)
    with unit_of_work(env) as dbsession:
        request = env["request"]
        request.dbsession = dbsession
        question = read_question(request, params)
        answers = [("", explain(request, question.user, question.path, question.permission,
                                resource=question.resource))]
        if question.change is not None:
            answers.append((
                "What if: " + ", ".join(f"{key.removeprefix('if_')} {value}"
                                        for key, value in params.items()
                                        if key.startswith("if_")),
                explain(request, question.user, question.path, question.permission,
                        question.change)))

        def show(answer: Explanation) -> None:
            verdict = "ALLOWED" if answer.allowed else "DENIED"
            print(f"{verdict}: {answer.user.display_name} ({answer.user.username}) "
                  f"{'may' if answer.allowed else 'may not'} {answer.permission.value} on "
                  f"{answer.path}")
            print(f"  why: {plain_text(answer.decision)}")
            for grant in answer.grants:
                print(f"  role: {plain_text(grant)}")
            for note in answer.notes:
                print(f"  note: {plain_text(note)}")

        for heading, answer in answers:
            if heading:
                print(f"\n{heading}")
            show(answer)


def cmd_purge(env: dict[str, Any], args: argparse.Namespace) -> None:
    from taskdesk.maintenance import purge

    with unit_of_work(env) as dbsession:
        purged = purge(dbsession, _settings(env))
    print(purged)


def cmd_analyze(env: dict[str, Any], args: argparse.Namespace) -> None:
    from taskdesk.maintenance import refresh_statistics

    refresh_statistics(env["registry"]["dbbinds"].engine)
    print("statistics refreshed for every table")


def _positive(text: str) -> int:
    """An argparse type: a whole number from 1 to 64."""
    try:
        number = int(text)
    except ValueError:
        number = 0
    if not 1 <= number <= 64:
        raise argparse.ArgumentTypeError(f"expected a whole number from 1 to 64, not {text!r}")
    return number


def cmd_worker(env: dict[str, Any], args: argparse.Namespace) -> None:
    from taskdesk.worker import QueueUnusable, run_worker

    try:
        run_worker(env["registry"], workers=args.workers, periodic=not args.no_periodic)
    except QueueUnusable as error:
        raise CommandError(str(error)) from None


def _refuse_in_production(env: dict[str, Any], args: argparse.Namespace, why: str) -> None:
    if _settings(env).environment == "production" and not args.i_know_this_is_production:
        raise CommandError(
            f"refusing {args.command} where taskdesk.environment = production: it {why}; "
            "pass --i-know-this-is-production to do it anyway"
        )


def cmd_seed_demo(env: dict[str, Any], args: argparse.Namespace) -> None:
    from taskdesk.demo import ADMIN_USERNAME, PASSWORD, seed_demo

    _refuse_in_production(
        env, args, f"creates the site admin {ADMIN_USERNAME!r} with the published password "
        f"{PASSWORD!r}")
    with unit_of_work(env) as dbsession:
        message = seed_demo(dbsession, _settings(env), tasks=args.tasks)
    print(message)


def cmd_generate_data(env: dict[str, Any], args: argparse.Namespace) -> None:
    from taskdesk.generate import PASSWORD, generate_data

    _refuse_in_production(
        env, args, "adds fake projects and users who sign in with the published password "
        f"{PASSWORD!r}")
    engine = env["registry"]["dbbinds"].engine
    generate_data(engine, _settings(env), tasks=args.tasks, projects=args.projects,
                  users=args.users, seed=args.seed, progress=not args.quiet)


def build_parser() -> argparse.ArgumentParser:
    # No abbreviated options: --i-know-this-is-production must be typed out.
    parser = argparse.ArgumentParser(
        prog="taskdesk", description="Administer a Taskdesk installation.", allow_abbrev=False
    )
    parser.add_argument("ini", help="the application's INI file, e.g. development.ini")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, handler: Callable[..., int | None],
            help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text,
                                  allow_abbrev=False)
        sub.set_defaults(handler=handler)
        return sub

    sub = add("migrate", cmd_migrate, "upgrade the database schema (to head by default)")
    sub.add_argument("--revision", default="head")

    sub = add("wait-for-migrations", cmd_wait_for_migrations,
              "wait until the database schema is at this version's newest revision (exit 0), "
              "or fail after --timeout seconds; it never migrates")
    sub.add_argument("--timeout", type=float, default=300, metavar="SECONDS",
                     help="give up after this many seconds (default 300)")

    for name, handler, text in (
        ("create-user", cmd_create_user, "create a user account"),
        ("set-password", cmd_set_password, "set a user's password"),
    ):
        sub = add(name, handler, text)
        sub.add_argument("username")
        sub.add_argument("--password-stdin", action="store_true",
                         help="read the password from the first line of standard input")
        if name == "create-user":
            sub.add_argument("--display-name")
            sub.add_argument("--email")
            sub.add_argument("--admin", action="store_true", help="make a site admin")

    sub = add("deactivate-user", cmd_deactivate_user,
              "deactivate a user at once: their sessions and API tokens stop working")
    sub.add_argument("username")

    sub = add("reactivate-user", cmd_reactivate_user,
              "let a deactivated user sign in again")
    sub.add_argument("username")

    sub = add("reset-two-factor", cmd_reset_two_factor,
              "turn a user's two-factor authentication off (lost phone and recovery codes): "
              "their recovery codes and remembered devices stop working")
    sub.add_argument("username")

    sub = add("list-users", cmd_list_users,
              "list user accounts: username, display name, e-mail, site admin, active, "
              "last seen")
    sub.add_argument("text", nargs="?", metavar="TEXT",
                     help="only users whose username or display name contains TEXT")
    status = sub.add_mutually_exclusive_group()
    status.add_argument("--active", dest="active", action="store_const", const=True,
                        help="only active users")
    status.add_argument("--inactive", dest="active", action="store_const", const=False,
                        help="only deactivated users")

    add("purge", cmd_purge,
        "delete expired sessions, old sign-in failures, expired idempotency keys, dispatched "
        "events and read notifications past their keep_days (the worker does it daily)")

    add("analyze", cmd_analyze,
        "refresh the database's statistics for the query planner (ANALYZE; VACUUM (ANALYZE) "
        "on PostgreSQL): run it after a bulk load or import; generate-data does it itself")

    sub = add("worker", cmd_worker,
              "run the task queue's worker: deliver notifications and run the periodic jobs "
              "until SIGTERM or SIGINT (it finishes the job in hand, then exits)")
    sub.add_argument("--workers", type=_positive, default=2, metavar="N",
                     help="jobs run at once, each in a thread (default 2)")
    sub.add_argument("--no-periodic", action="store_true",
                     help="leave the periodic jobs to another worker")

    audit_parser = add("audit", cmd_audit_verify, "the security audit log")
    audit_commands = audit_parser.add_subparsers(dest="audit_command", required=True,
                                                 metavar="ACTION")
    audit_commands.add_parser(
        "verify", help="check the hash chain: exit 0 when intact, 1 naming the first "
        "broken entry").set_defaults(handler=cmd_audit_verify)
    sub = audit_commands.add_parser(
        "export", help="write the entries as JSON lines (for a SIEM), oldest first")
    sub.set_defaults(handler=cmd_audit_export)
    sub.add_argument("--since", type=_moment, metavar="DATE",
                     help="only entries at or after this day or moment (UTC)")
    sub.add_argument("--output", metavar="FILE", help="write to FILE instead of stdout")

    sub = add("explain", cmd_explain,
              "why USER may or may not have PERMISSION on PATH (acme, acme#42 or a path)")
    sub.add_argument("user", metavar="USER")
    sub.add_argument("path", metavar="PATH")
    sub.add_argument("permission", metavar="PERMISSION")
    whatif = sub.add_mutually_exclusive_group()
    whatif.add_argument("--if-role", metavar="ROLE",
                        help="what if USER had this own role in the project (none: no role)")
    whatif.add_argument("--if-join", metavar="GROUP", help="what if USER joined GROUP")
    whatif.add_argument("--if-leave", metavar="GROUP", help="what if USER left GROUP")

    sub = add("seed-demo", cmd_seed_demo, "load the demo data set (once)")
    sub.add_argument("--tasks", type=int, default=300, help="tasks in the demo data set")
    sub.add_argument(PRODUCTION_FLAG, action="store_true",
                     help="load it even where taskdesk.environment = production")

    sub = add("generate-data", cmd_generate_data, "add synthetic data for benchmarks")
    sub.add_argument("--tasks", type=int, required=True)
    sub.add_argument("--projects", type=int, default=10)
    sub.add_argument("--users", type=int, default=50)
    sub.add_argument("--seed", type=int, default=1)
    sub.add_argument("--quiet", action="store_true", help="no progress bar")
    sub.add_argument(PRODUCTION_FLAG, action="store_true",
                     help="add it even where taskdesk.environment = production")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        with bootstrapped(args.ini) as env:
            code = args.handler(env, args)
    except CommandError as error:
        print(f"taskdesk: {error}", file=sys.stderr)
        return 2
    except DomainError as error:
        print(f"taskdesk: {_describe(error)}", file=sys.stderr)
        return 1
    except SQLAlchemyError as error:
        cause = str(getattr(error, "orig", None) or error).strip().splitlines()
        print(f"taskdesk: database error: {cause[0] if cause else type(error).__name__}",
              file=sys.stderr)
        return 1
    except SystemExit as exit_:
        if isinstance(exit_.code, str):  # a settings error from the app factory
            print(exit_.code, file=sys.stderr)
            return 2
        raise
    except KeyboardInterrupt:
        return 130
    return int(code or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
