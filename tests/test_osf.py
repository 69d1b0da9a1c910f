"""meaningmaps.data.osf against a local fake OSF API v2 (never the real network).

The fake project (node ``abc12``):

    /readme.txt          page 1, md5 + sha256
    /stimuli/            page 1, folder
    /stimuli/scene1.mat  nested, md5 + sha256
    /stimuli/deep/       folder inside the folder
    /stimuli/deep/x.bin  nested twice, sha256 only
    /ratings.csv         page 2, md5 + sha256; first request answered 429 Retry-After: 1
    /notes.txt           page 2, no hashes listed (size only)
"""

from __future__ import annotations

import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from meaningmaps.data.osf import DownloadError, download_project  # noqa: E402

NODE = "abc12"

CONTENT = {
    "readme.txt": b"Meaning maps test project.\n",
    "stimuli/scene1.mat": bytes(range(256)) * 40,
    "stimuli/deep/x.bin": b"\x00\x01deep" * 1000,
    "ratings.csv": b"patch,rating\n1,3\n2,5\n",
    "notes.txt": b"no hashes for me\n",
}
HASHES = {  # which hashes the fake API lists per file
    "readme.txt": ("md5", "sha256"),
    "stimuli/scene1.mat": ("md5", "sha256"),
    "stimuli/deep/x.bin": ("sha256",),
    "ratings.csv": ("md5", "sha256"),
    "notes.txt": (),
}


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class FakeOSF(BaseHTTPRequestHandler):
    """Serves listings under /v2/... and bytes under /download/<path>.

    Faults live on ``self.server.state`` (fresh per test):
    ``corrupt[path] = n``: serve wrong bytes for the next n downloads;
    ``cut[path] = n``: for the next n downloads, promise more bytes than sent, then hang up;
    ``throttle[path] = n``: answer 429 (Retry-After: 1) to the next n downloads;
    ``extra_items``: raw items appended to root page 2;
    ``requests``: every path requested, in order.
    """

    def log_message(self, *args):  # keep pytest output clean
        pass

    # -- helpers
    def _json(self, payload, status=200):
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/vnd.api+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _base(self):
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def _file(self, rel):
        data = CONTENT[rel]
        hashes = {"md5": md5(data), "sha256": sha256(data)}
        listed = {name: (hashes[name] if name in HASHES[rel] else None) for name in hashes}
        return {
            "id": rel,
            "type": "files",
            "attributes": {
                "kind": "file",
                "name": rel.rsplit("/", 1)[-1],
                "materialized_path": "/" + rel,
                "size": len(data),
                "extra": {"hashes": listed},
            },
            "links": {"download": f"{self._base()}/download/{rel}"},
        }

    def _folder(self, rel):
        return {
            "id": rel,
            "type": "files",
            "attributes": {
                "kind": "folder",
                "name": rel.rstrip("/").rsplit("/", 1)[-1],
                "materialized_path": "/" + rel,
                "size": None,
                "extra": {"hashes": {}},
            },
            "relationships": {
                "files": {"links": {"related": {"href": f"{self._base()}/v2/folders/{rel}"}}}
            },
            "links": {},
        }

    @staticmethod
    def _take(faults, rel):
        if faults.get(rel, 0) > 0:
            faults[rel] -= 1
            return True
        return False

    # -- routes
    def do_GET(self):
        state = self.server.state
        parts = urlsplit(self.path)
        path, query = parts.path, parts.query
        with state["lock"]:
            state["requests"].append(path)
        root = f"/v2/nodes/{NODE}/files/osfstorage/"
        if path == root and query == "":
            self._json({
                "data": [self._file("readme.txt"), self._folder("stimuli/")],
                "links": {"next": f"{self._base()}{root}?page=2", "prev": None},
            })
        elif path == root and query == "page=2":
            items = [self._file("ratings.csv"), self._file("notes.txt")] + state["extra_items"]
            self._json({"data": items, "links": {"next": None, "prev": f"{self._base()}{root}"}})
        elif path == "/v2/folders/stimuli/":
            self._json({"data": [self._file("stimuli/scene1.mat"), self._folder("stimuli/deep/")],
                        "links": {"next": None}})
        elif path == "/v2/folders/stimuli/deep/":
            self._json({"data": [self._file("stimuli/deep/x.bin")], "links": {"next": None}})
        elif path.startswith("/download/") and path[len("/download/"):] in CONTENT:
            self._download(path[len("/download/"):])
        else:
            self._json({"errors": [{"detail": "Not found."}]}, status=404)

    def _download(self, rel):
        state = self.server.state
        data = CONTENT[rel]
        with state["lock"]:
            throttle = self._take(state["throttle"], rel)
            corrupt = self._take(state["corrupt"], rel)
            cut = self._take(state["cut"], rel)
        if throttle:
            self.send_response(429)
            self.send_header("Retry-After", "1")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if corrupt:
            data = b"X" + data[1:]
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(data) + (1000 if cut else 0)))
        self.end_headers()
        if cut:
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(data)


@pytest.fixture
def osf(monkeypatch):
    """A running fake OSF; yields the server (``.api_base``, ``.state``)."""
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("no_proxy", "*")
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeOSF)
    server.daemon_threads = True
    server.state = {
        "lock": threading.Lock(),
        "requests": [],
        "corrupt": {},
        "cut": {},
        "throttle": {"ratings.csv": 1},
        "extra_items": [],
    }
    server.api_base = f"http://127.0.0.1:{server.server_address[1]}/v2"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


class Recorder:
    def __init__(self):
        self.sleeps: list[float] = []
        self.lines: list[str] = []

    def sleep(self, seconds):
        self.sleeps.append(seconds)

    def log(self, message):
        self.lines.append(str(message))


def run(osf, dest, rec=None, **kw):
    rec = rec or Recorder()
    files = download_project(
        NODE, dest, Path(dest) / "manifest.json", api_base=osf.api_base,
        timeout=5, sleep=rec.sleep, log=rec.log, **kw,
    )
    return files, rec


def downloads(osf):
    return [p[len("/download/"):] for p in osf.state["requests"] if p.startswith("/download/")]


def leftovers(dest):
    return sorted(p.name for p in Path(dest).rglob("*.part"))


# --------------------------------------------------------------------------- tests


def test_full_download_writes_files_and_manifest(osf, tmp_path):
    dest = tmp_path / "osf"
    files, rec = run(osf, dest)

    for rel, data in CONTENT.items():
        assert (dest / rel).read_bytes() == data, rel
    assert leftovers(dest) == []

    manifest = json.loads((dest / "manifest.json").read_text())
    assert manifest["node"] == NODE
    assert manifest["api_base"] == osf.api_base
    assert [f["path"] for f in manifest["files"]] == sorted(CONTENT)
    assert manifest["files"] == files
    for entry in manifest["files"]:
        data = CONTENT[entry["path"]]
        assert entry == {"path": entry["path"], "size": len(data), "md5": md5(data),
                         "sha256": sha256(data), "status": "downloaded"}
    # both listing pages and both folder listings were read
    assert f"/v2/nodes/{NODE}/files/osfstorage/" in osf.state["requests"]
    assert "/v2/folders/stimuli/deep/" in osf.state["requests"]
    assert any("notes.txt" in line and "cannot be verified" in line for line in rec.lines)


def test_429_retry_after_is_honoured(osf, tmp_path):
    _, rec = run(osf, tmp_path / "osf")
    assert rec.sleeps == [1]
    assert downloads(osf).count("ratings.csv") == 2  # 429 first, then the bytes
    assert (tmp_path / "osf" / "ratings.csv").read_bytes() == CONTENT["ratings.csv"]


def test_repeated_429_waits_retry_after_not_backoff(osf, tmp_path):
    osf.state["throttle"]["ratings.csv"] = 3
    _, rec = run(osf, tmp_path / "osf")
    assert rec.sleeps == [1, 1, 1]  # exponential backoff would give [1, 2, 4]
    assert downloads(osf).count("ratings.csv") == 4


def test_429_gives_up_after_max_retries(osf, tmp_path):
    osf.state["throttle"]["ratings.csv"] = 100
    with pytest.raises(DownloadError, match=r"ratings\.csv.*HTTP 429"):
        run(osf, tmp_path / "osf", max_retries=2)
    assert downloads(osf).count("ratings.csv") == 3
    assert not (tmp_path / "osf" / "ratings.csv").exists()
    assert not (tmp_path / "osf" / "manifest.json").exists()


def test_resume_skips_verified_files(osf, tmp_path):
    dest = tmp_path / "osf"
    run(osf, dest)
    first = len(downloads(osf))
    assert first == len(CONTENT) + 1  # + the 429

    files, rec = run(osf, dest)
    assert len(downloads(osf)) == first  # nothing fetched again
    assert {f["status"] for f in files} == {"verified-existing"}
    assert any("notes.txt" in line and "could not be verified" in line for line in rec.lines)
    assert json.loads((dest / "manifest.json").read_text())["files"] == files


def test_corrupt_local_file_is_fetched_again(osf, tmp_path):
    dest = tmp_path / "osf"
    run(osf, dest)
    (dest / "stimuli" / "scene1.mat").write_bytes(b"garbage")
    before = len(downloads(osf))

    files, rec = run(osf, dest)
    assert downloads(osf)[before:] == ["stimuli/scene1.mat"]
    assert (dest / "stimuli" / "scene1.mat").read_bytes() == CONTENT["stimuli/scene1.mat"]
    status = {f["path"]: f["status"] for f in files}
    assert status.pop("stimuli/scene1.mat") == "downloaded"
    assert set(status.values()) == {"verified-existing"}
    assert any("scene1.mat" in line and "corrupt" in line for line in rec.lines)


def test_unhashed_file_with_wrong_size_is_fetched_again(osf, tmp_path):
    dest = tmp_path / "osf"
    run(osf, dest)
    (dest / "notes.txt").write_bytes(b"short")
    before = len(downloads(osf))
    run(osf, dest)
    assert downloads(osf)[before:] == ["notes.txt"]
    assert (dest / "notes.txt").read_bytes() == CONTENT["notes.txt"]


def test_one_bad_hash_from_server_is_retried(osf, tmp_path):
    osf.state["corrupt"]["readme.txt"] = 1
    run(osf, tmp_path / "osf")
    assert downloads(osf).count("readme.txt") == 2
    assert (tmp_path / "osf" / "readme.txt").read_bytes() == CONTENT["readme.txt"]


def test_persistent_hash_mismatch_fails_cleanly(osf, tmp_path):
    dest = tmp_path / "osf"
    osf.state["corrupt"]["stimuli/scene1.mat"] = 2
    data = CONTENT["stimuli/scene1.mat"]
    bad = b"X" + data[1:]
    with pytest.raises(DownloadError) as info:
        run(osf, dest)
    message = str(info.value)
    assert "stimuli/scene1.mat" in message
    assert md5(data) in message and md5(bad) in message
    assert not (dest / "stimuli" / "scene1.mat").exists()
    assert not (dest / "manifest.json").exists()
    assert leftovers(dest) == []
    assert downloads(osf).count("stimuli/scene1.mat") == 2


def test_interrupted_transfer_leaves_no_file_and_rerun_completes(osf, tmp_path):
    dest = tmp_path / "osf"
    osf.state["cut"]["stimuli/deep/x.bin"] = 100
    with pytest.raises(DownloadError, match=r"x\.bin"):
        run(osf, dest, max_retries=1)
    assert not (dest / "stimuli" / "deep" / "x.bin").exists()
    assert not (dest / "manifest.json").exists()
    assert leftovers(dest) == []

    osf.state["cut"].clear()
    files, _ = run(osf, dest)
    assert (dest / "stimuli" / "deep" / "x.bin").read_bytes() == CONTENT["stimuli/deep/x.bin"]
    assert (dest / "manifest.json").exists()
    assert {f["path"] for f in files} == set(CONTENT)


def test_single_cut_is_retried_with_backoff(osf, tmp_path):
    osf.state["throttle"].clear()
    osf.state["cut"]["readme.txt"] = 1
    _, rec = run(osf, tmp_path / "osf")
    assert rec.sleeps == [1]
    assert (tmp_path / "osf" / "readme.txt").read_bytes() == CONTENT["readme.txt"]


def test_manifest_from_an_earlier_run_is_removed_on_failure(osf, tmp_path):
    dest = tmp_path / "osf"
    run(osf, dest)
    (dest / "readme.txt").unlink()
    osf.state["corrupt"]["readme.txt"] = 2
    with pytest.raises(DownloadError):
        run(osf, dest)
    assert not (dest / "manifest.json").exists()


@pytest.mark.parametrize("evil", ["/../evil.txt", "/stimuli/../../evil.txt", "/..", "//"])
def test_path_escaping_dest_is_refused(osf, tmp_path, evil):
    dest = tmp_path / "osf"
    item = {
        "attributes": {"kind": "file", "name": "evil.txt", "materialized_path": evil, "size": 3,
                       "extra": {"hashes": {"md5": md5(b"bad")}}},
        "links": {"download": osf.api_base.replace("/v2", "/download/readme.txt")},
    }
    osf.state["extra_items"].append(item)
    with pytest.raises(DownloadError, match=r"refusing|empty"):
        run(osf, dest)
    assert not (tmp_path / "evil.txt").exists()
    assert downloads(osf) == []  # refused before any byte was fetched
    assert not (dest / "manifest.json").exists()


def test_other_4xx_fails_at_once_naming_url(osf, tmp_path):
    rec = Recorder()
    with pytest.raises(DownloadError, match=r"nodes/nope1/files/osfstorage/.*HTTP 404"):
        download_project("nope1", tmp_path / "osf", tmp_path / "osf" / "manifest.json",
                         api_base=osf.api_base, timeout=5, sleep=rec.sleep, log=rec.log)
    assert rec.sleeps == []


def test_stale_part_files_from_a_killed_run_are_removed(osf, tmp_path):
    dest = tmp_path / "dest"
    (dest / "stimuli").mkdir(parents=True)
    stale = dest / "stimuli" / ".scene1.mat.abc123.part"
    stale.write_bytes(b"half a file")
    download_project(NODE, dest, tmp_path / "manifest.json", api_base=osf.api_base,
                     sleep=lambda s: None, log=lambda m: None)
    assert not stale.exists()
    assert (dest / "stimuli" / "scene1.mat").read_bytes() == CONTENT["stimuli/scene1.mat"]


# --- private projects: the token from OSF_TOKEN ---------------------------------------------------

TOKEN = "pat-5ecret-T0ken-for-tests-only"


def _private_tree(tmp_path):
    from .osf_fake import serve_tree

    tree = tmp_path / "tree"
    (tree / "stimuli").mkdir(parents=True)
    (tree / "stimuli" / "a.jpg").write_bytes(b"jpeg bytes")
    (tree / "fixations.csv").write_text("scene,x,y\na,1,1\n")
    return serve_tree(tree, "priv1", token=TOKEN)


def test_private_project_needs_the_token_and_says_how(tmp_path, monkeypatch):
    monkeypatch.delenv("OSF_TOKEN", raising=False)
    server, api = _private_tree(tmp_path)
    try:
        with pytest.raises(DownloadError, match=r"HTTP 401.*set the environment variable OSF_TOKEN") as info:
            download_project("priv1", tmp_path / "dl", tmp_path / "dl" / "manifest.json", api_base=api, sleep=lambda s: None,
                             log=lambda m: None)
        monkeypatch.setenv("OSF_TOKEN", "wrong")
        with pytest.raises(DownloadError, match=r"HTTP 401.*token in OSF_TOKEN was refused") as info:
            download_project("priv1", tmp_path / "dl", tmp_path / "dl" / "manifest.json", api_base=api, sleep=lambda s: None,
                             log=lambda m: None)
        assert "wrong" not in str(info.value)
    finally:
        server.shutdown()


def test_token_from_the_environment_is_sent_and_written_nowhere(tmp_path, monkeypatch):
    monkeypatch.setenv("OSF_TOKEN", TOKEN)
    server, api = _private_tree(tmp_path)
    messages = []
    try:
        files = download_project("priv1", tmp_path / "dl", tmp_path / "dl" / "manifest.json", api_base=api,
                                 sleep=lambda s: None, log=messages.append)
    finally:
        server.shutdown()
    assert sorted(f["path"] for f in files) == ["fixations.csv", "stimuli/a.jpg"]
    assert server.authorizations and set(server.authorizations) == {f"Bearer {TOKEN}"}
    assert any("OSF_TOKEN" in m for m in messages) and not any(TOKEN in m for m in messages)
    written = [p for p in (tmp_path / "dl").rglob("*") if p.is_file()]
    assert written and not any(TOKEN.encode() in p.read_bytes() for p in written)


def test_token_is_not_forwarded_on_a_redirect_off_osf():
    import urllib.request
    from email.message import Message

    from meaningmaps.data.osf import _KeepTokenOnTrustedHosts

    handler = _KeepTokenOnTrustedHosts("https://api.osf.io/v2")
    for target, kept in (("https://files.osf.io/v1/resources/abc12/x", True),
                         ("https://storage.googleapis.com/bucket/x?sig=1", False)):
        req = urllib.request.Request("https://osf.io/download/x/", headers={"Authorization": f"Bearer {TOKEN}"})
        new = handler.redirect_request(req, None, 302, "Found", Message(), target)
        assert (new.get_header("Authorization") == f"Bearer {TOKEN}") is kept, target
