"""docker-compose.yml and the Dockerfile are checked for structure (no Docker engine runs in CI)."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


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


def test_service_waits_for_a_healthy_chain_and_is_health_checked() -> None:
    data = compose()
    service = data["services"]["service"]
    assert service["build"] == "."
    assert service["depends_on"] == {"ganache": {"condition": "service_healthy"}}
    env = service["environment"]
    assert env["HUB_RPC_URL"] == "http://ganache:8545"
    assert env["HUB_CHAIN_ID"] == "1337"
    assert env["HUB_DATABASE_URL"].startswith("sqlite:////data/")
    assert env["HUB_DEPLOYMENTS_DIR"].startswith("/data/")
    assert "service-data:/data" in service["volumes"]
    assert service["ports"] == ["127.0.0.1:8000:8000"]
    assert "/health" in service["healthcheck"]["test"][-1]
    assert set(data["volumes"]) == {"ganache-data", "service-data"}


def test_every_service_setting_in_compose_is_a_real_setting() -> None:
    from service.settings import Settings

    names = {f"HUB_{name.upper()}" for name in Settings.model_fields}
    assert set(compose()["services"]["service"]["environment"]) <= names


def test_dockerfile_serves_the_app_after_deploying() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert dockerfile.startswith("# ") and "FROM python:3.11-slim" in dockerfile
    assert "COPY artifacts ./artifacts" in dockerfile
    assert 'ENTRYPOINT ["scripts/docker-entrypoint.sh"]' in dockerfile
    entrypoint = (ROOT / "scripts" / "docker-entrypoint.sh").read_text()
    assert "scripts/deploy.py" in entrypoint and "uvicorn service.main:app --host 0.0.0.0 --port 8000" in entrypoint
    assert (ROOT / "scripts" / "docker-entrypoint.sh").stat().st_mode & 0o111
