"""Service settings, from the environment (prefix HUB_) and an optional .env file, validated at start.

The well-known development keys (service.chain.keys: anvil's, hardhat's, ganache's and truffle's published
accounts) are accepted only on a local development chain: here when HUB_CHAIN_ID is given, and in any case
when the service meets the chain (service.hub.Hub.start).
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    # hide_input_in_errors: a refused setting's message must not repeat a private key or a password
    model_config = SettingsConfigDict(env_prefix="HUB_", env_file=".env", extra="ignore", hide_input_in_errors=True)

    rpc_url: str = Field("http://127.0.0.1:8545", description="JSON-RPC URL of the chain")
    chain_id: int | None = Field(None, description="expected chain id; the service refuses to start on another")
    deployments_dir: Path = Field(ROOT / "deployments", description="where deployments/<chainId>.json is read")
    registry_address: str | None = Field(None, description="CredentialRegistry address (default: deployment file)")
    board_address: str | None = Field(None, description="HubBoard address (default: deployment file)")
    database_url: str = Field(f"sqlite:///{ROOT / 'data' / 'hub.db'}", description="any SQLAlchemy URL")
    migrate_at_start: bool = Field(
        True,
        description="migrate the schema to the newest revision at start; when "
        "false the service only checks it is there (`hub db upgrade` migrates)",
    )
    confirmations: int = Field(0, ge=0, le=64, description="blocks to wait after a transaction is mined")
    relayer_private_key: SecretStr | None = Field(
        None, description="the account that pays gas; on a development chain the first development account"
    )
    keystore_dir: Path | None = Field(
        None, description="encrypted eth-account keystores of issuers and members, <address>.json"
    )
    keystore_password: SecretStr | None = Field(None, description="password of the keystores in keystore_dir")
    public_url: str = Field("http://127.0.0.1:8000", description="base of share links and QR codes")
    max_body_bytes: int = Field(2_000_000, ge=1024, description="largest request body accepted")
    max_batch_size: int = Field(20_000, ge=1, description="most credentials in one cohort")
    index_interval: float = Field(5.0, gt=0, le=600, description="seconds between indexer polls")
    index_page_blocks: int = Field(2_000, ge=1, description="blocks per eth_getLogs page")
    status_list_validity: float = Field(
        3600.0,
        ge=60,
        le=30 * 86400,
        description="seconds a signed status list credential is valid (validUntil); the indexer signs it again "
        "after each catch-up that indexed new blocks, and when half of this has passed",
    )
    head_interval: float = Field(
        2.0,
        gt=0,
        le=60,
        description="seconds between polls of the chain's head (POST /verify caches the registry's answers per block)",
    )
    head_max_age: float = Field(
        5.0,
        gt=0,
        le=120,
        description="POST /verify answers from its cache only while "
        "the head was seen within this many seconds; else it asks the node",
    )
    # ---- the relayer and the background work (docs/operations.md)
    run_worker: bool = Field(
        True,
        description="this process may lead the background work (indexer, relayer, "
        "anchoring); false for API-only replicas beside a `hub worker`",
    )
    leader_interval: float = Field(1.0, gt=0, le=60, description="seconds between tries to take the lead")
    worker_interval: float = Field(
        0.5,
        gt=0,
        le=60,
        description="seconds between rounds of the anchoring worker (sending pending batches, following transactions)",
    )
    replace_after: float = Field(
        30.0,
        gt=0,
        le=86_400,
        description="seconds a transaction may wait unmined before "
        "it is replaced at the same nonce with fees 12.5% higher",
    )
    max_fee_gwei: float = Field(200.0, gt=0, description="the most the relayer pays per gas (max fee), in gwei")
    max_priority_fee_gwei: float = Field(20.0, gt=0, description="the most the relayer tips per gas, in gwei")
    request_wait: float = Field(
        30.0,
        ge=0,
        le=600,
        description="seconds an issuing, revoking or board request "
        "waits for its transaction before answering that it is on its way",
    )
    signature_ttl: int = Field(
        86_400, ge=600, description="seconds of chain time a partner's signed anchoring request stays valid"
    )
    retry_interval: float = Field(
        5.0,
        gt=0,
        le=3600,
        description="first wait before a batch that could not be sent is tried again (doubling, with jitter)",
    )
    max_backoff: float = Field(300.0, gt=0, le=86_400, description="longest wait between tries of a batch")
    rpc_retries: int = Field(
        3,
        ge=0,
        le=20,
        description="retries of a JSON-RPC request that failed to connect, "
        "timed out or got HTTP 429/5xx (exponential backoff)",
    )
    rpc_backoff: float = Field(0.1, ge=0, le=30, description="first backoff of those retries, in seconds")
    low_balance_eth: float = Field(0.05, ge=0, description="/health says degraded below this relayer balance")
    pending_alert_after: float = Field(
        600.0,
        gt=0,
        description="/health says degraded when a batch has waited this many seconds without being anchored",
    )
    index_lag_alert: int = Field(
        50, ge=1, description="/health says degraded when the indexer is this many blocks behind the head"
    )

    @model_validator(mode="after")
    def _cache_outlives_polls(self) -> Settings:
        if self.head_max_age <= self.head_interval:
            raise ValueError(
                f"head_max_age ({self.head_max_age} s) must be longer than head_interval "
                f"({self.head_interval} s): the cache would never be fresh"
            )
        if self.max_priority_fee_gwei > self.max_fee_gwei:
            raise ValueError("max_priority_fee_gwei cannot be higher than max_fee_gwei")
        return self

    @model_validator(mode="after")
    def _no_published_relayer_key(self) -> Settings:
        """With HUB_CHAIN_ID given, a well-known development relayer key is refused here already (else when the
        service meets the chain, service.hub.Hub.start)."""
        if self.chain_id is not None and self.relayer_private_key is not None:
            from service.chain.keys import KeyConfigurationError, relayer_account  # web3 only when needed

            try:
                relayer_account(self.relayer_private_key.get_secret_value(), self.chain_id)
            except KeyConfigurationError as exc:
                raise ValueError(str(exc)) from None
        return self

    @field_validator("public_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @cached_property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")
