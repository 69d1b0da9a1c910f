"""A minimal local fake of the OSF API v2 serving a folder tree: for workflow-level tests."""

from __future__ import annotations

import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit


def serve_tree(root: Path, node: str, token: str | None = None):
    """Start a server for ``root``'s files as OSF project ``node``; return (server, api_base).
    ``token``: a private project: every request must carry ``Authorization: Bearer <token>`` (else
    HTTP 401); ``server.authorizations`` lists the Authorization header of every request."""
    root = Path(root)
    authorizations: list = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def _base(self):
            host, port = self.server.server_address[:2]
            return f"http://{host}:{port}"

        def _item(self, path: Path):
            rel = path.relative_to(root).as_posix()
            if path.is_dir():
                return {"attributes": {"kind": "folder", "name": path.name, "materialized_path": f"/{rel}/"},
                        "relationships": {"files": {"links": {"related": {
                            "href": f"{self._base()}/v2/folders/{quote(rel)}/"}}}}}
            data = path.read_bytes()
            return {"attributes": {"kind": "file", "name": path.name, "materialized_path": f"/{rel}",
                                   "size": len(data),
                                   "extra": {"hashes": {"md5": hashlib.md5(data).hexdigest(),
                                                        "sha256": hashlib.sha256(data).hexdigest()}}},
                    "links": {"download": f"{self._base()}/download/{quote(rel)}"}}

        def _send(self, body: bytes, ctype: str, status: int = 200):
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            path = unquote(urlsplit(self.path).path)
            authorizations.append(self.headers.get("Authorization"))
            if token is not None and self.headers.get("Authorization") != f"Bearer {token}":
                return self._send(b'{"errors": [{"detail": "Authentication credentials were not provided."}]}',
                                  "application/json", 401)
            if path == f"/v2/nodes/{node}/files/osfstorage/":
                folder = root
            elif path.startswith("/v2/folders/"):
                folder = root / path[len("/v2/folders/"):].strip("/")
            elif path.startswith("/download/") and (root / path[len("/download/"):]).is_file():
                return self._send((root / path[len("/download/"):]).read_bytes(), "application/octet-stream")
            else:
                return self._send(b'{"errors": []}', "application/json", 404)
            listing = {"data": [self._item(p) for p in sorted(folder.iterdir())], "links": {"next": None}}
            self._send(json.dumps(listing).encode(), "application/vnd.api+json")

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.authorizations = authorizations
    threading.Thread(target=server.serve_forever, daemon=True).start()
    host, port = server.server_address[:2]
    return server, f"http://{host}:{port}/v2"
