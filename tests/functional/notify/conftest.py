"""Fixtures of the webhook delivery tests: ``app`` is the app whose allow-list admits
127.0.0.1 (``hooks`` of tests/functional/conftest.py)."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def app(hooks: Any) -> Any:
    return hooks
