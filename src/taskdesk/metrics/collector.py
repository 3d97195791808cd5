"""Request counters and latency histograms, kept in memory, written as Prometheus text.

One :class:`RequestMetrics` per application (on the registry), so per process: with several
server processes or Hypercorn workers every process has its own counts, and Prometheus must
scrape each process (one target per port or worker) and sum in queries. A lock guards the
tables, because Waitress and Hypercorn call the application from several threads.
"""

from __future__ import annotations

import math
import os
import threading
import time
from dataclasses import dataclass, field

#: Histogram bucket upper bounds in seconds.
BUCKETS: tuple[float, ...] = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
#: Distinct (view, method, status) series kept; later new ones are counted as view="other",
#: so a client walking odd URLs cannot make the table grow without bound.
MAX_SERIES = 500
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

Labels = tuple[str, str, str]


@dataclass
class Series:
    count: int = 0
    total: float = 0.0
    buckets: list[int] = field(default_factory=lambda: [0] * len(BUCKETS))


def escape(value: str) -> str:
    """A label value in the text exposition format's escaping."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _number(value: float) -> str:
    if math.isinf(value):
        return "+Inf"
    return repr(float(value)) if not float(value).is_integer() else str(int(value))


def resident_memory_bytes() -> int | None:
    """This process's resident set size (Linux), or None where /proc is not available."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


class RequestMetrics:
    """Counts and latency histograms of answered requests, by view, method and status."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._series: dict[Labels, Series] = {}
        self.started = time.time()

    def observe(self, view: str, method: str, status: int, seconds: float) -> None:
        method = method if method in METHODS else "other"
        labels = (view, method, str(status))
        with self._lock:
            series = self._series.get(labels)
            if series is None:
                if len(self._series) >= MAX_SERIES:
                    labels = ("other", method, str(status))
                series = self._series.setdefault(labels, Series())
            series.count += 1
            series.total += seconds
            for index, bound in enumerate(BUCKETS):
                if seconds <= bound:
                    series.buckets[index] += 1
                    break

    def snapshot(self) -> list[tuple[Labels, Series]]:
        """A consistent copy of the tables, taken under the lock."""
        with self._lock:
            return [
                (labels, Series(s.count, s.total, list(s.buckets)))
                for labels, s in sorted(self._series.items())
            ]


POOL_GAUGES: tuple[tuple[str, str], ...] = (
    ("checked_out", "Database connections in use by requests now."),
    ("size", "Connections the pool keeps open (its configured size)."),
    ("overflow", "Connections open beyond the pool size now (negative: unused capacity)."),
)


def _gauge(name: str, help_text: str, value: float) -> list[str]:
    return [f"# HELP {name} {help_text}", f"# TYPE {name} gauge", f"{name} {_number(value)}"]


def exposition(metrics: RequestMetrics, pool: dict[str, int]) -> str:
    """All metrics in the Prometheus text format, version 0.0.4."""
    snapshot = metrics.snapshot()
    lines = [
        "# HELP taskdesk_http_requests_total Requests answered, by view, method and status.",
        "# TYPE taskdesk_http_requests_total counter",
    ]
    for (view, method, status), series in snapshot:
        labels = f'view="{escape(view)}",method="{method}",status="{status}"'
        lines.append(f"taskdesk_http_requests_total{{{labels}}} {series.count}")
    name = "taskdesk_http_request_duration_seconds"
    lines += [
        f"# HELP {name} Time from the first tween to the response, by view, method and status.",
        f"# TYPE {name} histogram",
    ]
    for (view, method, status), series in snapshot:
        labels = f'view="{escape(view)}",method="{method}",status="{status}"'
        cumulative = 0
        for bound, in_bucket in zip(BUCKETS, series.buckets, strict=True):
            cumulative += in_bucket
            lines.append(f'{name}_bucket{{{labels},le="{_number(bound)}"}} {cumulative}')
        lines.append(f'{name}_bucket{{{labels},le="+Inf"}} {series.count}')
        lines.append(f"{name}_sum{{{labels}}} {series.total!r}")
        lines.append(f"{name}_count{{{labels}}} {series.count}")
    for key, help_text in POOL_GAUGES:
        if key in pool:
            lines += _gauge(f"taskdesk_db_pool_{key}", help_text, pool[key])
    lines += _gauge("process_start_time_seconds", "Start time of this process (Unix time).",
                    metrics.started)
    rss = resident_memory_bytes()
    if rss is not None:
        lines += _gauge("process_resident_memory_bytes", "Resident memory of this process.", rss)
    return "\n".join(lines) + "\n"
