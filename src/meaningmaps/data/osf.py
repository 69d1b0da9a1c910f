"""Download a public OSF project through the OSF API v2, verified and resumable.

Why: the workflow's input data (stimuli, rating files) live on OSF. Fetching them
by hand is error-prone, so the ``download`` rule calls :func:`download_project`,
which walks the project's ``osfstorage`` tree (folders and paginated listings),
streams each file into a hidden ``.part`` file beside its final name, checks it
against every hash OSF lists (md5, sha256), and only then renames it into place.
An interrupted or corrupted transfer therefore never leaves a file under its
final name, and a rerun skips files already present with matching hashes.
HTTP 429 (honouring ``Retry-After``), 5xx and connection errors are retried with
exponential backoff. A JSON manifest of what is on disk is written last, and
only when every file succeeded, so its presence means "complete".

Private projects: a personal access token in the environment variable ``OSF_TOKEN`` (scope
``osf.full_read``) is sent as ``Authorization: Bearer ...`` to the API's host and OSF's own hosts
(``*.osf.io``), and dropped when a redirect leaves them (a signed storage URL needs none). The token
is never written: not to the log, the manifest or an error message.

Only the standard library is used for HTTP (urllib).
"""

from __future__ import annotations

import contextlib
import email.utils
import hashlib
import http.client
import json
import os
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath, PureWindowsPath

from ..atomic import save_text

__all__ = ["DownloadError", "download_project"]

USER_AGENT = "meaningmaps-osf-downloader/0.1 (+python-urllib)"
CHUNK = 1 << 20
HASH_NAMES = ("md5", "sha256")

# Connection-level failures worth retrying (URLError covers refused/DNS/timeouts
# at connect; HTTPException covers IncompleteRead, RemoteDisconnected, ...).
_RETRYABLE_EXC = (
    urllib.error.URLError,
    http.client.HTTPException,
    ConnectionError,
    TimeoutError,
)


class DownloadError(RuntimeError):
    """A network or integrity failure while fetching from OSF."""


class _Truncated(http.client.HTTPException):
    """The body ended before Content-Length bytes arrived."""

    def __init__(self, got: int, expected: int):
        super().__init__(f"connection closed after {got} of {expected} bytes")


# --------------------------------------------------------------------------- HTTP


def _retry_after_seconds(value: str | None) -> float | None:
    """Parse a Retry-After header: delta-seconds or an HTTP date. None if absent/bad."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


TOKEN_VARIABLE = "OSF_TOKEN"


def _host(url: str) -> str:
    return (urllib.parse.urlsplit(url).hostname or "").lower()


def _trusted(url: str, api_base: str) -> bool:
    """Hosts that get the token: the API's and OSF's own (osf.io and its subdomains)."""
    host = _host(url)
    return host == _host(api_base) or host == "osf.io" or host.endswith(".osf.io")


class _KeepTokenOnTrustedHosts(urllib.request.HTTPRedirectHandler):
    """Follows redirects as urllib does, but drops the Authorization header when the new URL is not
    on a trusted host (urllib would forward it anywhere)."""

    def __init__(self, api_base: str):
        super().__init__()
        self.api_base = api_base

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        if new is not None and not _trusted(newurl, self.api_base):
            for name in list(new.headers):
                if name.lower() == "authorization":
                    del new.headers[name]
            new.unredirected_hdrs.pop("Authorization", None)
        return new


def _opener(token: str | None, api_base: str):
    """urlopen with the token's redirect rule; plain urlopen without a token."""
    if not token:
        return urllib.request.urlopen
    return urllib.request.build_opener(_KeepTokenOnTrustedHosts(api_base)).open


def _call(url: str, consume, *, accept: str, max_retries: int, timeout: float, sleep, log, token=None,
          api_base: str = ""):
    """GET ``url`` and return ``consume(response)``, retrying transient failures.

    Retries (up to ``max_retries`` times) on HTTP 429, HTTP 5xx and connection
    errors, including a body cut off mid-transfer. Any other HTTP error status
    raises :class:`DownloadError` naming the URL and status at once.
    """
    attempt = 0
    while True:
        headers = {"User-Agent": USER_AGENT, "Accept": accept}
        if token and _trusted(url, api_base):
            headers["Authorization"] = f"Bearer {token}"
        request = urllib.request.Request(url, headers=headers)
        wait: float | None = None
        try:
            with _opener(token, api_base)(request, timeout=timeout) as response:
                return consume(response)
        except urllib.error.HTTPError as exc:
            status = exc.code
            headers = exc.headers
            exc.close()
            if status == 429 or 500 <= status < 600:
                reason = f"HTTP {status}"
                if status == 429:
                    wait = _retry_after_seconds(headers.get("Retry-After") if headers else None)
            elif status in (401, 403):
                raise DownloadError(
                    f"GET {url} failed with HTTP {status} ({exc.reason}); not retrying. "
                    + ("The token in OSF_TOKEN was refused: check that it is a current personal access token "
                       "with the osf.full_read scope and that its account can read the project."
                       if token else
                       "The project is private (or the node id is wrong): for a private project, set the "
                       "environment variable OSF_TOKEN to an OSF personal access token (osf.io > Settings > "
                       "Personal access tokens, scope osf.full_read) and run again.")
                ) from None
            else:
                raise DownloadError(
                    f"GET {url} failed with HTTP {status} ({exc.reason}); not retrying. "
                    "Check that the OSF project is public and the node id is right."
                ) from None
            error: BaseException = exc
        except _RETRYABLE_EXC as exc:
            reason = str(exc) if isinstance(exc, _Truncated) else f"{type(exc).__name__}: {exc}"
            error = exc
        if attempt >= max_retries:
            raise DownloadError(
                f"GET {url} failed after {attempt + 1} attempt(s): {reason}"
            ) from error
        if wait is None:
            wait = float(2**attempt)
        attempt += 1
        log(f"GET {url}: {reason}; retry {attempt}/{max_retries} in {wait:g} s")
        sleep(wait)


def _read_json(response):
    return json.loads(response.read().decode("utf-8"))


def _stream_into(tmp: Path):
    """A ``consume`` callback: stream the body into ``tmp``, return (size, hashes)."""

    def consume(response):
        digests = {name: hashlib.new(name) for name in HASH_NAMES}
        size = 0
        expected = response.headers.get("Content-Length")
        with open(tmp, "wb") as fh:  # truncates leftovers from a failed attempt
            while True:
                chunk = response.read(CHUNK)
                if not chunk:
                    break
                fh.write(chunk)
                size += len(chunk)
                for digest in digests.values():
                    digest.update(chunk)
            fh.flush()
            os.fsync(fh.fileno())
        if expected is not None and expected.isdigit() and int(expected) != size:
            raise _Truncated(size, int(expected))
        return size, {name: d.hexdigest() for name, d in digests.items()}

    return consume


# ------------------------------------------------------------------------ listing


def _walk(url: str, http_kw: dict):
    """Yield every file item under the listing at ``url`` (folders recursed, pages followed)."""
    seen: set[str] = set()
    while url:
        if url in seen:  # defensive: a server looping its ``next`` links
            raise DownloadError(f"OSF listing pagination loops back to {url}")
        seen.add(url)
        page = _call(url, _read_json, accept="application/vnd.api+json, application/json", **http_kw)
        if not isinstance(page, dict) or not isinstance(page.get("data"), list):
            raise DownloadError(f"GET {url}: not an OSF JSON:API listing (no 'data' list)")
        for item in page["data"]:
            attrs = item.get("attributes") or {}
            kind = attrs.get("kind")
            if kind == "folder":
                href = (((item.get("relationships") or {}).get("files") or {}).get("links") or {})
                href = (href.get("related") or {}).get("href")
                if not href:
                    raise DownloadError(
                        f"OSF folder {attrs.get('materialized_path')!r} in {url} has no "
                        "relationships.files.links.related.href to list its contents"
                    )
                yield from _walk(href, http_kw)
            elif kind == "file":
                yield item
            else:
                raise DownloadError(f"GET {url}: item of unknown kind {kind!r}: {attrs.get('name')!r}")
        url = (page.get("links") or {}).get("next")


def _safe_relpath(materialized: str | None, dest: Path) -> str:
    """Turn an OSF materialized_path into a path relative to ``dest``, refusing escapes."""
    if not isinstance(materialized, str) or not materialized.strip("/"):
        raise DownloadError(f"OSF file has an empty or missing materialized_path: {materialized!r}")
    rel = materialized.lstrip("/")
    posix = PurePosixPath(rel)
    win = PureWindowsPath(rel)
    if (
        posix.is_absolute()
        or win.drive
        or win.is_absolute()
        or "\\" in rel
        or "\x00" in rel
        or any(part in ("..", ".") for part in posix.parts)
    ):
        raise DownloadError(
            f"refusing OSF path {materialized!r}: it would escape the download folder {dest}"
        )
    root = dest.resolve()
    target = (root / rel).resolve()
    if target == root or root not in target.parents:
        raise DownloadError(
            f"refusing OSF path {materialized!r}: it resolves to {target}, outside {root}"
        )
    return posix.as_posix()


def _expected_hashes(item: dict) -> dict[str, str]:
    extra = (item.get("attributes") or {}).get("extra") or {}
    hashes = extra.get("hashes") or {}
    return {name: str(hashes[name]).lower() for name in HASH_NAMES if hashes.get(name)}


# ----------------------------------------------------------------------- download


def _hash_file(path: Path) -> tuple[int, dict[str, str]]:
    digests = {name: hashlib.new(name) for name in HASH_NAMES}
    size = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            size += len(chunk)
            for digest in digests.values():
                digest.update(chunk)
    return size, {name: d.hexdigest() for name, d in digests.items()}


def _mismatches(expected: dict[str, str], got: dict[str, str]) -> list[str]:
    return [f"{n} expected {expected[n]} got {got[n]}" for n in expected if got[n] != expected[n]]


def _fetch(url: str, final: Path, rel: str, expected: dict, size_api, http_kw: dict, log):
    """Download ``url`` to ``final`` via a verified temp file; one extra try on a bad hash."""
    final.parent.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    for attempt in (1, 2):
        fd, tmp_name = tempfile.mkstemp(prefix=f".{final.name}.", suffix=".part", dir=final.parent)
        os.close(fd)
        tmp = Path(tmp_name)
        try:
            size, got = _call(url, _stream_into(tmp), accept="*/*", **http_kw)
            if expected:
                problems = _mismatches(expected, got)
            elif size_api is not None and size != size_api:
                problems = [f"size expected {size_api} got {size}"]
            else:
                problems = []
            if not problems:
                os.replace(tmp, final)
                return size, got
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
        log(f"{rel}: downloaded bytes do not match OSF ({'; '.join(problems)})"
            + ("; downloading once more" if attempt == 1 else ""))
    raise DownloadError(
        f"{rel}: hash mismatch after 2 downloads from {url}: {'; '.join(problems)}. "
        f"Nothing was written under {final}."
    )


def download_project(
    node: str,
    dest,
    manifest_path,
    api_base: str = "https://api.osf.io/v2",
    max_retries: int = 5,
    timeout: float = 60,
    sleep=time.sleep,
    log=print,
    token: str | None = None,
) -> list[dict]:
    """Download every file of OSF project ``node`` (osfstorage) into ``dest``.

    Files already present with matching hashes are kept; others are fetched and
    verified. Returns the manifest's ``files`` list (sorted by path) after
    writing the manifest JSON to ``manifest_path``. ``token``: an OSF personal
    access token for a private project (default: the environment's ``OSF_TOKEN``;
    never written anywhere).
    """
    if token is None:
        token = os.environ.get(TOKEN_VARIABLE) or None
    if not isinstance(node, str) or not node.strip() or "/" in node:
        raise DownloadError(f"bad OSF node id {node!r}: expected e.g. 'abc12'")
    dest = Path(dest)
    manifest_path = Path(manifest_path)
    dest.mkdir(parents=True, exist_ok=True)
    # A killed run can leave temp files behind (never under a final name): clear them.
    for stale in dest.rglob(".*.part"):
        with contextlib.suppress(OSError):
            stale.unlink()
    # The manifest means "the last run completed": drop a stale one before starting.
    with contextlib.suppress(FileNotFoundError):
        manifest_path.unlink()
    http_kw = dict(max_retries=max_retries, timeout=timeout, sleep=sleep, log=log, token=token, api_base=api_base)
    if token:
        log(f"using the OSF token from {TOKEN_VARIABLE} (not written anywhere)")
    root_url = f"{api_base.rstrip('/')}/nodes/{node}/files/osfstorage/"

    # List everything and check every path before writing a single byte.
    plan: dict[str, dict] = {}
    for item in _walk(root_url, http_kw):
        attrs = item.get("attributes") or {}
        rel = _safe_relpath(attrs.get("materialized_path"), dest)
        if (dest / rel).resolve() == manifest_path.resolve():
            raise DownloadError(f"OSF file {rel!r} would overwrite the manifest {manifest_path}")
        if rel in plan:
            raise DownloadError(f"OSF lists {rel!r} twice; refusing to guess which one is right")
        url = (item.get("links") or {}).get("download")
        if not url:
            raise DownloadError(f"OSF file {rel!r} has no links.download URL")
        size = attrs.get("size")
        plan[rel] = dict(url=url, size=size if isinstance(size, int) else None,
                         hashes=_expected_hashes(item))
    log(f"OSF node {node}: {len(plan)} file(s) listed")

    entries = []
    for rel in sorted(plan):
        info = plan[rel]
        final = dest / rel
        expected, size_api = info["hashes"], info["size"]
        if final.is_file():
            size, got = _hash_file(final)
            if expected:
                bad = _mismatches(expected, got)
                if not bad:
                    log(f"{rel}: present, hashes match; skipped")
                    entries.append(_entry(rel, size, got, "verified-existing"))
                    continue
                log(f"{rel}: present but corrupt ({'; '.join(bad)}); fetching again")
            elif size_api is not None and size == size_api:
                log(f"WARNING {rel}: present, size matches but OSF lists no hash: "
                    "could not be verified; kept")
                entries.append(_entry(rel, size, got, "verified-existing"))
                continue
            else:
                log(f"{rel}: present, OSF lists no hash and size differs or is unknown; fetching again")
        elif final.exists():
            raise DownloadError(f"{final} exists but is not a file; move it away and rerun")
        if not expected:
            log(f"WARNING {rel}: OSF lists no md5/sha256; download cannot be verified by hash")
        size, got = _fetch(info["url"], final, rel, expected, size_api, http_kw, log)
        how = "hashes verified" if expected else "size only, no hash to verify"
        log(f"{rel}: downloaded {size} bytes ({how})")
        entries.append(_entry(rel, size, got, "downloaded"))

    manifest = {"node": node, "api_base": api_base, "files": entries}
    save_text(manifest_path, json.dumps(manifest, indent=2) + "\n")
    log(f"manifest written: {manifest_path}")
    return entries


def _entry(rel: str, size: int, hashes: dict, status: str) -> dict:
    return {"path": rel, "size": size, "md5": hashes["md5"], "sha256": hashes["sha256"],
            "status": status}
