"""The signer's fast path: canonical N-Quads of a cohort's credentials without expanding each one.

RDF canonicalization with PyLD costs about 3.5 ms per credential, almost all of it JSON-LD expansion (the
OB 3.0 context's type-scoped contexts are processed again for every document): 35 s for a cohort of 10,000.
The credentials of one cohort differ only in a few leaves that the issuer writes fresh for each graduate:
the credential's and the subject's `urn:uuid` ids, the disclosure digests and the status list entry's id and
index (`SLOTS`). Every other member, and so the shape of the RDF graph and its blank nodes, is the same.

So the canonical N-Quads of a cohort are written from a **template**: the document with each of those leaves
replaced by a unique placeholder of the same kind (an IRI of the same scheme, or a plain token), canonicalized
once by `integrity.canonicalize`. A credential's N-Quads are the template's lines with the placeholders
replaced by its values, sorted again (RDFC-1.0's output is its quads sorted by code point). That holds when
no placeholder lands in a quad with a blank node (blank node labels are computed from their quads' contents)
and the values need no escaping in N-Quads. Each template proves it: it is canonicalized with two different
placeholder sets, and the second must be exactly the first with its placeholders replaced and resorted; when
not, or when a document has any other shape or value, `canonical_nquads` canonicalizes it in full.

Verifiers never take this path: `integrity.verify` canonicalizes every document in full, so a credential
signed here verifies with any eddsa-rdfc-2022 implementation or not at all (the test suite checks both).
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

# The leaves a cohort's credentials differ in: (path, kind); "*" is every item of an array.
SLOTS: tuple[tuple[tuple[str | int, ...], str], ...] = (
    (("id",), "iri"),
    (("credentialSubject", "id"), "iri"),
    (("credentialSubject", "disclosureDigests", "*"), "text"),
    (("credentialStatus", "id"), "iri"),
    (("credentialStatus", "statusListIndex"), "text"),
)

# Values written into N-Quads as they are: no character N-Quads escapes, and no ":" in a plain token (which
# JSON-LD could read as a compact IRI). An IRI's scheme is kept in its placeholder, so both expand alike.
_IRI = re.compile(r"(urn:uuid:|https://|http://)[A-Za-z0-9._~:/%?#=&+-]{1,200}\Z")
_TEXT = re.compile(r"[A-Za-z0-9_-]{1,128}\Z")
_MARK = "\x00slot\x00"  # stands for a slot's value in a shape key (never a JSON value of a valid credential)

Path = tuple[str | int, ...]


def _leaves(document: Mapping[str, Any]) -> list[tuple[Path, str, str]] | None:
    """The slot leaves present in `document` as (path, kind, value); None when a value cannot be templated."""
    found: list[tuple[Path, str, str]] = []
    for path, kind in SLOTS:
        holder: Any = document
        for step in path[:-1]:
            holder = holder.get(step) if isinstance(holder, Mapping) else None
        if holder is None:
            continue
        last = path[-1]
        if last == "*":
            if not isinstance(holder, list):
                return None
            items = [(path[:-1] + (index,), value) for index, value in enumerate(holder)]
        elif isinstance(holder, Mapping) and last in holder:
            items = [(path, holder[last])]
        else:
            continue
        for where, value in items:
            pattern = _IRI if kind == "iri" else _TEXT
            if not isinstance(value, str) or not pattern.match(value):
                return None
            found.append((where, _scheme(value) if kind == "iri" else "text", value))
    return found


def _scheme(iri: str) -> str:
    return "urn:uuid:" if iri.startswith("urn:uuid:") else iri.split("//", 1)[0] + "//"


def _replaced(document: Any, leaves: list[tuple[Path, str, str]], values: list[str]) -> Any:
    """A copy of `document` with each leaf's value replaced by the matching one of `values`."""
    copy = json.loads(json.dumps(document))
    for (path, _, _), value in zip(leaves, values, strict=True):
        holder = copy
        for step in path[:-1]:
            holder = holder[step]
        holder[path[-1]] = value
    return copy


def _placeholders(leaves: list[tuple[Path, str, str]]) -> list[str]:
    """Fresh placeholders, one per leaf, of the leaf's kind; none is a prefix of another (each ends in 'z')."""
    token = secrets.token_hex(8)
    result = []
    for index, (_, kind, _) in enumerate(leaves):
        if kind == "text":
            result.append(f"slot{token}x{index}z")
        elif kind == "urn:uuid:":
            result.append(f"urn:uuid:slot-{token}-{index}z")
        else:
            result.append(f"{kind}slot.invalid/{token}/{index}z")
    return result


@dataclass(frozen=True)
class _Template:
    lines: tuple[str, ...]  # the canonical N-Quads lines, each with its "\n"
    placeholders: tuple[str, ...]

    def render(self, values: list[str]) -> str:
        pairs = list(zip(self.placeholders, values, strict=True))
        lines = []
        for line in self.lines:
            for placeholder, value in pairs:
                if placeholder in line:
                    line = line.replace(placeholder, value)
            lines.append(line)
        return "".join(sorted(lines))


Canonicalize = Callable[[Mapping[str, Any]], str]


@lru_cache(maxsize=32)
def _template(shape_key: str, canonicalize: Canonicalize) -> _Template | None:
    """The template of one shape, proven with a second placeholder set; None when this shape cannot have one."""
    shape, kinds = json.loads(shape_key)
    leaves = [(tuple(path), kind, "") for path, kind in kinds]
    first, second = _placeholders(leaves), _placeholders(leaves)
    lines = tuple(canonicalize(_replaced(shape, leaves, first)).splitlines(keepends=True))
    if any("_:" in line and any(p in line for p in first) for line in lines):
        return None  # a value beside a blank node: its label may depend on the value
    template = _Template(lines, tuple(first))
    if template.render(second) != canonicalize(_replaced(shape, leaves, second)):
        return None
    return template


def canonical_nquads(document: Mapping[str, Any], canonicalize: Canonicalize) -> str:
    """The RDFC-1.0 canonical N-Quads of `document`, as `canonicalize(document)` gives them; from a cached
    template when the document has a cohort's shape (see the module's text), else from `canonicalize`."""
    leaves = _leaves(document)
    if not leaves:
        return canonicalize(document)
    shape = _replaced(document, leaves, [_MARK] * len(leaves))
    key = json.dumps([shape, [[list(path), kind] for path, kind, _ in leaves]], sort_keys=True)
    template = _template(key, canonicalize)
    if template is None:
        return canonicalize(document)
    return template.render([value for _, _, value in leaves])
