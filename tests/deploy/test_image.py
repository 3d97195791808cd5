"""The container image, built from the repository and run as the deployment files run it:
read-only root file system, unprivileged, host network (the only one here), a data volume.

Built once per session (deploy/Containerfile on a debootstrap base, tests/support/containers.py);
with the base's root file system and the engine's layers cached a run takes about a minute."""

from __future__ import annotations

import http.client
import json
import os
import secrets
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.containers import IMAGE, build_image, container_engine, docker
from tests.support.databases import create_database
from tests.support.servers import free_port

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    log = tmp_path_factory.mktemp("engine") / "dockerd.log"
    with container_engine(log) as reason:
        if reason is not None:
            pytest.skip(f"no container engine: {reason}")
        reason = build_image()
        if reason is not None:
            pytest.skip(reason)
        yield IMAGE


@pytest.fixture
def data_volume(tmp_path: Path) -> Path:
    """A host directory for /var/lib/taskdesk, owned by the image's user (uid 10001)."""
    directory = tmp_path / "data"
    directory.mkdir()
    if os.geteuid() == 0:
        os.chown(directory, 10001, 10001)
    else:
        directory.chmod(0o777)
    return directory


class Containers:
    """Runs the image as the manifests do; removes every container it started."""

    def __init__(self, image: str, volume: Path) -> None:
        self.image = image
        self.volume = volume
        self.started: list[str] = []
        self.environment = {"TASKDESK_SESSION_SECRET": secrets.token_urlsafe(40)}

    def options(self, **environment: str) -> list[str]:
        variables = {**self.environment, **environment}
        options = ["--network", "host", "--read-only", "--tmpfs", "/tmp",  # noqa: S108
                   "-v", f"{self.volume}:/var/lib/taskdesk"]
        for name, value in variables.items():
            options += ["-e", f"{name}={value}"]
        return options

    def run(self, *args: str, timeout: float = 120, **environment: str) -> tuple[int, str]:
        """Run a command to its end: (exit status, standard output + error)."""
        name = f"taskdesk-test-{uuid.uuid4().hex[:8]}"
        self.started.append(name)
        result = docker("run", "--name", name, *self.options(**environment), self.image,
                        *args, timeout=timeout, check=False)
        return result.returncode, result.stdout + result.stderr

    def start(self, *args: str, **environment: str) -> str:
        name = f"taskdesk-test-{uuid.uuid4().hex[:8]}"
        self.started.append(name)
        docker("run", "-d", "--name", name, *self.options(**environment), self.image, *args)
        return name

    def stop(self, name: str, timeout: int = 40) -> int:
        """SIGTERM, as Kubernetes and Compose stop a container; its exit status."""
        docker("stop", "-t", str(timeout), name, timeout=timeout + 30)
        return int(docker("inspect", "-f", "{{.State.ExitCode}}", name).stdout.strip())

    @staticmethod
    def logs(name: str) -> str:
        result = docker("logs", name)
        return result.stdout + result.stderr

    def remove_all(self) -> None:
        for name in self.started:
            docker("rm", "-f", name, check=False)


@pytest.fixture
def containers(image: str, data_volume: Path) -> Iterator[Containers]:
    running = Containers(image, data_volume)
    try:
        yield running
    finally:
        running.remove_all()


def get(port: int, path: str) -> tuple[int, dict[str, str]]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def page(port: int, path: str, language: str) -> tuple[int, str]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path, headers={"Accept-Language": language})
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


def wait_for(port: int, path: str, name: str, seconds: float = 60) -> tuple[int, dict[str, str]]:
    deadline = time.monotonic() + seconds
    while True:
        try:
            return get(port, path)
        except OSError:
            state = docker("inspect", "-f", "{{.State.Running}}", name).stdout.strip()
            if state != "true" or time.monotonic() > deadline:
                pytest.fail(f"{name} never answered {path}:\n{Containers.logs(name)}")
            time.sleep(0.5)


def wait_for_log(name: str, text: str, seconds: float = 60) -> str:
    deadline = time.monotonic() + seconds
    while text not in (logs := Containers.logs(name)):
        if time.monotonic() > deadline:
            pytest.fail(f"{name} never logged {text!r}:\n{logs}")
        time.sleep(0.5)
    return logs


def test_the_image_runs_unprivileged_without_compilers_or_pip(image: str) -> None:
    config = json.loads(docker("image", "inspect", image).stdout)[0]["Config"]
    assert config["User"] == "10001:10001"
    assert config["Entrypoint"] == ["/opt/taskdesk/entrypoint.sh"]
    assert config["Cmd"] == ["serve"]
    assert "6543/tcp" in config["ExposedPorts"]
    probe = docker("run", "--rm", "--network", "host", "--entrypoint", "sh", image, "-c",
                   "id -u; for tool in gcc cc c++ make pip pip3; do command -v $tool; done; "
                   "python -c 'import taskdesk, sys; print(sys.version_info[:2])'",
                   check=False)
    assert probe.stdout.split("\n")[:2] == ["10001", "(3, 11)"], probe.stdout + probe.stderr


def test_the_admin_cli_and_its_help_run_in_the_image(containers: Containers) -> None:
    status, output = containers.run("--help")
    assert status == 0, output
    assert "wait-for-migrations" in output
    status, output = containers.run("list-users", "--nosuch")
    assert status == 2
    assert "unrecognized arguments: --nosuch" in output


def test_on_sqlite_in_the_data_volume_migrate_serve_and_the_worker_work(
    containers: Containers, data_volume: Path,
) -> None:
    """One container and no database server: SQLite files in the volume, the root
    file system read-only (any other write would fail)."""
    status, output = containers.run("migrate")
    assert status == 0, output
    assert "database at revision" in output
    assert "(head)" in output
    assert (data_volume / "taskdesk.sqlite").exists()

    port = free_port()
    web = containers.start("serve", TASKDESK_BIND=f"127.0.0.1:{port}")
    assert wait_for(port, "/healthz", web) == (200, {"status": "ok"})
    assert get(port, "/readyz") == (200, {"status": "ok", "database": "sqlite"})
    # Templates and the compiled catalogs in the image, on a read-only file system.
    status, english = page(port, "/login", "en")
    assert status == 200
    assert 'name="csrf_token"' in english
    assert ">Sign in<" in english
    status, chinese = page(port, "/login", "zh-CN")
    assert status == 200
    assert ">登录<" in chinese

    worker = containers.start("worker", "--workers", "1")
    wait_for_log(worker, "worker started")
    assert (data_volume / "taskdesk-queue.sqlite").exists()

    assert containers.stop(web) == 0  # drained and ended on SIGTERM, not killed
    assert containers.stop(worker) == 0
    assert "worker stopped" in containers.logs(worker)
    status, output = containers.run("list-users")
    assert status == 0, output
    assert "0 users" in output.splitlines()


def test_on_postgresql_the_web_waits_for_the_migration_then_serves(
    containers: Containers, tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """The Kubernetes order: wait-for-migrations blocks until the migrate job has run."""
    for url in create_database("postgresql", tmp_path_factory):
        environment = {"TASKDESK_DATABASE_URL": url,
                       "TASKDESK_QUEUE_URL": "sqlite:////var/lib/taskdesk/queue.sqlite"}
        status, output = containers.run("wait-for-migrations", "--timeout", "1", **environment)
        assert status == 2
        assert "the database is not migrated after 1 s" in output

        gate = containers.start("wait-for-migrations", "--timeout", "120", **environment)
        status, output = containers.run("migrate", **environment)
        assert status == 0, output
        wait_for_log(gate, "(head)")

        port = free_port()
        web = containers.start("serve", TASKDESK_BIND=f"127.0.0.1:{port}", **environment)
        assert wait_for(port, "/readyz", web) == (200, {"status": "ok",
                                                        "database": "postgresql"})
        assert containers.stop(web) == 0
