"""A server-sent event stream read the way a browser's EventSource reads it, for the live
update server tests."""

from __future__ import annotations

import http.client
import json
import time
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

from tests.support.servers import Client


@dataclass
class ServerEvent:
    event: str
    data: Any
    id: str | None


@dataclass
class EventStream:
    """``GET path`` with ``client``'s cookies (and a ``Last-Event-ID``); :attr:`status` is the
    answer's status, :meth:`next` reads the events one by one."""

    client: Client
    path: str
    last_event_id: str | None = None
    status: int = 0
    body: bytes = b""
    comments: int = 0
    _connection: http.client.HTTPConnection | None = field(default=None, repr=False)
    _response: http.client.HTTPResponse | None = field(default=None, repr=False)

    def __enter__(self) -> Self:
        self._connection = http.client.HTTPConnection("127.0.0.1", self.client.port,
                                                      timeout=30)
        headers = {"Accept": "text/event-stream"}
        if self.client.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.client.cookies.items())
        if self.last_event_id is not None:
            headers["Last-Event-ID"] = self.last_event_id
        self._connection.request("GET", self.path, headers=headers)
        self._response = self._connection.getresponse()
        self.status = self._response.status
        if self.status != 200:
            self.body = self._response.read()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if self._connection is not None:
            self._connection.close()

    def header(self, name: str) -> str:
        assert self._response is not None
        return str(self._response.getheader(name, ""))

    def next(self, timeout: float = 10) -> ServerEvent | None:
        """The next event (comments are counted, not returned); None when the stream ends.
        Fails when nothing arrives within ``timeout`` seconds."""
        assert self._response is not None
        assert self._connection is not None
        assert self._connection.sock is not None
        deadline = time.monotonic() + timeout
        event, data, ident = "message", [], None
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no event within {timeout} s on {self.path}")
            self._connection.sock.settimeout(left)
            try:
                line = self._response.readline()
            except TimeoutError:
                raise AssertionError(f"no event within {timeout} s on {self.path}") from None
            if not line:
                return None
            text = line.decode("utf-8").rstrip("\n")
            if text == "":
                if data:
                    return ServerEvent(event, json.loads("\n".join(data)), ident)
                event, data, ident = "message", [], None
            elif text.startswith(":"):
                self.comments += 1
            else:
                name, _, value = text.partition(":")
                value = value.removeprefix(" ")
                if name == "event":
                    event = value
                elif name == "data":
                    data.append(value)
                elif name == "id":
                    ident = value

    def next_of(self, kind: str, timeout: float = 10) -> ServerEvent:
        """The next event named ``kind``, skipping others."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.next(max(0.01, deadline - time.monotonic()))
            assert found is not None, f"the stream ended before a {kind} event"
            if found.event == kind:
                return found
