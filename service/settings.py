"""Service settings, from the environment (prefix HUB_) and an optional .env file, validated at start.

The well-known development keys (anvil's and ganache's default accounts) are accepted only on a
local development chain; the check that needs the chain's answer runs in service.main at start-up.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HUB_", env_file=".env", extra="ignore")

    rpc_url: str = Field("http://127.0.0.1:8545", description="JSON-RPC URL of the chain")
    chain_id: int | None = Field(None, description="expected chain id; the service refuses to start on another")
    deployments_dir: Path = Field(ROOT / "deployments", description="where deployments/<chainId>.json is read")
    registry_address: str | None = Field(None, description="CredentialRegistry address (default: deployment file)")
    board_address: str | None = Field(None, description="HubBoard address (default: deployment file)")
    database_url: str = Field(f"sqlite:///{ROOT / 'data' / 'hub.db'}", description="any SQLAlchemy URL")
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
    index_interval: float = Field(1.0, gt=0, description="seconds between indexer polls")
    index_page_blocks: int = Field(2_000, ge=1, description="blocks per eth_getLogs page")
    head_interval: float = Field(0.1, gt=0, le=5, description="seconds between polls of the chain's head "
                                 "(POST /verify caches the registry's answers per block)")
    head_max_age: float = Field(0.25, gt=0, le=30, description="POST /verify answers from its cache only while "
                                "the head was seen within this many seconds; else it asks the node")

    @field_validator("public_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @cached_property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")
