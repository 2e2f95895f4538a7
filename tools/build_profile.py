"""Build the site once and report where the time goes, per plugin and hook event.

Wraps every plugin/hook event method with a timer (wall-clock, no profiler overhead),
runs `mkdocs build --strict`, and prints JSON: {"total": s, "events": {"<owner>.<event>": s}}.
Used by tools/bench.py on a warm build; run it alone to find what to optimise:

    python tools/build_profile.py [site-dir]
"""

from __future__ import annotations

import collections
import json
import sys
import time

import mkdocs.config
from mkdocs.__main__ import cli

SECONDS: collections.Counter[str] = collections.Counter()
_load_config = mkdocs.config.load_config


def _timed(method, label):
    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return method(*args, **kwargs)
        finally:
            SECONDS[label] += time.perf_counter() - start
    return wrapper


def _load_config_with_timers(*args, **kwargs):
    config = _load_config(*args, **kwargs)
    for event, methods in config.plugins.events.items():
        timed = []
        for method in methods:
            owner = getattr(method, "__self__", None)
            name = type(owner).__name__ if owner is not None else method.__module__
            timed.append(_timed(method, f"{name}.{event}"))
        config.plugins.events[event] = timed
    return config


def main() -> int:
    mkdocs.config.load_config = _load_config_with_timers
    start = time.perf_counter()
    try:
        cli(["build", "--strict", "--quiet", "--site-dir", sys.argv[1] if len(sys.argv) > 1 else "site"])
    except SystemExit as exit_:
        if exit_.code:
            return int(exit_.code)
    total = time.perf_counter() - start
    print(json.dumps({"total": total, "events": dict(SECONDS.most_common())}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
