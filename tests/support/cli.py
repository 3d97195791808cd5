"""The ``taskdesk`` admin command run inside the test process, for tests about what a
command does rather than about its process: starting one costs ~2 s of imports and
start-up on this kind of machine, and some tests run a dozen. Exit statuses, standard
output and standard error are what the command line would see (``tests/functional/
test_cli.py`` keeps real processes for the exit and argument handling itself)."""

from __future__ import annotations

import io
import logging
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import chdir, contextmanager, redirect_stderr, redirect_stdout
from pathlib import Path

from taskdesk import cli

LoggerState = tuple[int, list[logging.Handler], bool, bool]


def _loggers() -> list[logging.Logger]:
    return [logging.getLogger(), *(logger for logger in logging.Logger.manager.loggerDict.values()
                                   if isinstance(logger, logging.Logger))]


@contextmanager
def _logging_restored() -> Iterator[None]:
    """Undo what the INI's logging configuration did to this process's loggers (levels,
    handlers), as the end of the command's own process would."""
    before: dict[logging.Logger, LoggerState] = {
        logger: (logger.level, list(logger.handlers), logger.propagate, logger.disabled)
        for logger in _loggers()
    }
    try:
        yield
    finally:
        for logger in _loggers():
            level, handlers, propagate, disabled = before.get(
                logger, (logging.NOTSET, [], True, False))
            for handler in logger.handlers:
                if handler not in handlers:
                    handler.close()
            logger.handlers[:] = handlers
            logger.propagate, logger.disabled = propagate, disabled
            logger.setLevel(level)


@contextmanager
def _stdin(text: str) -> Iterator[None]:
    saved = sys.stdin
    sys.stdin = io.StringIO(text)
    try:
        yield
    finally:
        sys.stdin = saved


@contextmanager
def _environment(variables: Mapping[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                del os.environ[name]
            else:
                os.environ[name] = value


def run_command(ini: Path | str, *args: str, stdin: str | None = None,
                environ: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``taskdesk INI ARGS`` in this process, in the INI's folder, with ``stdin`` as its
    standard input (no terminal) and ``environ`` added to the environment."""
    out, err = io.StringIO(), io.StringIO()
    argv = [str(ini), *args]
    with (_logging_restored(), _environment(environ or {}), chdir(Path(str(ini)).parent),
          _stdin(stdin or ""), redirect_stdout(out), redirect_stderr(err)):
        try:
            code = cli.main(argv)
        except SystemExit as exit_:  # argparse: usage errors (2), --help (0)
            code = exit_.code if isinstance(exit_.code, int) else int(exit_.code is not None)
    return subprocess.CompletedProcess(["taskdesk", *argv], code, out.getvalue(),
                                       err.getvalue())
