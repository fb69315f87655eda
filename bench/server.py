"""What the benchmarks share: the app on a real uvicorn server (a subprocess, one worker, loopback),
the server process's CPU time, and the machine and package versions for the results files. The reliability
tests (tests/api/test_reliability.py) start, kill and restart the service with the same `start_server`."""

from __future__ import annotations

import os
import platform
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

from service.chain.devchain import free_port

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def kill(self) -> None:
        """SIGKILL: the server dies where it stands, with no shutdown of its own."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def wait_ready(self, ready: str = "/health/live", timeout: float = 60) -> None:
        """Return once GET `ready` answers 200; if the process exits first, or does not answer within `timeout`
        seconds (then it is stopped), raise with the tail of its log."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"uvicorn exited ({self.process.returncode}): {self.log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(self.url + ready, timeout=1) as response:
                    if response.status == 200:
                        return
            except OSError:  # not listening yet, or an error status (urllib's HTTPError)
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"uvicorn did not answer GET {ready} within {timeout:g} s: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_server(
    rpc_url: str,
    chain_id: int,
    deployments: Path,
    work: Path,
    *,
    database: Path | None = None,
    env: Mapping[str, str] | None = None,
    log: Path | None = None,
    ready: str = "/health/live",
    timeout: float = 60,
) -> Server:
    """`uvicorn service.main:app --workers 1` on a free loopback port, configured by HUB_* variables (a
    SQLite file in `work` unless `database` is given; `env` added last, so it may override them); its output
    appended to `log` (default `work`/uvicorn-<port>.log); returns once GET `ready` answers 200."""
    server = launch_server(rpc_url, chain_id, deployments, work, database=database, env=env, log=log)
    server.wait_ready(ready, timeout)
    return server


def launch_server(
    rpc_url: str,
    chain_id: int,
    deployments: Path,
    work: Path,
    *,
    database: Path | None = None,
    env: Mapping[str, str] | None = None,
    log: Path | None = None,
) -> Server:
    """`start_server` without the wait: returns as soon as the process is started (to start several at
    once, then `wait_ready` each)."""
    port = free_port()
    environment = {
        **os.environ,
        "HUB_RPC_URL": rpc_url,
        "HUB_CHAIN_ID": str(chain_id),
        "HUB_DEPLOYMENTS_DIR": str(deployments),
        "HUB_DATABASE_URL": f"sqlite:///{database or work / 'hub.db'}",
        "HUB_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "PYTHONPATH": str(ROOT),
    }
    for name in ("HUB_REGISTRY_ADDRESS", "HUB_BOARD_ADDRESS", "HUB_RELAYER_PRIVATE_KEY", "HUB_KEYSTORE_DIR"):
        environment.pop(name, None)
    environment.update(env or {})
    log = log or work / f"uvicorn-{port}.log"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "service.main:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        cwd=work,
        env=environment,
        stdin=subprocess.DEVNULL,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )
    return Server(process, port, log)


def process_cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of process `pid` and its threads (Linux /proc), or None elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def machine() -> dict[str, str]:
    cpu = ""
    try:
        cpu = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    except (OSError, StopIteration):
        cpu = platform.processor()
    return {
        "nproc": str(os.cpu_count()),
        "cpu": cpu,
        "python": platform.python_version(),
        "os": f"{platform.system()} {platform.release()}",
    }


def packages(names: Iterable[str]) -> str:
    """`name version, ...` of the installed packages, and whether uvicorn has its C extras."""
    found = []
    for name in names:
        try:
            found.append(f"{name} {version(name)}")
        except Exception:  # noqa: BLE001 - not installed
            found.append(f"{name} (not installed)")
    extras = [name for name in ("uvloop", "httptools") if _installed(name)]
    return ", ".join(found) + (
        f"; uvicorn extras: {', '.join(extras)}" if extras else "; uvicorn without uvloop/httptools (asyncio loop, h11)"
    )


def _installed(name: str) -> bool:
    try:
        version(name)
        return True
    except Exception:  # noqa: BLE001
        return False
