"""`hub cohort`: issue a cohort from a CSV file, list and export cohorts, over the service's HTTP API."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from service.credentials.disclosure import claim_name, select_disclosures

if TYPE_CHECKING:
    pass

from service.cli.app import EXIT_INVALID, EXIT_UNUSABLE, UsageProblem, app, print_summary, usage_problem, write_private

# ---------------------------------------------------------------- hub cohort (over the service's HTTP API)


cohort_app = typer.Typer(
    name="cohort",
    help="Issue a cohort from a CSV file and export a cohort's credentials (JSON + PDF), over the hub "
    "service's HTTP API with an issuing partner's key (HUB_API_URL, HUB_API_KEY).",
    no_args_is_help=True,
)
app.add_typer(cohort_app)

COHORT_CSV_HELP = (
    "The cohort as CSV: a header row, then one row per graduate. Columns: programme_id, email, name "
    '(required), result (the grade, Dutch scale 1.0-10.0, e.g. 8.5 or "8,5"; disclosed as result; a column '
    "named grade is accepted for it), valid_from, valid_until (ISO dates); "
    "',' or ';' separated, UTF-8. Sample: docs/examples/cohort.csv."
)
ApiUrl = Annotated[str, typer.Option("--url", envvar="HUB_API_URL", help="The hub service's URL.")]
ApiKey = Annotated[
    str,
    typer.Option(
        "--key", envvar="HUB_API_KEY", help="The issuing partner's API key (shown once by 'hub keys create')."
    ),
]


class ApiRefused(Exception):
    """The service answered with a problem (HTTP 4xx/5xx)."""

    def __init__(self, response: Any) -> None:
        try:
            body = response.json()
        except ValueError:
            body = {}
        self.status: int = response.status_code
        self.body: dict[str, Any] = body if isinstance(body, dict) else {}
        detail = self.body.get("detail")
        self.detail = detail if isinstance(detail, str) else (response.text[:500] or response.reason_phrase)
        super().__init__(self.detail)


def _api_client(url: str, key: str, timeout: float) -> Any:
    import httpx

    if not url.startswith(("http://", "https://")):
        raise UsageProblem(f"--url {url!r} is not an http(s) URL")
    if not key.strip():
        raise UsageProblem("an API key is needed: --key or HUB_API_KEY")
    return httpx.Client(base_url=url.rstrip("/"), timeout=timeout, headers={"Authorization": f"Bearer {key.strip()}"})


def _api_call(client: Any, method: str, path: str, **kwargs: Any) -> Any:
    """The response of a successful request; UsageProblem when the service cannot be reached, ApiRefused for
    a problem answer."""
    import httpx

    try:
        response = client.request(method, path, **kwargs)
    except httpx.TransportError as exc:
        raise UsageProblem(f"cannot reach the hub service at {client.base_url}: {exc or type(exc).__name__}") from exc
    if response.status_code >= 400:
        raise ApiRefused(response)
    return response


def _refused(console: Console, exc: ApiRefused, what: str) -> NoReturn:
    title = exc.body.get("title") or "refused"
    console.print(Text(f"error: {what}: {exc.status} {title}: {exc.detail}", style="red"))
    raise typer.Exit(EXIT_INVALID)


def _get_or_exit(client: Any, path: str, progress: Any, console: Console, what: str) -> Any:
    """The JSON answer to GET `path` while `progress` shows; a refusal or a service out of reach stops the
    progress display, prints `error: {what}: ...` and exits 1."""
    try:
        return _api_call(client, "GET", path).json()
    except (ApiRefused, UsageProblem) as exc:
        progress.stop()
        console.print(Text(f"error: {what}: {exc}", style="red"))
        raise typer.Exit(EXIT_INVALID) from None


def _progress(console: Console) -> Any:
    from rich.progress import BarColumn, Progress, SpinnerColumn, TaskProgressColumn, TextColumn, TimeElapsedColumn

    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


def _row_count(data: bytes) -> int:
    """The data rows of a CSV (after the header, empty lines skipped), for the progress bar only."""
    lines = [line for line in data.decode("utf-8", errors="replace").splitlines() if line.strip()]
    return max(len(lines) - 1, 0)


@cohort_app.command("import")
def cohort_import(
    file: Annotated[Path, typer.Argument(help=COHORT_CSV_HELP)],
    url: ApiUrl = "http://127.0.0.1:8000",
    key: ApiKey = "",
    links: Annotated[
        Path | None,
        typer.Option(
            "--links",
            help="Where to write each graduate's share URL and personal link to her own page (CSV, new file; default "
            "<FILE stem>-issued-<batch>.csv in the current folder).",
        ),
    ] = None,
    timeout: Annotated[float, typer.Option("--timeout", min=1, help="Seconds to wait for the anchoring.")] = 120,
) -> None:
    """Issue a cohort from CSV: one batch, anchored on chain in one transaction. A bad row refuses the whole
    import (nothing is issued) and is named with its line. Importing the same file again with the same key
    issues nothing: it says which batch it was imported as, and writes the links file again. Exit 0 anchored,
    1 refused (e.g. the key may not issue) or not anchored in time, 2 unusable input: an unreadable file, an
    unreachable service, or rows the service refuses (each named with its line; nothing is issued)."""
    import csv
    import io
    import time

    from service.issuing.requests import csv_cell

    console = Console(highlight=False, soft_wrap=True)
    errors = Console(stderr=True, highlight=False, soft_wrap=True)
    try:
        try:
            data = file.read_bytes()
        except OSError as exc:
            raise UsageProblem(f"cannot read {file}: {exc.strerror or exc}") from exc
        if links is not None and (links.exists() or not links.parent.is_dir()):
            raise UsageProblem(
                f"--links {links}: "
                + (
                    "the file exists (it would lose the personal links it holds)"
                    if links.exists()
                    else "its folder does not exist"
                )
            )
        client = _api_client(url, key, 60)
    except UsageProblem as exc:
        usage_problem(str(exc), False)
    rows = _row_count(data)
    with client, _progress(errors) as progress:
        try:
            upload = progress.add_task(f"Checking and storing {rows} rows", total=rows or 1)
            answer = _api_call(
                client,
                "POST",
                "/credentials/batch",
                content=data,
                headers={"Content-Type": "text/csv", "Idempotency-Key": _import_key(key, data)},
            )
            accepted = answer.json()
            progress.update(upload, completed=rows or 1)
        except ApiRefused as exc:
            progress.stop()
            _cohort_refused(errors, exc, file)
        except UsageProblem as exc:
            progress.stop()
            usage_problem(str(exc), False)
        batch_id = accepted["id"]
        replayed = answer.headers.get("Idempotent-Replayed") == "true"  # the service's answer to the first import
        path = links or Path(f"{file.stem}-issued-{batch_id[:8]}.csv")
        table = io.StringIO()
        writer = csv.writer(table, lineterminator="\n")
        writer.writerow(["row", "line", "email", "credential_id", "share_url", "holder_url"])
        for item in accepted["credentials"]:
            writer.writerow(
                [
                    csv_cell(value)
                    for value in (
                        item["row"],
                        item["row"] + 1,
                        item["email"],
                        item["id"],
                        item["share_url"],
                        item["holder_url"],
                    )
                ]
            )
        try:
            if not (replayed and path.exists() and path.read_text(encoding="utf-8") == table.getvalue()):
                write_private(path, table.getvalue())
        except OSError as exc:
            progress.stop()
            errors.print(
                Text(
                    f"error: cannot write {path}: {exc.strerror or exc}; the batch {batch_id} was "
                    "accepted: its share URLs and the graduates' personal links follow (shown only now)",
                    style="red",
                )
            )
            typer.echo(table.getvalue(), err=True)
            raise typer.Exit(EXIT_INVALID) from None
        anchoring = progress.add_task("Anchoring on chain (one transaction)", total=1)
        deadline = time.monotonic() + timeout
        while True:
            batch = _get_or_exit(client, f"/batches/{batch_id}", progress, errors, f"cannot follow batch {batch_id}")
            if batch["status"] in ("anchored", "failed") or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        if batch["status"] == "anchored":
            progress.update(anchoring, completed=1)
    if batch["status"] != "anchored":
        why = batch.get("error") or ("no error reported" if batch["status"] != "failed" else "unknown")
        errors.print(
            Text(
                f"error: batch {batch_id} is {batch['status']} after {timeout:g} s ({why}). Its "
                f"{batch['count']} credentials are stored; share URLs and personal links are in {path}. "
                f"Follow it with GET /batches/{batch_id}.",
                style="red",
            )
        )
        raise typer.Exit(EXIT_INVALID)
    if replayed:
        console.print(
            Text(
                f"{file} was already imported as batch {batch_id}: nothing was issued again; its share "
                "links are written again",
                style="yellow",
            )
        )
    print_summary(
        console,
        [
            ("Issued", f"{batch['count']} credentials, anchored in one transaction"),
            ("Batch", batch_id),
            ("Merkle root", batch["root"]),
            ("Transaction", f"{batch['transaction_hash']} (block {batch['block_number']})"),
            (
                "Share links",
                f"{path} (share URL and personal link per graduate; the personal links are shown only now: "
                "give each graduate theirs, it opens her own page)",
            ),
        ],
    )
    console.print(f"Export the credentials with: hub cohort export {batch_id} --out DIR", style="dim")


def _import_key(api_key: str, data: bytes) -> str:
    """The Idempotency-Key of an import: from the partner's API key and the file, so that importing the same file
    again issues nothing (the service replays its first answer) and two partners importing one file do not
    meet. A quoted string, as the header's draft has it."""
    import hashlib

    return '"' + hashlib.sha256(b"hub cohort import\0" + api_key.strip().encode() + b"\0" + data).hexdigest() + '"'


def _cohort_refused(console: Console, exc: ApiRefused, file: Path) -> NoReturn:
    """A refused import: a problem with its rows is unusable input (exit 2); anything else exit 1."""
    listed = exc.body.get("errors")
    problems: list[Any] = listed if isinstance(listed, list) else []
    rowed = [p for p in problems if isinstance(p, dict) and "row" in p]
    if not rowed and "row" in exc.body:
        rowed = [
            {
                "row": exc.body["row"],
                "line": exc.body.get("line"),
                "field": exc.body.get("field"),
                "message": exc.detail,
            }
        ]
    if not rowed and exc.status not in (400, 413, 422):
        _refused(console, exc, f"the import of {file} was refused")
    console.print(Text(f"error: the import of {file} was refused; nothing was issued.", style="red"))
    if not rowed:
        console.print(Text(f"  {exc.detail}", style="red"))
    for problem in rowed:
        line = problem.get("line") or problem["row"] + 1
        field = f" {problem['field']}:" if problem.get("field") else ""
        console.print(Text(f"  line {line} (row {problem['row']}):{field} {problem.get('message', '')}", style="red"))
    raise typer.Exit(EXIT_UNUSABLE)


@cohort_app.command("list")
def cohort_list(
    url: ApiUrl = "http://127.0.0.1:8000",
    key: ApiKey = "",
    limit: Annotated[int, typer.Option("--limit", min=1, help="How many batches at most, newest first.")] = 20,
) -> None:
    """The issuing partner's batches, newest first: id, programme, count, status, created. Exit 0 listed,
    1 refused (e.g. not an issuer's key), 2 unusable input (an unreachable service)."""
    console = Console(highlight=False)
    errors = Console(stderr=True, highlight=False, soft_wrap=True)
    try:
        client = _api_client(url, key, 60)
    except UsageProblem as exc:
        usage_problem(str(exc), False)
    batches: list[dict[str, Any]] = []
    with client:
        path: str | None = f"/batches?limit={min(limit, 100)}"
        try:
            while path is not None and len(batches) < limit:
                page = _api_call(client, "GET", path).json()
                batches.extend(page["batches"])
                path = page.get("next")
        except ApiRefused as exc:
            _refused(errors, exc, "cannot list the batches")
        except UsageProblem as exc:
            usage_problem(str(exc), False)
    if not batches:
        console.print("No batches yet: issue a cohort with 'hub cohort import FILE.csv'.")
        return
    shown = batches[:limit]
    names = [", ".join(batch["programmes"]) or "-" for batch in shown]
    # id, count, status and created never wrap (69 columns with the gaps); the programme goes beside them when
    # it fits, else under the id
    beside = 69 + 1 + max(len(name) for name in names) <= console.width
    table = Table(box=None, pad_edge=False, padding=(0, 1))
    table.add_column("Batch id" if beside else "Batch id / programme", no_wrap=beside, min_width=36, overflow="fold")
    if beside:
        table.add_column("Programme", no_wrap=True)
    table.add_column("Count", justify="right", no_wrap=True)
    table.add_column("Status", no_wrap=True, min_width=9)
    table.add_column("Created (UTC)", no_wrap=True)
    for batch, name in zip(shown, names, strict=True):
        first = [batch["id"], name] if beside else [f"{batch['id']}\n  {name}"]
        table.add_row(*first, str(batch["count"]), batch["status"], str(batch["created_at"])[:16].replace("T", " "))
    console.print(table)
    console.print("Export one with: hub cohort export BATCH_ID --out DIR", style="dim")


@cohort_app.command("export")
def cohort_export(
    batch_id: Annotated[str, typer.Argument(help="The batch id (printed by 'hub cohort import').")],
    out: Annotated[Path, typer.Option("--out", "-o", help="The folder to write to (made if missing).")],
    url: ApiUrl = "http://127.0.0.1:8000",
    key: ApiKey = "",
    claims: Annotated[
        str,
        typer.Option(
            "--claims",
            help="The claims each certificate prints, comma separated: name, result (the grade; grade is accepted "
            "for it), or none. "
            "Each certificate's QR code opens a share link made for it that discloses exactly what "
            "it prints, so the page behind it confirms the printed name and grade.",
        ),
    ] = "name,result",
    links: Annotated[
        Path | None,
        typer.Option(
            "--links",
            help="The links file 'hub cohort import' wrote for this batch: with it, each graduate also gets "
            "<id>-letter.txt, a short letter with her personal link (to her own page, where she shares her "
            "credential).",
        ),
    ] = None,
    lang: Annotated[
        str, typer.Option("--lang", help="The language of the certificates and the letters: nl (Dutch) or en.")
    ] = "nl",
) -> None:
    """Export an anchored cohort: per credential <id>.json (the full credential, all its disclosures; verify
    it with 'hub verify') and <id>.pdf (the certificate, with the QR code of a share link made for it that
    discloses exactly the claims it prints), in Dutch or English (--lang); with --links also <id>-letter.txt,
    the letter that gives the graduate her personal link. Exit 0 done, 1 refused (e.g. not this partner's
    batch, not anchored yet), 2 unusable input."""
    from service import i18n
    from service.documents import render_certificate
    from service.documents.certificate import PRINTED_CLAIMS, disclosed_claims

    console = Console(highlight=False, soft_wrap=True)
    errors = Console(stderr=True, highlight=False, soft_wrap=True)
    try:
        wanted = (
            []
            if claims.strip().lower() == "none"
            else list(dict.fromkeys(claim_name(n.strip()) for n in claims.split(",") if n.strip()))
        )
        unknown = [name for name in wanted if name not in PRINTED_CLAIMS]
        if unknown:
            raise UsageProblem(
                f"--claims: a certificate cannot print {', '.join(unknown)}; choose from "
                f"{', '.join(PRINTED_CLAIMS)}, or none"
            )
        if lang not in i18n.LOCALES:
            raise UsageProblem(f"--lang {lang}: the certificates and letters are in {' or '.join(i18n.LOCALES)}")
        personal = _personal_links(links) if links is not None else None
        client = _api_client(url, key, 60)
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UsageProblem(f"cannot make the folder {out}: {exc.strerror or exc}") from exc
    except UsageProblem as exc:
        usage_problem(str(exc), False)
    revoked = 0
    with client:
        try:
            batch = _api_call(client, "GET", f"/batches/{batch_id}").json()
        except ApiRefused as exc:
            _refused(errors, exc, f"cannot read batch {batch_id}")
        except UsageProblem as exc:
            usage_problem(str(exc), False)
        if batch["status"] != "anchored":
            errors.print(
                Text(
                    f"error: batch {batch_id} is {batch['status']}, not anchored: nothing to export"
                    + (f" ({batch.get('error')})" if batch["status"] == "failed" else " yet"),
                    style="red",
                )
            )
            raise typer.Exit(EXIT_INVALID)
        missing = [item["id"] for item in batch["credentials"] if personal is not None and item["id"] not in personal]
        if missing:
            usage_problem(
                f"--links {links}: it has no personal link for credential {missing[0]}"
                + (f" and {len(missing) - 1} more" if len(missing) > 1 else "")
                + f": give the links file 'hub cohort import' wrote for batch {batch_id}",
                False,
            )
        letters = 0
        with _progress(errors) as progress:
            task = progress.add_task(f"Exporting {batch['count']} credentials", total=len(batch["credentials"]))
            for item in batch["credentials"]:
                credential = _get_or_exit(
                    client, f"/credentials/{item['id']}", progress, errors, f"cannot read credential {item['id']}"
                )
                document = credential["document"]
                status = None
                if credential.get("revoked"):
                    revoked += 1
                    status = f"Revoked ({(credential.get('revocation_reason') or '').replace('-', ' ')})"
                # The certificate's own share link: it discloses exactly what the certificate prints.
                has = disclosed_claims(document)
                try:
                    link = _api_call(
                        client,
                        "POST",
                        f"/credentials/{item['id']}/certificate-links",
                        json={"disclose": [name for name in wanted if name in has]},
                    ).json()
                except (ApiRefused, UsageProblem) as exc:
                    progress.stop()
                    errors.print(
                        Text(f"error: cannot make the certificate link of credential {item['id']}: {exc}", style="red")
                    )
                    raise typer.Exit(EXIT_INVALID) from None
                printed = select_disclosures(document, link["shared_claims"])
                try:
                    (out / f"{item['id']}.json").write_text(
                        json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
                    )
                    with i18n.use(lang):
                        (out / f"{item['id']}.pdf").write_bytes(
                            render_certificate(printed, link["share_url"], status=status)
                        )
                        if personal is not None:
                            (out / f"{item['id']}-letter.txt").write_text(
                                graduate_letter(document, personal[item["id"]]), encoding="utf-8"
                            )
                            letters += 1
                except OSError as exc:
                    progress.stop()
                    errors.print(Text(f"error: cannot write to {out}: {exc.strerror or exc}", style="red"))
                    raise typer.Exit(EXIT_UNUSABLE) from None
                progress.advance(task)
    print_summary(
        console,
        [
            ("Exported", f"{len(batch['credentials'])} credentials of batch {batch_id} ({revoked} revoked)"),
            (
                "Folder",
                f"{out}: <id>.json (the full credential) and <id>.pdf (the certificate, "
                f"{i18n.LANGUAGE_NAMES[lang]})"
                + (f"; {letters} <id>-letter.txt with the graduate's personal link" if personal is not None else ""),
            ),
            (
                "PDFs",
                f"print {', '.join(wanted) or 'no personal claim'} (when the credential has it); each QR code "
                "opens a share link made for its PDF that shows exactly that",
            ),
            ("Anchored", f"root {batch['root']}, transaction {batch['transaction_hash']}"),
        ],
    )
    console.print(f"Check one with: hub verify {out}/<id>.json --rpc <node> --registry <address>", style="dim")


def _personal_links(path: Path) -> dict[str, str]:
    """credential id -> the graduate's personal link, from a links file of 'hub cohort import' (the column
    holder_url; an older file's holder_token is made into the link on the share URL's host)."""
    import csv

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageProblem(f"--links: cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from exc
    rows = list(csv.DictReader(text.splitlines()))
    found: dict[str, str] = {}
    for row in rows:
        credential_id, link = row.get("credential_id"), row.get("holder_url")
        if not link and row.get("holder_token") and row.get("share_url") and "/share/" in row["share_url"]:
            link = row["share_url"].rsplit("/share/", 1)[0] + "/holder/" + row["holder_token"]
        if credential_id and link:
            found[credential_id] = link
    if not found:
        raise UsageProblem(
            f"--links: {path} is not a links file of 'hub cohort import' (columns credential_id and holder_url)"
        )
    return found


def graduate_letter(document: dict[str, Any], personal_link: str) -> str:
    """The short letter that gives a graduate her personal link, in the language of the moment (i18n.use)."""
    from service.documents.certificate import disclosed_claims
    from service.i18n import _

    achievement = document.get("credentialSubject", {}).get("achievement", {})
    programme = str(achievement.get("name", ""))
    issuer = str(document.get("issuer", {}).get("name", ""))
    name = disclosed_claims(document).get("name")
    greeting = _("Dear %(name)s,", name=name) if isinstance(name, str) and name.strip() else _("Dear graduate,")
    paragraphs = [
        _("Subject: your credential %(programme)s", programme=programme),
        greeting,
        _(
            "%(issuer)s has issued your credential %(programme)s. It is recorded in the public register of the "
            "IT Hub Hoogeveen, so anyone can check that it is genuine.",
            issuer=issuer,
            programme=programme,
        ),
        _("Your personal link (keep it to yourself: it opens your own page):"),
        personal_link,
        _(
            "On that page you see your whole credential and make links to share it with employers: you choose "
            "what each link shows, and you can withdraw a link at any time. There you also download your "
            "certificate in Dutch or English and add your credential to LinkedIn."
        ),
        _("Kind regards,"),
        issuer,
    ]
    return "\n\n".join(paragraphs) + "\n"
