#!/bin/sh
# Container start: deploy the contracts once (reused when live), then run the API.
set -eu
python scripts/deploy.py --rpc "$HUB_RPC_URL" --out "$HUB_DEPLOYMENTS_DIR"
exec python -m uvicorn service.main:app --host 0.0.0.0 --port 8000
