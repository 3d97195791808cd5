"""Installing the system packages a test set-up needs (Debian's apt-get, root only)."""

from __future__ import annotations

import os
import shutil
import subprocess


def apt_get(*args: str) -> None:
    environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    # Wait for a dpkg lock held by another install rather than fail at once.
    command = ["apt-get", "-o", "DPkg::Lock::Timeout=600", *args]
    subprocess.run(command, check=True, env=environment, timeout=1200,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def install(packages: list[str], what: str) -> str | None:
    """Install Debian ``packages``; None when done, else why not (for a skip reason)."""
    if shutil.which("apt-get") is None:
        return f"{what} is missing and this system has no apt-get to install it"
    if os.geteuid() != 0:
        return f"{what} is missing and installing it with apt-get needs root"
    try:
        apt_get("update")
        apt_get("install", "-y", "--no-install-recommends", *packages)
    except subprocess.CalledProcessError as error:
        stderr = error.stderr.decode(errors="replace").strip().splitlines()
        return f"{' '.join(error.cmd)} failed: {stderr[-1] if stderr else error}"
    except subprocess.TimeoutExpired:
        return f"apt-get took too long to install {what}"
    return None
