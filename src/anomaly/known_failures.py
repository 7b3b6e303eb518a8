"""Failures a user can act on, and the few worth trying again.

A known failure comes from the input, the configuration or the machine, never
from a bug: a drop that cannot be read, a rule book that does not parse, an
output folder that cannot be written, a key with loose permissions, a case
store held by another process. Its message names the file, row, column or
path. The command line prints it in one or two lines and exits with code 2;
only ``--debug`` adds the traceback.

Prefect tasks retry only transient I/O (a network share that went away for a
moment); a data or configuration error gives the same answer every time, so
retrying it only delays the message.
"""

from __future__ import annotations

import errno
import sys
from collections.abc import Callable
from typing import Any

EXIT_KNOWN_FAILURE = 2

TRANSIENT_ERRNOS = frozenset(
    {
        errno.EAGAIN,
        errno.EBUSY,
        errno.EINTR,
        errno.EIO,
        errno.ESTALE,
        errno.ETIMEDOUT,
        errno.ECONNRESET,
        errno.ECONNABORTED,
        errno.ECONNREFUSED,
        errno.EHOSTUNREACH,
        errno.ENETUNREACH,
        errno.ENETDOWN,
    }
)


class KnownFailure(Exception):
    """A failure the user can fix: its message says where (file, row, column, path) and what."""


class OutputError(KnownFailure):
    """An output file or folder that cannot be written."""


class KeyFileError(KnownFailure):
    """The office key is missing where a store expects it, too short, or readable by others."""


class StoreBusyError(KnownFailure):
    """The case store stayed held by another process for longer than the wait allowed."""


def is_transient(error: BaseException) -> bool:
    """True for I/O failures that may pass by themselves (a share, a lock, a network)."""
    if isinstance(error, KnownFailure):
        return False
    if isinstance(error, TimeoutError | ConnectionError | InterruptedError | BlockingIOError):
        return True
    return isinstance(error, OSError) and error.errno in TRANSIENT_ERRNOS


def retry_transient_only(task: Any, task_run: Any, state: Any) -> bool:
    """Prefect's ``retry_condition_fn``: retry a failed task only for transient I/O."""
    error = state.data if isinstance(state.data, BaseException) else None
    if error is None:
        try:
            state.result()
        except Exception as raised:  # the state holds the task's exception
            error = raised
    return error is not None and is_transient(error)


def as_known_failure(error: BaseException) -> KnownFailure | None:
    """The failure as a known one, or None for a bug.

    An operating-system error on a named path (permission denied, no space,
    read-only file system, not a directory) is a known failure: the path and
    the system's words say what to fix.
    """
    if isinstance(error, KnownFailure):
        return error
    if isinstance(error, OSError) and error.filename is not None:
        reason = error.strerror or type(error).__name__
        return OutputError(f"{error.filename}: {reason}")
    return None


def run_as_script(run: Callable[[], object]) -> None:
    """Run a module's ``__main__`` work: print its result, or a known failure in one line."""
    try:
        print(run())
    except Exception as error:
        known = as_known_failure(error)
        if known is None:
            raise
        print(f"error: {known}", file=sys.stderr)
        sys.exit(EXIT_KNOWN_FAILURE)
