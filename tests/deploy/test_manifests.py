"""The deployment files (deploy/): the Kubernetes manifests are valid against the Kubernetes
schemas, the Compose file against Compose's, and every command, port, path, variable and
probe that the manifests, the Compose file, the Containerfile and the entry point name exists
in the application."""

from __future__ import annotations

import configparser
import copy
import os
import re
import shlex
import shutil
import subprocess
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import kubernetes_validate
import pytest
import yaml
from webtest import TestApp

from taskdesk.cli import build_parser
from tests.support.apps import SESSION_SECRET
from tests.support.system import install

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
#: The oldest Kubernetes release still commonly run, and the newest the checker knows.
KUBERNETES_VERSIONS = ("1.30.0", kubernetes_validate.utils.latest_version())
DATA_DIR = "/var/lib/taskdesk"
TMP_DIR = "/tmp"  # noqa: S108 - inside the container, a tmpfs or emptyDir of its own


def load_all(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]


def kustomization() -> dict[str, Any]:
    return load_all(K8S / "kustomization.yaml")[0]


def resources() -> list[dict[str, Any]]:
    return [doc for name in kustomization()["resources"] for doc in load_all(K8S / name)]


def pod_specs() -> Iterator[tuple[str, dict[str, Any]]]:
    for resource in resources():
        if resource["kind"] in ("Deployment", "Job"):
            yield resource["metadata"]["name"], resource["spec"]["template"]["spec"]


def containers() -> Iterator[tuple[str, dict[str, Any]]]:
    """(where, container) for every container and init container of every pod template."""
    for name, spec in pod_specs():
        for container in spec.get("initContainers", []) + spec["containers"]:
            yield f"{name}/{container['name']}", container


def compose() -> dict[str, Any]:
    return load_all(DEPLOY / "compose.yaml")[0]


def taskdesk_services() -> Iterator[tuple[str, dict[str, Any]]]:
    """The Compose services running the Taskdesk image."""
    for name, service in compose()["services"].items():
        if service["image"].startswith("taskdesk:"):
            yield name, service


def containerfile() -> list[tuple[str, str]]:
    """(instruction, arguments) of deploy/Containerfile, continuation lines joined."""
    text = re.sub(r"\\\n", " ", (DEPLOY / "Containerfile").read_text(encoding="utf-8"))
    lines = [line.strip() for line in text.splitlines()]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1])
            for line in lines if line and not line.startswith("#")]


def final_stage() -> list[tuple[str, str]]:
    instructions = containerfile()
    last_from = max(i for i, (word, _) in enumerate(instructions) if word == "FROM")
    return instructions[last_from:]


def image_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for word, arguments in final_stage():
        if word == "ENV":
            for pair in shlex.split(arguments):
                key, _, value = pair.partition("=")
                env[key] = value
    return env


def image_files() -> dict[str, Path]:
    """Paths in the final image copied from the repository: image path -> repository path."""
    files: dict[str, Path] = {}
    for word, arguments in final_stage():
        if word == "COPY" and not arguments.startswith("--from"):
            *sources, target = arguments.split()
            for source in sources:
                path = ROOT / source
                assert path.exists(), f"Containerfile copies {source}, which does not exist"
                image_path = f"{target.rstrip('/')}/{path.name}" if target.endswith("/") \
                    else target
                files[image_path] = path
    return files


def entrypoint() -> str:
    return (DEPLOY / "entrypoint.sh").read_text(encoding="utf-8")


def default_port() -> int:
    match = re.search(r'TASKDESK_BIND:-0\.0\.0\.0:(\d+)\}', entrypoint())
    assert match, "entrypoint.sh names no default bind address"
    return int(match.group(1))


def container_ini() -> configparser.RawConfigParser:
    parser = configparser.RawConfigParser()
    parser.read(DEPLOY / "container.ini", encoding="utf-8")
    return parser


def commands() -> Iterator[tuple[str, list[str]]]:
    """(where, arguments to the entry point) for every container and Compose service."""
    for where, container in containers():
        assert "command" not in container, f"{where} replaces the image's entry point"
        yield where, [str(arg) for arg in container["args"]]
    for name, service in taskdesk_services():
        yield f"compose {name}", [str(arg) for arg in service["command"]]
    cmd = [arguments for word, arguments in final_stage() if word == "CMD"]
    yield "Containerfile CMD", yaml.safe_load(cmd[-1])


# -- the Kubernetes schemas ---------------------------------------------------------------------


def test_the_kustomization_lists_every_manifest_and_only_existing_ones() -> None:
    listed = set(kustomization()["resources"])
    on_disk = {path.name for path in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    assert listed == on_disk


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_every_manifest_is_valid_against_the_kubernetes_schemas(version: str) -> None:
    kinds = set()
    for resource in resources():
        kubernetes_validate.validate(resource, version, strict=True)
        kinds.add(resource["kind"])
    assert kinds == {"Deployment", "Job", "Service", "Ingress", "HorizontalPodAutoscaler",
                     "PodDisruptionBudget", "PersistentVolumeClaim"}


@pytest.mark.parametrize(("change", "error"), [
    (lambda d: d["spec"].pop("selector"), "selector"),
    (lambda d: d["spec"]["template"]["spec"]["containers"][0].update(readinessProb={}),
     "readinessProb"),
    (lambda d: d["spec"].update(replicas="two"), "two"),
])
def test_the_schema_check_catches_a_broken_manifest(change: Any, error: str) -> None:
    """The check can fail: a required key missing, a misspelt key, a wrong type."""
    web = copy.deepcopy(next(r for r in resources() if r["metadata"]["name"] == "taskdesk-web"
                             and r["kind"] == "Deployment"))
    change(web)
    with pytest.raises(kubernetes_validate.ValidationError, match=error):
        kubernetes_validate.validate(web, KUBERNETES_VERSIONS[-1], strict=True)


def test_the_rendered_kustomization_is_valid(tmp_path: Path) -> None:
    """What `kubectl apply -k` would send: rendered by kubectl's own Kustomize."""
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed: the manifests were validated one by one above, "
                    "but not rendered through Kustomize")
    rendered = subprocess.run([kubectl, "kustomize", str(K8S)], capture_output=True,
                              text=True, timeout=60, check=True).stdout
    documents = [doc for doc in yaml.safe_load_all(rendered) if doc]
    for document in documents:
        kubernetes_validate.validate(document, KUBERNETES_VERSIONS[-1], strict=True)
    images = {c["image"] for d in documents if d["kind"] in ("Deployment", "Job")
              for c in d["spec"]["template"]["spec"]["containers"]}
    assert images == {"registry.example.com/taskdesk:0.1.0"}
    config_maps = [d["metadata"]["name"] for d in documents if d["kind"] == "ConfigMap"]
    assert len(config_maps) == 1
    assert config_maps[0].startswith("taskdesk-env-")
    assert config_maps[0] in rendered.split("kind: ConfigMap", 1)[1]  # references rewritten


def compose_command() -> list[str]:
    """Docker's Compose (the v2 plugin, or Debian's docker-compose 1.29, installed with
    apt-get when neither is there and this is root), or a skip with the reason."""
    if shutil.which("docker") and subprocess.run(
            ["docker", "compose", "version"], capture_output=True, check=False).returncode == 0:
        return ["docker", "compose"]
    if shutil.which("docker-compose") is None:
        reason = install(["docker-compose"], "Docker Compose")
        if reason is not None:
            pytest.skip(reason)
    return ["docker-compose"]


def compose_config(path: Path) -> subprocess.CompletedProcess[str]:
    """`compose config`: the file checked against the Compose schema, variables filled."""
    environment = {"PATH": os.environ["PATH"], "TASKDESK_SESSION_SECRET": "s" * 40,
                   "TASKDESK_DB_PASSWORD": "database password"}
    return subprocess.run([*compose_command(), "-p", "taskdesk", "-f", str(path), "config"],
                          capture_output=True, text=True, timeout=60, env=environment,
                          check=False)


def test_the_compose_file_is_valid_and_refuses_to_start_without_the_secrets(
    tmp_path: Path,
) -> None:
    checked = compose_config(DEPLOY / "compose.yaml")
    assert checked.returncode == 0, checked.stderr
    rendered = yaml.safe_load(checked.stdout)
    assert set(rendered["services"]) == {"postgres", "redis", "migrate", "web", "worker"}
    assert rendered["services"]["web"]["environment"]["TASKDESK_DB_PASSWORD"] == \
        "database password"

    broken = tmp_path / "compose.yaml"
    broken.write_text((DEPLOY / "compose.yaml").read_text(encoding="utf-8").replace(
        "condition: service_completed_successfully", "condition: after_migrate", 1))
    refused = compose_config(broken)
    assert refused.returncode != 0
    assert "after_migrate" in refused.stderr

    unset = subprocess.run([*compose_command(), "-p", "taskdesk", "-f",
                            str(DEPLOY / "compose.yaml"), "config"], capture_output=True,
                           text=True, timeout=60, env={"PATH": os.environ["PATH"]},
                           check=False)
    assert unset.returncode != 0
    assert "export a session secret" in unset.stderr or "export the database" in unset.stderr


# -- what the files name exists in the application -------------------------------------------


def test_every_command_is_serve_or_a_taskdesk_subcommand_with_valid_options() -> None:
    parser = build_parser()
    seen = set()
    for where, args in commands():
        seen.add(args[0])
        if args[0] == "serve":
            assert args == ["serve"], f"{where}: serve takes its options from hypercorn.toml"
            continue
        try:
            parser.parse_args(["container.ini", *args])
        except SystemExit:
            pytest.fail(f"{where}: `taskdesk INI {' '.join(args)}` is not a valid command")
    assert seen == {"serve", "worker", "migrate", "wait-for-migrations"}


def test_the_entry_point_runs_hypercorn_and_the_cli_from_files_in_the_image() -> None:
    script = entrypoint()
    files = image_files()
    env = image_env()
    assert re.search(r"exec python -m taskdesk.asgi \\\n +--config "
                     r'"\$\{TASKDESK_HYPERCORN_CONFIG:-/opt/taskdesk/hypercorn.toml\}"', script)
    assert files["/opt/taskdesk/hypercorn.toml"] == ROOT / "hypercorn.toml"
    assert files["/opt/taskdesk/entrypoint.sh"] == DEPLOY / "entrypoint.sh"
    assert files["/opt/taskdesk/container.ini"] == DEPLOY / "container.ini"
    assert files["/opt/taskdesk/alembic"] == ROOT / "alembic"
    assert 'exec taskdesk "$ini" "$command" "$@"' in script
    assert env["TASKDESK_INI"] == "/opt/taskdesk/container.ini"
    assert f'ini="${{TASKDESK_INI:-{env["TASKDESK_INI"]}}}"' in script
    assert env["PATH"].startswith("/opt/taskdesk/venv/bin:")  # python and taskdesk from here
    assert ("ENTRYPOINT", '["/opt/taskdesk/entrypoint.sh"]') in final_stage()
    assert (DEPLOY / "entrypoint.sh").stat().st_mode & 0o111, "entrypoint.sh is not executable"
    # The migrations the INI points at are the ones the image carries.
    assert container_ini()["alembic"]["script_location"] == "/opt/taskdesk/alembic"
    # Python runs the ASGI server the entry point names.
    from taskdesk import asgi
    assert callable(asgi.main)


def test_the_port_is_the_same_everywhere() -> None:
    port = default_port()
    assert ("EXPOSE", str(port)) in final_stage()
    toml = tomllib.loads((ROOT / "hypercorn.toml").read_text(encoding="utf-8"))
    assert toml["bind"] == [f"127.0.0.1:{port}"]  # the entry point overrides only the host
    web = dict(containers())["taskdesk-web/web"]
    assert web["ports"] == [{"name": "http", "containerPort": port, "protocol": "TCP"}]
    service = next(r for r in resources() if r["kind"] == "Service")
    assert service["spec"]["ports"][0]["targetPort"] == "http"
    ingress = next(r for r in resources() if r["kind"] == "Ingress")
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend == {"name": service["metadata"]["name"], "port": {"name": "http"}}
    assert compose()["services"]["web"]["ports"] == [f"127.0.0.1:{port}:{port}"]
    healthcheck = " ".join(compose()["services"]["web"]["healthcheck"]["test"])
    assert f"http://127.0.0.1:{port}/" in healthcheck


def probe_paths() -> set[str]:
    paths = set()
    for _where, container in containers():
        for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
            if probe in container:
                assert container[probe]["httpGet"]["port"] == "http"
                paths.add(container[probe]["httpGet"]["path"])
    for url in re.findall(r"http://[^' ]+", " ".join(
            compose()["services"]["web"]["healthcheck"]["test"])):
        paths.add(urlsplit(url).path)
    return paths


def test_every_probe_path_is_answered_by_the_app_built_from_the_container_ini(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from pyramid.paster import get_app

    paths = probe_paths()
    assert paths == {"/healthz", "/readyz"}
    web = dict(containers())["taskdesk-web/web"]
    assert web["livenessProbe"]["httpGet"]["path"] == "/healthz"  # the process, not the DB
    assert web["readinessProbe"]["httpGet"]["path"] == "/readyz"
    monkeypatch.setenv("TASKDESK_SESSION_SECRET", SESSION_SECRET)
    monkeypatch.setenv("TASKDESK_DATABASE_URL", f"sqlite:///{tmp_path / 'probe.sqlite'}")
    monkeypatch.setenv("TASKDESK_QUEUE_URL", f"sqlite:///{tmp_path / 'queue.sqlite'}")
    app = TestApp(get_app(str(DEPLOY / "container.ini"), "main"))
    for path in sorted(paths):
        response = app.get(path, status=200)
        assert response.json["status"] == "ok"
        assert response.headers["Cache-Control"] == "no-store"


def referenced_variables() -> set[str]:
    """Environment variables the deployment files set for Taskdesk containers."""
    names = set()
    for literal in kustomization()["configMapGenerator"][0]["literals"]:
        names.add(literal.split("=", 1)[0])
    names |= set(re.findall(r"--from-literal=(\w+)=",
                            (K8S / "kustomization.yaml").read_text(encoding="utf-8")))
    for _name, service in taskdesk_services():
        names |= set(service["environment"])
    return names


def test_every_variable_the_deployment_sets_is_read_by_the_ini_or_the_entry_point() -> None:
    app = container_ini()["app:main"]
    read_by_ini = {value for key, value in app.items() if key.endswith("_env")}
    read_by_entrypoint = set(re.findall(r"\$\{(TASKDESK_\w+):-", entrypoint()))
    assert referenced_variables() == {"TASKDESK_SESSION_SECRET", "TASKDESK_DATABASE_URL",
                                      "TASKDESK_DB_PASSWORD", "TASKDESK_QUEUE_URL"}
    assert referenced_variables() <= read_by_ini | read_by_entrypoint
    assert read_by_entrypoint == {"TASKDESK_INI", "TASKDESK_BIND", "TASKDESK_HYPERCORN_CONFIG"}
    # Secrets come from the Secret object, never from the manifests themselves.
    for where, container in containers():
        assert "env" not in container, f"{where} sets variables inline"
        assert container["envFrom"] == [{"configMapRef": {"name": "taskdesk-env"}},
                                        {"secretRef": {"name": "taskdesk"}}], where


def test_only_the_data_volume_and_tmp_are_writable_and_nobody_is_root() -> None:
    assert [arguments for word, arguments in final_stage() if word == "USER"] == ["10001:10001"]
    assert ("VOLUME", f'["{DATA_DIR}"]') in final_stage()
    for name, spec in pod_specs():
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        assert spec["securityContext"]["runAsUser"] == 10001, name
        assert spec["automountServiceAccountToken"] is False, name
        volumes = {v["name"]: v for v in spec["volumes"]}
        assert "emptyDir" in volumes["tmp"], name
    for where, container in containers():
        context = container["securityContext"]
        assert context["readOnlyRootFilesystem"] is True, where
        assert context["allowPrivilegeEscalation"] is False, where
        assert context["capabilities"] == {"drop": ["ALL"]}, where
        mounts = {m["mountPath"] for m in container["volumeMounts"]}
        assert mounts <= {TMP_DIR, DATA_DIR}, where
        assert TMP_DIR in mounts, where
    for name, service in taskdesk_services():
        assert service["read_only"] is True, name
        assert service["tmpfs"] == [TMP_DIR], name
        assert service["volumes"] == [f"data:{DATA_DIR}"], name
    # SQLite files, when no database URL is given, live in the data volume.
    assert container_ini()["app:main"]["sqlalchemy.url"].startswith(f"sqlite:///{DATA_DIR}/")


def test_the_web_pods_wait_for_the_migration_and_drain_before_they_are_killed() -> None:
    toml = tomllib.loads((ROOT / "hypercorn.toml").read_text(encoding="utf-8"))
    drain = toml["drain_seconds"] + toml["graceful_timeout"]
    specs = dict(pod_specs())
    assert specs["taskdesk-web"]["terminationGracePeriodSeconds"] > drain
    assert int(compose()["services"]["web"]["stop_grace_period"].rstrip("s")) > drain
    for name in ("taskdesk-web", "taskdesk-worker"):
        (init,) = specs[name]["initContainers"]
        assert init["args"][0] == "wait-for-migrations"
    assert [c["args"] for c in specs["taskdesk-migrate"]["containers"]] == [["migrate"]]
    for name in ("web", "worker"):
        assert compose()["services"][name]["depends_on"]["migrate"] == {
            "condition": "service_completed_successfully"}
    web = next(r for r in resources() if r["metadata"]["name"] == "taskdesk-web"
               and r["kind"] == "Deployment")
    assert web["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    hpa = next(r for r in resources() if r["kind"] == "HorizontalPodAutoscaler")
    assert hpa["spec"]["scaleTargetRef"]["name"] == "taskdesk-web"
    assert hpa["spec"]["metrics"][0]["resource"]["name"] == "cpu"
    for where, container in containers():
        assert container["resources"]["requests"]["cpu"], where
        assert container["resources"]["requests"]["memory"], where
