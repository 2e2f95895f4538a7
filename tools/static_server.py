"""Serve a built site on loopback the way GitHub Pages does: gzip for text, 404.html for misses.

Used by the tests, the benchmark and Lighthouse, so that what they measure is what a reader
gets from the published site (python's http.server alone sends everything uncompressed).

    python tools/static_server.py site 8000
"""

from __future__ import annotations

import functools
import gzip
import http.server
import sys
import threading
from pathlib import Path

# Types GitHub Pages compresses (text formats and SVG); fonts and images are sent as they are.
COMPRESSIBLE = {".html", ".css", ".js", ".json", ".svg", ".xml", ".txt", ".py", ".ipynb", ".map"}


def gzip_body(data: bytes) -> bytes:
    """The body as this server sends it to a browser that accepts gzip (page_weight and bench count these bytes)."""
    return gzip.compress(data, compresslevel=6)


class SiteHandler(http.server.SimpleHTTPRequestHandler):
    """Static files with gzip content encoding and the site's own 404 page."""

    _gzip_cache: dict[tuple[str, float], bytes] = {}

    def log_message(self, *args):
        pass

    def send_head(self):
        path = Path(self.translate_path(self.path))
        if path.is_dir():
            if not self.path.split("?", 1)[0].endswith("/"):
                return super().send_head()  # the standard redirect to the slash form
            path = path / "index.html"
        wants_gzip = "gzip" in self.headers.get("Accept-Encoding", "")
        if not (wants_gzip and path.suffix in COMPRESSIBLE and path.is_file()):
            return super().send_head()
        key = (str(path), path.stat().st_mtime)
        body = self._gzip_cache.get(key)
        if body is None:
            body = self._gzip_cache[key] = gzip_body(path.read_bytes())
        self.send_response(200)
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Vary", "Accept-Encoding")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "max-age=600")  # what GitHub Pages sends
        self.end_headers()
        return _BytesReader(body)

    def send_error(self, code, message=None, explain=None):
        page = Path(self.directory) / "404.html"
        if code != 404 or not page.exists():
            return super().send_error(code, message, explain)
        body = page.read_bytes()
        self.send_response(404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


class _BytesReader:
    """The file-like object send_head returns; copyfile() reads it."""

    def __init__(self, data: bytes):
        self.data = data

    def read(self, size: int = -1) -> bytes:
        data, self.data = (self.data, b"") if size < 0 else (self.data[:size], self.data[size:])
        return data

    def close(self):
        pass


def serve(directory: Path | str, port: int = 0) -> tuple[http.server.ThreadingHTTPServer, str]:
    """Start serving `directory` on 127.0.0.1 in a daemon thread; return the server and its base URL."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), functools.partial(SiteHandler, directory=str(directory)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


if __name__ == "__main__":
    server, url = serve(sys.argv[1] if len(sys.argv) > 1 else "site", int(sys.argv[2]) if len(sys.argv) > 2 else 8000)
    print(f"Serving {sys.argv[1] if len(sys.argv) > 1 else 'site'} at {url} (Ctrl+C to stop)")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        server.shutdown()
