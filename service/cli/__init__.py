"""`hub`: verify an IT Hub Hoogeveen credential from the command line, with no hub service involved.

    python -m service.cli verify credential.json --rpc http://127.0.0.1:8545 --registry 0x...
    python -m service.cli verify - --json < credential.json
    python -m service.cli present credential.json --disclose name -o shared.json

API keys of the hub service (the database of HUB_DATABASE_URL, migrated first):

    python -m service.cli keys create --role issuer --name "Hanzehogeschool Groningen" --address 0x...
    python -m service.cli keys list
    python -m service.cli keys revoke 3

Accounts for the consoles (same database; the invitation link is built on HUB_PUBLIC_URL, shown once):

    python -m service.cli users create --role board --email els@example.org --name "Els Mulder" --address 0x...
    python -m service.cli users list
    python -m service.cli users reset els@example.org      # a new invitation link; every session ends
    python -m service.cli users disable 3

Keystores of the partners and members the service signs for (HUB_KEYSTORE_DIR, HUB_KEYSTORE_PASSWORD):

    python -m service.cli keystore import --chain-id 11155111 < key.txt   # writes <address>.json, encrypted
    python -m service.cli keystore signing-key create --address 0x... --chain-id 11155111   # Ed25519, signing/
    python -m service.cli keystore signing-key import --address 0x... --chain-id 11155111 < ed25519.hex

Cohorts, over the hub service's HTTP API with an issuing partner's key (--url/HUB_API_URL, --key/HUB_API_KEY):

    python -m service.cli cohort import docs/examples/cohort.csv --key hub_...   # one batch, one transaction
    python -m service.cli cohort export BATCH_ID --out cohort/ --key hub_...      # <id>.json + <id>.pdf each

`cohort` exits 0 when done, 1 when the service refuses (its problem detail is printed) or the batch is not
anchored in time, 2 for unusable input (an unreadable file, a CSV row the service refuses: nothing is
issued and each bad row is named with its line, an unreachable service).

`verify` exits 0 when the credential is valid, 1 when it is not (a check failed or could not be run),
2 when the input or the options are unusable (not JSON, larger than the size limit, not a credential
of this format, an unreadable file, an unreachable node, a --chain-id the node does not have).

The chain is whatever node --rpc names; its chain id is the node's own (--chain-id only asserts it).
The registry is --registry (or HUB_REGISTRY_ADDRESS). Without one, the registry named in the credential's own
proof is asked and its answers are shown, but the `network` check is reported as not run and the
credential is not shown valid: anyone can deploy a registry and accredit themselves. Pass
--trust-document to accept the document's registry anyway (the report says so).
"""

from service.cli import board, cohort, keys, keystore, ops, users, verify  # noqa: F401 - each registers its commands on app
from service.cli.app import EXIT_INVALID, EXIT_UNUSABLE, EXIT_VALID, UsageProblem, app
from service.cli.cohort import _import_key

__all__ = ["EXIT_INVALID", "EXIT_UNUSABLE", "EXIT_VALID", "UsageProblem", "_import_key", "app"]
