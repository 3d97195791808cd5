#!/bin/sh
# The Taskdesk image's entry point:
#   serve            Hypercorn (python -m taskdesk.asgi) with TASKDESK_HYPERCORN_CONFIG
#                    (default /opt/taskdesk/hypercorn.toml, the repository's) on
#                    TASKDESK_BIND (default 0.0.0.0:6543)
#   worker [...]     the task queue's worker       (taskdesk INI worker)
#   migrate [...]    upgrade the database schema   (taskdesk INI migrate)
#   COMMAND [...]    any other admin command, e.g. create-user, list-users, purge
#                    (taskdesk INI COMMAND; `taskdesk --help` lists them)
# INI is TASKDESK_INI (default /opt/taskdesk/container.ini). Each command replaces this shell
# (exec), so it is the container's main process and gets SIGTERM itself.
set -eu
ini="${TASKDESK_INI:-/opt/taskdesk/container.ini}"
command="${1:-serve}"
if [ "$#" -gt 0 ]; then
    shift
fi
case "$command" in
    serve)
        exec python -m taskdesk.asgi \
            --config "${TASKDESK_HYPERCORN_CONFIG:-/opt/taskdesk/hypercorn.toml}" \
            --bind "${TASKDESK_BIND:-0.0.0.0:6543}" "$@"
        ;;
    -h|--help|help)
        exec taskdesk --help
        ;;
    *)
        exec taskdesk "$ini" "$command" "$@"
        ;;
esac
