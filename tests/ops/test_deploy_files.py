"""Deployment files: both compose files parse with `docker compose config` (when a compose CLI is
installed) and have the structure the issue asks for; the CI/CD workflow validates against the
GitHub workflow schema (check-jsonschema's vendored SchemaStore copy; actionlint too when it is
on PATH) and has every stage; the Dockerfile keeps its promises."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / ".github" / "workflows" / "ci-cd.yml"


def compose_cli() -> list[str] | None:
    """`docker compose` (plugin) or `docker-compose` (standalone), whichever works."""
    if shutil.which("docker"):
        probe = subprocess.run(["docker", "compose", "version"], capture_output=True, timeout=30)
        if probe.returncode == 0:
            return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    return None


def load(name: str) -> dict:
    return yaml.safe_load((ROOT / name).read_text())


@pytest.mark.parametrize("name", ["docker-compose.yml", "docker-compose.prod.yml"])
def test_compose_config_parses(name: str) -> None:
    cli = compose_cli()
    if cli is None:
        pytest.skip(
            "no compose CLI: `docker compose` is not installed (the docker CLI has no "
            "compose plugin) and there is no docker-compose binary"
        )
    env = {**os.environ, "CFE_ENV_FILE": ".env.prod.example"}
    args = [*cli, "-f", name]
    if "prod" in name:
        args += ["--env-file", ".env.prod.example"]
    out = subprocess.run(
        [*args, "config", "--quiet"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stdout + out.stderr


def test_dev_compose_structure() -> None:
    services = load("docker-compose.yml")["services"]
    assert {"api", "worker", "migrate", "postgres", "redis", "prometheus", "grafana"} <= set(
        services
    )
    for name, svc in services.items():
        if name != "migrate":
            assert "test" in svc["healthcheck"], f"{name} has no healthcheck"
        for dep, cond in svc.get("depends_on", {}).items():
            want = "service_completed_successfully" if dep == "migrate" else "service_healthy"
            assert cond["condition"] == want, (name, dep)
    api = services["api"]
    assert api["command"] == ["api-dev"]  # uvicorn --reload (docker/entrypoint.sh)
    assert "./app:/app/app:ro" in api["volumes"]
    assert api["depends_on"]["migrate"]["condition"] == "service_completed_successfully"


def test_prod_compose_structure() -> None:
    services = load("docker-compose.prod.yml")["services"]
    assert {
        "api",
        "worker",
        "migrate",
        "postgres",
        "redis",
        "proxy",
        "prometheus",
        "grafana",
    } <= set(services)
    published = {name for name, svc in services.items() if svc.get("ports")}
    assert published == {"proxy"}, "only the TLS proxy may publish ports to the host"
    api, worker = services["api"], services["worker"]
    assert api["command"] == ["api"]
    assert api["environment"]["WEB_CONCURRENCY"].startswith("${WEB_CONCURRENCY")
    assert api["environment"]["PROMETHEUS_MULTIPROC_DIR"] == "/tmp/prometheus"
    assert worker["environment"]["WORKER_CONCURRENCY"].startswith("${WORKER_CONCURRENCY")
    for name, svc in services.items():
        if name != "migrate":
            assert svc["restart"] == "unless-stopped", name
            assert svc["deploy"]["resources"]["limits"], name
            assert "test" in svc["healthcheck"], name
    assert api["env_file"] == ["${CFE_ENV_FILE:-.env.prod}"]
    entry = (ROOT / "docker" / "entrypoint.sh").read_text()
    assert "--reload" not in entry.split("api-dev)")[0]  # the production command never reloads
    assert '--workers "${WEB_CONCURRENCY:-1}"' in entry
    assert (ROOT / "deploy" / "Caddyfile").is_file()


def test_dockerfile_promises() -> None:
    text = (ROOT / "Dockerfile").read_text()
    froms = re.findall(r"^FROM\s+(\S+)(?:\s+AS\s+(\w+))?", text, re.M)
    assert len(froms) >= 2, "multi-stage"
    assert re.search(r"^ARG PYTHON_IMAGE=python:3\.11-slim", text, re.M)
    assert "-c constraints.txt" in text
    assert re.search(r"^USER app$", text, re.M)
    assert re.search(r"^HEALTHCHECK .*\n\s+CMD .*healthcheck\.py", text, re.M)
    assert "/health" in (ROOT / "docker" / "healthcheck.py").read_text()
    assert text.index("USER app") < text.index("RUN python scripts/warm_numba_cache.py")
    assert "NUMBA_CACHE_DIR=/opt/numba-cache" in text
    for line in re.findall(r"^COPY (?:--\S+ )*(.+) \S+$", text, re.M):
        for src in line.split():
            assert (ROOT / src).exists() or src.startswith("/"), f"COPY source {src} missing"
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".git", ".venv", "tests", ".env"} <= set(ignored)


def test_workflow_validates_against_the_schema() -> None:
    exe = shutil.which("check-jsonschema") or str(Path(sys.executable).parent / "check-jsonschema")
    if not Path(exe).exists():
        pytest.skip("check-jsonschema is not installed (requirements-dev.txt)")
    out = subprocess.run(
        [exe, "--builtin-schema", "vendor.github-workflows", str(WORKFLOW)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stdout + out.stderr


@pytest.mark.skipif(
    shutil.which("actionlint") is None,
    reason="actionlint is not on PATH "
    "(its PyPI wrapper downloads the binary at build time, which fails here)",
)
def test_actionlint() -> None:
    out = subprocess.run(["actionlint", str(WORKFLOW)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr


def test_workflow_has_every_stage() -> None:
    wf = yaml.safe_load(WORKFLOW.read_text())
    jobs = wf["jobs"]
    assert {"lint", "audit", "test", "image", "deploy"} <= set(jobs)
    runs = {name: "\n".join(s.get("run", "") for s in job["steps"]) for name, job in jobs.items()}
    assert "ruff check" in runs["lint"] and "mypy app" in runs["lint"]
    assert "pip-audit" in runs["audit"]
    assert set(jobs["test"]["services"]) == {"postgres", "redis", "rabbitmq"}
    assert "bash scripts/test.sh" in runs["test"] and "bash scripts/load_test.sh" in runs["test"]
    uses = [s.get("uses", "") for s in jobs["image"]["steps"]]
    assert any(u.startswith("docker/build-push-action") for u in uses)
    assert "aws ecs update-service" in runs["deploy"] and "migrate" in runs["deploy"]
    assert set(jobs["image"]["needs"]) == {"lint", "audit", "test"}
    for script in re.findall(r"bash (scripts/\S+\.sh)", "\n".join(runs.values())):
        assert (ROOT / script).is_file(), script


@pytest.mark.skipif(
    shutil.which("caddy") is None, reason="caddy not installed (Debian: apt-get install caddy)"
)
def test_caddyfile_validates() -> None:
    env = {**os.environ, "DOMAIN": "cfe.example.com", "ACME_EMAIL": "ops@example.com"}
    out = subprocess.run(
        [
            "caddy",
            "validate",
            "--adapter",
            "caddyfile",
            "--config",
            str(ROOT / "deploy" / "Caddyfile"),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stdout + out.stderr
