"""Sealing stored answers that hold a secret: only the right key opens them, and any change
to a sealed box is detected."""

from __future__ import annotations

import pytest

from taskdesk.security.secrets import seal, unseal

KEY = b"k" * 32


@pytest.mark.parametrize("data", [b"", b"\x00" * 5, b'{"secret": "td_abc"}', bytes(range(256)) * 9])
def test_what_is_sealed_unseals_with_its_key_only(data: bytes) -> None:
    box = seal(KEY, data)
    assert unseal(KEY, box) == data
    assert unseal(b"x" * 32, box) is None
    if data:
        assert data not in box


def test_two_seals_of_the_same_data_differ() -> None:
    assert seal(KEY, b"same") != seal(KEY, b"same")


def test_any_change_to_a_box_is_refused() -> None:
    box = seal(KEY, b"the secret of a new token")
    for index in range(len(box)):
        altered = bytearray(box)
        altered[index] ^= 1
        assert unseal(KEY, bytes(altered)) is None
    assert unseal(KEY, box[:-1]) is None
    assert unseal(KEY, b"short") is None
