"""A real HTTP receiver for webhook tests, and running the app's queued jobs in the test.

:class:`Receiver` serves on 127.0.0.1 (a free port) from a thread, answers each POST with
the next of the answers it was given (the last one repeats) and records what arrived; its
``with`` block always stops it.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any

from taskdesk.queue import dispatch_events, queue_of

README = Path(__file__).resolve().parents[2] / "README.md"


@dataclass(frozen=True)
class Answer:
    status: int = 200
    body: bytes = b"ok"
    headers: dict[str, str] = field(default_factory=dict)
    #: Seconds to wait before answering (a slow receiver).
    delay: float = 0.0


@dataclass(frozen=True)
class Arrival:
    path: str
    headers: dict[str, str]
    body: bytes


class Receiver:
    def __init__(self, *answers: Answer) -> None:
        self.answers = list(answers) or [Answer()]
        self.arrivals: list[Arrival] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                with receiver._lock:
                    receiver.arrivals.append(Arrival(self.path, dict(self.headers), body))
                    index = min(len(receiver.arrivals), len(receiver.answers)) - 1
                    answer = receiver.answers[index]
                if answer.delay:
                    time.sleep(answer.delay)
                try:
                    self.send_response(answer.status)
                    for name, value in answer.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(answer.body)))
                    self.end_headers()
                    self.wfile.write(answer.body)
                except OSError:  # the sender gave up (timeout) and closed the connection
                    pass

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = int(self.server.server_address[1])
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


def readme_verifier() -> Callable[..., bool]:
    """``verify_signature`` exactly as the README's Webhooks section gives it to receivers."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Webhooks"):]
    code = re.search(r"```python\n(.*?)```", section, re.S)
    assert code is not None, "the README's Webhooks section has no Python recipe"
    namespace: dict[str, Any] = {}
    exec(compile(code.group(1), "README.md", "exec"), namespace)  # noqa: S102 - our README
    verify: Callable[..., bool] = namespace["verify_signature"]
    return verify


def run_jobs(app: Any) -> int:
    """Hand the pending events to the consumers, then run every job the queue holds (the
    real jobs, as a worker would) until it is empty; return how many ran."""
    queue = queue_of(app.registry)
    dispatch_events(queue.context)
    count = 0
    while (task := queue.huey.dequeue()) is not None:
        queue.huey.execute(task)
        count += 1
    return count
