"""A container engine for the image tests: Docker, started here when it is installed but not
running (as root), and the image built from deploy/Containerfile.

No image registry is reachable on the machines the suite runs on, so the base image comes
from Debian packages (deploy/base-image.sh, debootstrap; its root file system cached under
``~/.cache/taskdesk``), and containers use the host's network (the bridge's private
addresses are refused). The image keeps its tag, so a second run builds from the cache."""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support.system import install

ROOT = Path(__file__).resolve().parents[2]
IMAGE = "taskdesk:test"
BASE = "taskdesk-base:bookworm"
#: Held while a test process uses the engine: pytest-xdist workers (or two test runs) take
#: turns, so one never stops a daemon another is using.
LOCK = Path.home() / ".cache" / "taskdesk" / "container-tests.lock"
#: Certificate authorities this machine adds for outgoing HTTPS (deploy/certs/README.md).
LOCAL_CAS = Path("/usr/local/share/ca-certificates")


def docker(*args: str, timeout: float = 120, check: bool = True
           ) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout,
                          check=check)


def _answers() -> bool:
    try:
        return docker("info", timeout=20, check=False).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@contextmanager
def container_engine(log: Path) -> Iterator[str | None]:
    """Yield None once ``docker`` answers, or why it cannot. A daemon started here (root
    only) is stopped again afterwards; one that was running is left alone."""
    LOCK.parent.mkdir(parents=True, exist_ok=True)
    with LOCK.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        with _engine(log) as reason:
            yield reason


@contextmanager
def _engine(log: Path) -> Iterator[str | None]:
    if not _answers() and (shutil.which("docker") is None or shutil.which("dockerd") is None):
        reason = install(["docker.io"], "Docker")
        if reason is not None:
            yield reason
            return
    if _answers():
        yield None
        return
    if os.geteuid() != 0:
        yield "the Docker daemon is not running, and starting it needs root"
        return
    with log.open("ab") as out:
        daemon = subprocess.Popen(["dockerd"], stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while not _answers():
            if daemon.poll() is not None or time.monotonic() > deadline:
                tail = log.read_text(errors="replace").strip().splitlines()[-3:]
                yield f"dockerd did not start here: {' / '.join(tail)}"
                return
            time.sleep(0.5)
        yield None
    finally:
        daemon.terminate()
        try:
            daemon.wait(60)
        except subprocess.TimeoutExpired:
            daemon.kill()
            daemon.wait()


def build_image() -> str | None:
    """Build :data:`IMAGE` from the repository (the base image first); None when built,
    else why not."""
    if docker("image", "inspect", BASE, check=False).returncode != 0:
        if shutil.which("debootstrap") is None:
            reason = install(["debootstrap"], "debootstrap")
            if reason is not None:
                return reason
        made = subprocess.run([str(ROOT / "deploy" / "base-image.sh"), BASE],
                              capture_output=True, text=True, timeout=900, check=False)
        if made.returncode != 0:
            return f"deploy/base-image.sh failed: {made.stderr.strip()[-500:]}"
    # A TLS-inspecting proxy's CA, so the builder stage can download (git-ignored copies).
    for certificate in sorted(LOCAL_CAS.glob("*.crt")):
        target = ROOT / "deploy" / "certs" / certificate.name
        if not target.exists() or target.read_bytes() != certificate.read_bytes():
            shutil.copyfile(certificate, target)
    built = docker("build", "--network", "host", "-f", str(ROOT / "deploy" / "Containerfile"),
                   "-t", IMAGE, str(ROOT), timeout=900, check=False)
    if built.returncode != 0:
        raise AssertionError(f"the image did not build:\n{built.stdout[-3000:]}\n"
                             f"{built.stderr[-3000:]}")
    return None
