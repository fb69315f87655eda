"""The share page's times and its anchoring block, on a real anvil with the hub deployed.

Every date and time is in Dutch time with its zone (an issuing a minute before midnight UTC and a revocation a
minute after it fall on the same Dutch day, and read so), and the `anchored` check names the block and
transaction the cohort was anchored in, which the hub recorded, not the block the registry was read at."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient

from service.hub import Hub
from tests.chain import advance_time, latest_timestamp
from tests.pages.conftest import HANZE, share_path
from tests.pages.test_pages import assert_page, verify_form

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def dutch_day(moment: datetime) -> str:
    local = moment.astimezone(AMSTERDAM)
    return f"{local.day} {local:%B} {local.year} ({local.tzname()})"


def anchored_reason(text: str) -> str:
    found = re.search(r"Anchored on chain .*? Technical detail: (.+?) Passed", text)
    assert found is not None, text
    return found.group(1)


def test_an_issuing_just_before_midnight_utc_and_a_revocation_just_after_read_the_same_dutch_day(
    client: TestClient, hub: Hub, keys: Any, issue: Any
) -> None:
    now = max(latest_timestamp(hub.w3), int(datetime.now(UTC).timestamp()))
    midnight = (now // 86_400 + 1) * 86_400  # the next midnight UTC
    advance_time(hub.w3, midnight - 90 - latest_timestamp(hub.w3))
    issued_at = datetime.fromtimestamp(midnight - 60, UTC)  # 23:59 UTC, 00:59 or 01:59 in the Netherlands
    issued = issue(valid_from=issued_at.isoformat().replace("+00:00", "Z"), valid_until=None)
    advance_time(hub.w3, 90)  # past midnight UTC
    revoked = client.post(
        f"/credentials/{issued['id']}/revoke", headers=keys.issuer(HANZE), json={"reason": "issued-in-error"}
    )
    assert revoked.status_code == 200, revoked.text
    revoked_at = datetime.fromisoformat(revoked.json()["revoked_at"])
    assert revoked_at.astimezone(UTC).date() != issued_at.date()  # two days in UTC ...
    assert hub.verification_cache.head.wait_for(hub.w3.eth.block_number) is not None

    text = assert_page(client.get(share_path(issued)))
    day = dutch_day(issued_at)
    assert day == dutch_day(revoked_at)  # ... one day in the Netherlands
    assert f"Date of issue {day}" in text
    assert f"Not valid: it was revoked on {day} because it was issued in error." in text
    assert f"It was issued by {HANZE} on {day}." in text
    # the checks' technical details, which the verifier writes in UTC, in Dutch time too
    assert not re.search(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}", text), "an instant left in UTC"
    local_revocation = revoked_at.astimezone(AMSTERDAM)
    assert f"revoked at {day.split(' (')[0]}, {local_revocation:%H:%M} {local_revocation.tzname()}" in text


def test_the_anchored_check_names_the_anchoring_block_not_the_head(
    client: TestClient, hub: Hub, keys: Any, issue: Any
) -> None:
    issued = issue()
    receipt = hub.w3.eth.get_transaction_receipt(issued["transaction_hash"])
    for _ in range(3):  # blocks after the anchoring: the head moves on
        advance_time(hub.w3, 1)
    head = hub.w3.eth.block_number
    assert head >= receipt["blockNumber"] + 3
    assert hub.verification_cache.head.wait_for(head) is not None

    reason = anchored_reason(assert_page(client.get(share_path(issued))))
    block_time = datetime.fromtimestamp(hub.w3.eth.get_block(receipt["blockNumber"])["timestamp"], UTC)
    local = block_time.astimezone(AMSTERDAM)
    assert reason.startswith(
        f"anchored {local.day} {local:%B} {local.year}, {local:%H:%M} {local.tzname()} "
        f"in block {receipt['blockNumber']} (transaction {issued['transaction_hash']})"
    ), reason
    assert reason.endswith(f"the registry was read at block {head}"), reason
    assert f"(block {head})" not in reason

    # the verify page says the same of an uploaded copy (the hub's record found by its root and issuer)
    shared = client.get(share_path(issued) + "/credential.json").content
    reason = anchored_reason(assert_page(verify_form(client, file=shared)))
    assert f"in block {receipt['blockNumber']} (transaction {issued['transaction_hash']})" in reason


def test_a_root_the_hub_did_not_anchor_gets_no_block_from_its_records(client: TestClient, hub: Hub, issue: Any) -> None:
    """The hub's record is matched by root and issuer: a batch row of another issuer is not shown as the anchoring."""
    from service.db import models
    from service.db.session import transaction

    issued = issue()
    with transaction(hub.sessions) as db:
        batch = db.get(models.Batch, issued["batch_id"])
        assert batch is not None
        batch.issuer_address = "0x000000000000000000000000000000000000dEaD"
    reason = anchored_reason(assert_page(client.get(share_path(issued))))
    assert " in block " not in reason and "the registry was read at block" in reason
