"""TOTP against RFC 6238 appendix B (and HOTP against RFC 4226 appendix D)."""

from __future__ import annotations

import base64

import pytest

from taskdesk.security import totp

#: The RFC's seeds: ASCII "1234567890" repeated to the hash's length.
SEEDS = {
    "sha1": b"12345678901234567890",
    "sha256": b"12345678901234567890123456789012",
    "sha512": b"1234567890123456789012345678901234567890123456789012345678901234",
}

RFC6238 = [
    (59, "94287082", "46119246", "90693936"),
    (1111111109, "07081804", "68084774", "25091201"),
    (1111111111, "14050471", "67062674", "99943326"),
    (1234567890, "89005924", "91819424", "93441116"),
    (2000000000, "69279037", "90698825", "38618901"),
    (20000000000, "65353130", "77737706", "47863826"),
]


@pytest.mark.parametrize(("unix_time", "sha1", "sha256", "sha512"), RFC6238)
def test_rfc6238_appendix_b(unix_time: int, sha1: str, sha256: str, sha512: str) -> None:
    step = totp.time_step(unix_time)
    for algorithm, expected in (("sha1", sha1), ("sha256", sha256), ("sha512", sha512)):
        assert totp.hotp(SEEDS[algorithm], step, digits=8, algorithm=algorithm) == expected


def test_rfc4226_appendix_d() -> None:
    expected = ["755224", "287082", "359152", "969429", "338314",
                "254676", "287922", "162583", "399871", "520489"]
    assert [totp.hotp(SEEDS["sha1"], counter) for counter in range(10)] == expected


def test_base32_secret_gives_the_same_codes_as_its_bytes() -> None:
    secret = base64.b32encode(SEEDS["sha1"]).decode().rstrip("=")
    assert totp.code_at(secret, 59) == "287082"  # the 6-digit form of the first vector
    assert totp.code_at(secret.lower(), 59) == "287082"


def test_a_code_matches_its_step_and_one_either_side_only() -> None:
    secret = totp.new_secret()
    now = 1_800_000_000.0
    current = totp.code_at(secret, now)
    assert totp.matching_step(secret, current, now, None) == totp.time_step(now)
    assert totp.matching_step(secret, f" {current[:3]} {current[3:]} ", now, None) is not None
    assert totp.matching_step(secret, totp.code_at(secret, now - 30), now, None) is not None
    assert totp.matching_step(secret, totp.code_at(secret, now + 30), now, None) is not None
    assert totp.matching_step(secret, totp.code_at(secret, now - 90), now, None) is None
    assert totp.matching_step(secret, "abcdef", now, None) is None
    assert totp.matching_step(secret, "12345", now, None) is None


def test_a_used_step_and_older_ones_never_match_again() -> None:
    secret = totp.new_secret()
    now = 1_800_000_000.0
    step = totp.time_step(now)
    assert totp.matching_step(secret, totp.code_at(secret, now), now, step) is None
    assert totp.matching_step(secret, totp.code_at(secret, now - 30), now, step) is None
    assert totp.matching_step(secret, totp.code_at(secret, now + 30), now, step) == step + 1


def test_secret_and_provisioning_uri() -> None:
    secret = totp.new_secret()
    assert len(secret) == 32
    assert len(base64.b32decode(secret)) == totp.SECRET_BYTES
    uri = totp.provisioning_uri(secret, "wang wei", "Taskdesk")
    assert uri.startswith("otpauth://totp/Taskdesk%3Awang%20wei?secret=" + secret)
    assert "issuer=Taskdesk" in uri
    assert "digits=6" in uri
    assert "period=30" in uri
    assert totp.grouped("ABCDEFGHIJ") == "ABCD EFGH IJ"
