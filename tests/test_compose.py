"""docker-compose.yml and the Dockerfile are checked for structure (no Docker engine runs in CI).

The shape (docs/operations.md): PostgreSQL, the chain, one `worker` that deploys and runs the background work,
and API replicas that only serve (HUB_RUN_WORKER=false), every hub process on the one PostgreSQL database.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent


def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def hub_services() -> dict[str, dict[str, Any]]:
    """The services built from this repository's Dockerfile."""
    return {name: service for name, service in compose()["services"].items() if service.get("build") == "."}


def workers() -> dict[str, dict[str, Any]]:
    return {name: service for name, service in hub_services().items() if service.get("command") == ["worker"]}


def apis() -> dict[str, dict[str, Any]]:
    return {name: service for name, service in hub_services().items() if name not in workers()}


def test_ganache_is_pinned_shanghai_persistent_and_health_checked() -> None:
    ganache = compose()["services"]["ganache"]
    assert ganache["image"] == "trufflesuite/ganache:v7.9.2"
    command = ganache["command"]
    assert "--chain.hardfork=shanghai" in command
    assert "--chain.chainId=1337" in command
    assert "--database.dbPath=/data" in command
    assert "ganache-data:/data" in ganache["volumes"]
    assert ganache["ports"] == ["127.0.0.1:8545:8545"]
    assert ganache["healthcheck"]["test"][0] == "CMD" and "eth_chainId" in ganache["healthcheck"]["test"][-1]


def test_postgres_16_is_persistent_and_health_checked_with_pg_isready() -> None:
    postgres = compose()["services"]["postgres"]
    assert postgres["image"] == "postgres:16"
    assert "postgres-data:/var/lib/postgresql/data" in postgres["volumes"]
    assert "pg_isready" in postgres["healthcheck"]["test"][-1]
    assert {"POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB"} <= set(postgres["environment"])


def test_every_hub_process_uses_the_one_postgresql_database_and_waits_for_it_and_the_chain() -> None:
    services = hub_services()
    assert set(services) == {"worker", "api-1", "api-2"}
    urls = {service["environment"]["HUB_DATABASE_URL"] for service in services.values()}
    assert len(urls) == 1 and next(iter(urls)).startswith("postgresql+psycopg://")
    assert "@postgres:5432/" in next(iter(urls))
    for name, service in services.items():
        env = service["environment"]
        assert env["HUB_RPC_URL"] == "http://ganache:8545", name
        assert env["HUB_CHAIN_ID"] == "1337", name
        assert env["HUB_DEPLOYMENTS_DIR"].startswith("/data/"), name
        assert service["depends_on"]["postgres"] == {"condition": "service_healthy"}, name
        assert service["depends_on"]["ganache"] == {"condition": "service_healthy"}, name
        assert service["restart"] == "unless-stopped", name


def test_exactly_one_worker_it_deploys_and_runs_the_background_work() -> None:
    ((name, worker),) = workers().items()
    assert name == "worker"
    assert worker["environment"].get("HUB_RUN_WORKER", "true") != "false"
    assert "hub-data:/data" in worker["volumes"]  # it writes the deployment record there
    assert "1337.json" in worker["healthcheck"]["test"][-1] and "hub db current" in worker["healthcheck"]["test"][-1]


def test_the_apis_do_not_run_the_worker_and_start_after_it() -> None:
    services = apis()
    assert set(services) == {"api-1", "api-2"}
    ports = []
    for name, api in services.items():
        assert api["command"] == ["api"], name
        assert api["environment"]["HUB_RUN_WORKER"] == "false", name
        assert api["depends_on"]["worker"] == {"condition": "service_healthy"}, name
        assert "hub-data:/data:ro" in api["volumes"], name  # they read the worker's deployment record
        assert "/health" in api["healthcheck"]["test"][-1], name
        ports += api["ports"]
    assert sorted(ports) == ["127.0.0.1:8000:8000", "127.0.0.1:8001:8000"]


def test_every_service_is_health_checked_and_every_volume_declared() -> None:
    data = compose()
    for name, service in data["services"].items():
        assert service["healthcheck"]["test"], name
    declared = set(data["volumes"])
    used = {volume.split(":")[0] for service in data["services"].values() for volume in service.get("volumes", [])}
    assert used == declared == {"postgres-data", "ganache-data", "hub-data"}


def test_every_service_setting_in_compose_is_a_real_setting() -> None:
    from service.settings import Settings

    names = {f"HUB_{name.upper()}" for name in Settings.model_fields}
    for name, service in hub_services().items():
        assert set(service["environment"]) <= names, name


def test_dockerfile_and_entrypoint_serve_deploy_once_and_run_the_worker() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert dockerfile.startswith("# ") and "FROM python:3.11-slim" in dockerfile
    assert "COPY artifacts ./artifacts" in dockerfile
    assert 'ENTRYPOINT ["scripts/docker-entrypoint.sh"]' in dockerfile
    path = ROOT / "scripts" / "docker-entrypoint.sh"
    entrypoint = path.read_text()
    assert path.stat().st_mode & 0o111
    assert "scripts/deploy.py" in entrypoint and "uvicorn service.main:app --host 0.0.0.0 --port 8000" in entrypoint
    cases = entrypoint.split('case "${1:-serve}" in', 1)[1]
    worker = cases.split("worker)", 1)[1].split(";;", 1)[0]
    api = cases.split("api)", 1)[1].split(";;", 1)[0]
    assert "deploy" in worker and "exec hub worker" in worker  # the worker deploys, once per deployment
    assert "deploy" not in api and "serve" in api  # the APIs never deploy
