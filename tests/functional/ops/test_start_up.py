"""Start-up objects are frozen out of the garbage collector once the app is built."""

from __future__ import annotations

import gc
from typing import Any

from tests.support.apps import build_app


def test_building_the_app_freezes_start_up_objects(database_url: str, engine: Any) -> None:
    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    build_app(database_url)
    assert gc.get_freeze_count() > 10_000
