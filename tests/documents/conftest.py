"""The documents' tests read English unless they ask for Dutch: outside a request the hub's language is Dutch
(service.i18n.DEFAULT_LOCALE), so each test runs inside `i18n.use("en")`; a test of the Dutch print wraps its
call in `i18n.use("nl")`."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from service import i18n


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    with i18n.use("en"):
        yield
