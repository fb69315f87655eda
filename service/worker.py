"""`hub worker`: the background work as a process of its own, beside API replicas that only store and enqueue.

It starts the hub like the API does (settings from HUB_* variables, the schema checked or migrated), then bids for
the lead across processes (service.leader): while it leads, it runs the event indexer and the anchoring worker
(which drives the relayer). Several workers may run: one leads, the others take over within
HUB_LEADER_INTERVAL seconds when it dies. SIGTERM or Ctrl-C stops it after the round in hand.
"""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType

from service.hub import Hub
from service.settings import Settings

log = logging.getLogger(__name__)


def run(settings: Settings, stop: threading.Event | None = None) -> None:
    """Run the background work until `stop` is set (or SIGTERM/SIGINT, in the main thread)."""
    stop = stop or threading.Event()
    hub = Hub.start(settings.model_copy(update={"run_worker": True}))
    if threading.current_thread() is threading.main_thread():

        def _stop(signum: int, _frame: FrameType | None) -> None:
            log.info("worker: %s received, stopping", signal.Signals(signum).name)
            stop.set()

        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
    log.info(
        "worker: relayer %s on chain %s, database %s",
        hub.relayer.address,
        hub.chain_id,
        hub.engine.url.render_as_string(hide_password=True),
    )
    try:
        hub.start_background()
        stop.wait()
    finally:
        hub.close()
