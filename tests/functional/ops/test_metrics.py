"""Prometheus metrics at /metrics (taskdesk.metrics)."""

from __future__ import annotations

import re
import threading
from typing import Any

import pytest
import webtest

from taskdesk.metrics.collector import BUCKETS, MAX_SERIES, RequestMetrics, exposition
from tests.support.apps import METRICS_TOKEN

LOCAL = {"REMOTE_ADDR": "127.0.0.1"}
SAMPLE = re.compile(r"^([a-z_]+)(?:\{(.*)\})? (\S+)$")


def samples(text: str) -> list[tuple[str, dict[str, str], float]]:
    """Every sample line of an exposition, parsed; fails on a malformed line."""
    parsed = []
    for line in text.splitlines():
        if line.startswith("#"):
            assert re.match(r"# (HELP|TYPE) [a-z_]+ ", line), line
            continue
        match = SAMPLE.match(line)
        assert match, f"malformed sample line: {line!r}"
        labels = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', match.group(2) or ""))
        parsed.append((match.group(1), labels, float(match.group(3))))
    return parsed


def value(text: str, name: str, **labels: str) -> float:
    found = [v for n, found_labels, v in samples(text)
             if n == name and found_labels == labels]
    assert len(found) == 1, f"{name}{labels}: {found}"
    return found[0]


def test_metrics_count_requests_by_view_and_status(ops_testapp: webtest.TestApp) -> None:
    before = ops_testapp.get("/metrics", extra_environ=LOCAL).text
    key = {"view": "Root/healthz", "method": "GET", "status": "200"}
    start = next((v for n, found, v in samples(before)
                  if n == "taskdesk_http_requests_total" and found == key), 0.0)
    for _ in range(3):
        ops_testapp.get("/healthz")
    text = ops_testapp.get("/metrics", extra_environ=LOCAL).text
    assert value(text, "taskdesk_http_requests_total", **key) == start + 3
    assert value(text, "taskdesk_http_request_duration_seconds_count", **key) == start + 3


def test_histogram_buckets_are_cumulative_and_end_at_the_count(
    ops_testapp: webtest.TestApp
) -> None:
    ops_testapp.get("/healthz")
    text = ops_testapp.get("/metrics", extra_environ=LOCAL).text
    key = {"view": "Root/healthz", "method": "GET", "status": "200"}
    buckets = [
        (labels["le"], v) for n, labels, v in samples(text)
        if n == "taskdesk_http_request_duration_seconds_bucket"
        and {k: labels[k] for k in key} == key
    ]
    assert [le for le, _ in buckets] == [*(format(b, "g") for b in BUCKETS), "+Inf"]
    counts = [v for _, v in buckets]
    assert counts == sorted(counts)
    assert counts[-1] == value(text, "taskdesk_http_request_duration_seconds_count", **key)
    assert value(text, "taskdesk_http_request_duration_seconds_sum", **key) > 0


def test_unknown_urls_do_not_become_labels(ops_testapp: webtest.TestApp) -> None:
    ops_testapp.get("/no-such-thing-4711", status=404)
    ops_testapp.get("/projects/%00", status=400)
    text = ops_testapp.get("/metrics", extra_environ=LOCAL).text
    assert "4711" not in text
    views = {labels.get("view") for _, labels, _ in samples(text)}
    assert {"notfound", "unrouted"} <= views


def test_metrics_show_the_database_pool_and_memory(ops_testapp: webtest.TestApp) -> None:
    text = ops_testapp.get("/metrics", extra_environ=LOCAL).text
    names = {name for name, _, _ in samples(text)}
    assert {"taskdesk_db_pool_checked_out", "process_resident_memory_bytes",
            "process_start_time_seconds"} <= names
    assert value(text, "process_resident_memory_bytes") > 1_000_000


def test_metrics_response_is_prometheus_text(ops_testapp: webtest.TestApp) -> None:
    response = ops_testapp.get("/metrics", extra_environ=LOCAL)
    assert response.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("address", ["127.0.0.1", "::1"])
def test_allowed_addresses_may_read(ops_testapp: webtest.TestApp, address: str) -> None:
    ops_testapp.get("/metrics", extra_environ={"REMOTE_ADDR": address}, status=200)


@pytest.mark.parametrize("headers", [
    {},
    {"Authorization": "Bearer wrong-token"},
    {"Authorization": f"Basic {METRICS_TOKEN}"},
    # A client cannot claim a local address through a forwarding header.
    {"X-Forwarded-For": "127.0.0.1"},
])
def test_other_clients_are_refused(ops_testapp: webtest.TestApp, headers: dict[str, str]) -> None:
    response = ops_testapp.get("/metrics", headers=headers,
                               extra_environ={"REMOTE_ADDR": "203.0.113.9"}, status=403)
    assert "taskdesk_" not in response.text


def test_the_token_opens_metrics_from_anywhere(ops_testapp: webtest.TestApp) -> None:
    response = ops_testapp.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"},
                               extra_environ={"REMOTE_ADDR": "203.0.113.9"})
    assert "taskdesk_http_requests_total" in response.text


def test_metrics_are_absent_unless_included(testapp: webtest.TestApp) -> None:
    testapp.get("/metrics", extra_environ=LOCAL, status=404)


def test_concurrent_observations_are_all_counted() -> None:
    metrics = RequestMetrics()

    def work() -> None:
        for index in range(2000):
            metrics.observe("Root/x", "GET", 200, index / 10000)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    text = exposition(metrics, {})
    key = {"view": "Root/x", "method": "GET", "status": "200"}
    assert value(text, "taskdesk_http_requests_total", **key) == 16000
    assert value(text, "taskdesk_http_request_duration_seconds_bucket", le="+Inf", **key) == 16000


def test_series_are_capped_and_label_values_escaped() -> None:
    metrics = RequestMetrics()
    for index in range(MAX_SERIES + 50):
        metrics.observe(f"view{index}", "GET", 200, 0.001)
    text = exposition(metrics, {})
    counted: dict[str, Any] = {}
    for name, labels, v in samples(text):
        if name == "taskdesk_http_requests_total":
            counted[labels["view"]] = v
    assert len(counted) == MAX_SERIES + 1  # the cap, plus "other" for the rest
    assert counted["other"] == 50
    metrics = RequestMetrics()
    metrics.observe('odd"view\\\n', "BREW", 418, 0.001)
    [line] = [x for x in exposition(metrics, {}).splitlines()
              if x.startswith("taskdesk_http_requests_total")]
    assert line == ('taskdesk_http_requests_total{view="odd\\"view\\\\\\n",method="other",'
                    'status="418"} 1')
