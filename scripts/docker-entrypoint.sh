#!/bin/sh
# Container start, by its first argument:
#   serve  (the default) one container does everything: deploy the contracts once (reused when live), then run
#          the API, which also leads the background work (indexer, relayer, anchoring);
#   worker deploy the contracts once (reused when live), then run the background work alone (`hub worker`);
#          the one container of a deployment that deploys;
#   api    run the API only (set HUB_RUN_WORKER=false): it deploys nothing and reads the deployment record
#          the worker wrote (HUB_DEPLOYMENTS_DIR on a shared volume), or HUB_REGISTRY_ADDRESS/HUB_BOARD_ADDRESS;
#   anything else is run as a command (e.g. `hub db upgrade`).
set -eu

deploy() {
    python scripts/deploy.py --rpc "$HUB_RPC_URL" --out "$HUB_DEPLOYMENTS_DIR"
}

serve() {
    exec python -m uvicorn service.main:app --host 0.0.0.0 --port 8000
}

case "${1:-serve}" in
    serve)
        deploy
        serve
        ;;
    worker)
        deploy
        exec hub worker
        ;;
    api)
        serve
        ;;
    *)
        exec "$@"
        ;;
esac
