"""Run ``anomaly`` and kill the process (SIGKILL) right after one function returns.

    KILL_AFTER=module:attribute python tests/support/kill_after.py run DROP --out OUT ...

``attribute`` may be ``Class.method``. The kill is a real one: nothing is
flushed or cleaned up, as when a machine loses power or the OOM killer strikes.
"""

from __future__ import annotations

import importlib
import os
import signal
import sys


def arm(target: str) -> None:
    module_name, _, attribute = target.partition(":")
    owner = importlib.import_module(module_name)
    *path, name = attribute.split(".")
    for part in path:
        owner = getattr(owner, part)
    original = getattr(owner, name)

    def killed_after(*args, **kwargs):
        result = original(*args, **kwargs)
        os.kill(os.getpid(), signal.SIGKILL)
        return result

    setattr(owner, name, killed_after)


if __name__ == "__main__":
    arm(os.environ["KILL_AFTER"])
    from anomaly.cli import main

    sys.argv = ["anomaly", *sys.argv[1:]]
    main()
