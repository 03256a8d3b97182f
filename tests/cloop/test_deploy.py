"""deploy/: the image, the compose file and the Kubernetes manifests keep their invariants.

Read as files (PyYAML, the Dockerfile's lines): no Docker, no cluster, no network.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import yaml
from django.conf import settings

from tests.cloop.settings_source import settings_env_vars

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"


def compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def cloop_services() -> dict[str, dict]:
    """Compose services that run Cloop's image (not PostgreSQL, Redis or Caddy)."""
    return {
        name: svc
        for name, svc in compose()["services"].items()
        if (svc.get("build") or {}).get("dockerfile") == "deploy/Dockerfile"
    }


def manifests() -> list[dict]:
    docs = []
    for path in sorted(K8S.glob("*.yaml")):
        if path.name != "kustomization.yaml":
            docs += [d for d in yaml.safe_load_all(path.read_text()) if d]
    return docs


def of_kind(kind: str) -> list[dict]:
    return [d for d in manifests() if d["kind"] == kind]


def pod_spec(doc: dict) -> dict:
    return doc["spec"]["template"]["spec"]


def containers(doc: dict, *, init: bool = False) -> list[dict]:
    spec = pod_spec(doc)
    return spec.get("containers", []) + (spec.get("initContainers", []) if init else [])


def command(c) -> list[str]:
    cmd = c.get("command") if isinstance(c, dict) else c
    return shlex.split(cmd) if isinstance(cmd, str) else list(cmd or [])


def queue_of(cmd: list[str]) -> str | None:
    if "worker" not in cmd or "celery" not in cmd[0]:
        return None
    return cmd[cmd.index("-Q") + 1]


def deployment(name: str) -> dict:
    found = [d for d in of_kind("Deployment") if d["metadata"]["name"] == name]
    assert len(found) == 1, name
    return found[0]


def dockerfile_stages() -> list[list[str]]:
    """The Dockerfile's instructions (continuations joined), grouped by stage."""
    text = re.sub(r"\\\n", " ", (DEPLOY / "Dockerfile").read_text())
    stages: list[list[str]] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.upper().startswith("FROM "):
            stages.append([])
        if stages:
            stages[-1].append(re.sub(r"\s+", " ", line))
    return stages


# --- environment ---------------------------------------------------------------------------


def test_it_reads_the_settings_environment_from_the_settings_source():
    names = settings_env_vars()
    # A sample the settings are known to read (the list itself is derived, not written here).
    assert {"DATABASE_URL", "SECRET_KEY", "CLOOP_LLM_MODEL", "CLOOP_DB_POOL_MAX"} <= names
    assert "POSTGRES_PASSWORD" not in names


def test_it_sets_only_variables_the_settings_read_in_compose():
    known = settings_env_vars()
    for name, svc in cloop_services().items():
        unknown = set(svc["environment"]) - known
        assert not unknown, f"compose service {name} sets {unknown}, which settings never read"


def test_it_sets_only_variables_the_settings_read_in_kubernetes():
    known = settings_env_vars()
    for secret in of_kind("Secret"):
        unknown = set(secret.get("stringData", {})) | set(secret.get("data", {}))
        assert not unknown - known, f"Secret {secret['metadata']['name']}: {unknown - known}"
    for doc in of_kind("Deployment") + of_kind("Job"):
        for c in containers(doc, init=True):
            # A variable only used inside the container's own command line, $(NAME), is
            # Kubernetes' (the worker's --hostname); anything else must be a setting.
            cmd = " ".join(command(c))
            for var in c.get("env", []):
                if f"$({var['name']})" not in cmd:
                    assert var["name"] in known, f"{doc['metadata']['name']}: {var['name']}"


def test_it_gives_every_cloop_pod_the_secret_the_manifests_define():
    secrets = {s["metadata"]["name"] for s in of_kind("Secret")}
    for doc in of_kind("Deployment") + of_kind("Job"):
        for c in containers(doc, init=True):
            refs = [e["secretRef"] for e in c.get("envFrom", []) if "secretRef" in e]
            required = {r["name"] for r in refs if not r.get("optional")}
            assert required and required <= secrets, (doc["metadata"]["name"], c["name"])


# --- processes -----------------------------------------------------------------------------


def test_it_runs_a_worker_for_every_queue_in_compose_and_kubernetes():
    declared = {q.name for q in settings.CELERY_TASK_QUEUES}
    assert declared
    in_compose = {queue_of(command(s)) for s in cloop_services().values()} - {None}
    assert in_compose == declared
    in_k8s = {queue_of(command(c)) for d in of_kind("Deployment") for c in containers(d)}
    assert in_k8s - {None} == declared


def _beat(cmd: list[str]) -> bool:
    return "celery" in cmd[0] and "beat" in cmd


def test_it_runs_beat_once_with_the_lock():
    beats = {n: s for n, s in cloop_services().items() if _beat(command(s))}
    assert len(beats) == 1
    (svc,) = beats.values()
    assert (svc.get("deploy") or {}).get("replicas", 1) == 1
    assert "cloop.beat:LockedScheduler" in command(svc)

    k8s = [d for d in of_kind("Deployment") if any(_beat(command(c)) for c in containers(d))]
    assert len(k8s) == 1
    assert k8s[0]["spec"]["replicas"] == 1
    assert k8s[0]["spec"]["strategy"]["type"] == "Recreate"
    assert "cloop.beat:LockedScheduler" in command(containers(k8s[0])[0])


def _web(cmd: list[str]) -> bool:
    return bool(cmd) and cmd[0] == "uvicorn" and "cloop.asgi:application" in cmd


def test_it_runs_two_web_processes_and_autoscales_the_web_deployment():
    assert sum(_web(command(s)) for s in cloop_services().values()) == 2
    web = [d for d in of_kind("Deployment") if any(_web(command(c)) for c in containers(d))]
    assert len(web) == 1 and web[0]["spec"]["replicas"] >= 2
    (hpa,) = of_kind("HorizontalPodAutoscaler")
    assert hpa["spec"]["scaleTargetRef"]["name"] == web[0]["metadata"]["name"]
    assert (
        hpa["spec"]["minReplicas"] >= 2 and hpa["spec"]["maxReplicas"] > hpa["spec"]["minReplicas"]
    )


def test_it_probes_healthz():
    web = deployment("cloop-web")
    (container,) = containers(web)
    assert container["readinessProbe"]["httpGet"]["path"] == "/healthz"
    for doc in of_kind("Deployment"):
        for c in containers(doc):
            for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
                http = c.get(probe, {}).get("httpGet")
                if http:
                    assert http["path"] == "/healthz", (doc["metadata"]["name"], probe)
    for name, svc in cloop_services().items():
        if _web(command(svc)):
            assert "/healthz" in " ".join(command(svc["healthcheck"]["test"])), name
    assert re.search(r"^\s*health_uri /healthz$", (DEPLOY / "Caddyfile").read_text(), re.M)


# --- migrations ------------------------------------------------------------------------------


def test_it_migrates_with_migrate_platform_before_anything_runs():
    (job,) = of_kind("Job")
    assert command(containers(job)[0])[-2:] == ["manage.py", "migrate_platform"]
    for doc in of_kind("Deployment"):
        waits = [" ".join(command(c)) for c in pod_spec(doc).get("initContainers", [])]
        assert any("manage.py migrate_platform --check" in w for w in waits), doc["metadata"]

    services = cloop_services()
    (migrate,) = [n for n, s in services.items() if command(s)[-1:] == ["migrate_platform"]]
    for name, svc in services.items():
        if name != migrate:
            condition = svc["depends_on"][migrate]["condition"]
            assert condition == "service_completed_successfully", name


def test_it_lists_every_manifest_in_the_kustomization():
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    files = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    assert set(kustomization["resources"]) == files


# --- the image -------------------------------------------------------------------------------


def test_it_builds_a_multi_stage_non_root_image_with_collected_static_files():
    stages = dockerfile_stages()
    assert len(stages) >= 2
    build, final = stages[0], stages[-1]
    assert any(re.search(r"pip install .*(\.|-e \.)$", i) for i in build), build
    users = [i.split()[1] for i in final if i.upper().startswith("USER ")]
    assert users and users[-1].split(":")[0] not in ("root", "0")
    assert any(i.startswith("RUN ") and "manage.py collectstatic" in i for i in final)
    # collectstatic runs before the switch to the unprivileged user: its output stays
    # owned by root, read-only to the process.
    collect = next(n for n, i in enumerate(final) if "collectstatic" in i)
    assert collect < max(n for n, i in enumerate(final) if i.upper().startswith("USER "))


@pytest.mark.parametrize("path", ["Dockerfile", "compose.yaml", "Caddyfile", "k8s/web.yaml"])
def test_it_points_the_readme_production_section_at_deploy(path):
    readme = (ROOT / "README.md").read_text()
    production = readme.split("## Production", 1)[1].split("\n## ", 1)[0]
    assert f"deploy/{path}" in production
