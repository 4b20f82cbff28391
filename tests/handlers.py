"""Running the built-in Lambda handlers locally: import one as its package lays it out, and a
stand-in for the address service (checkip.amazonaws.com) on loopback."""

from __future__ import annotations

import contextlib
import http.server
import importlib.util
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parent.parent
SRC = REPO / "lambda_src"


def load(name: str) -> ModuleType:
    """Import a handler the way its Lambda package lays it out: staticip/ importable beside it."""
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    spec = importlib.util.spec_from_file_location(f"{name}_handler", SRC / name / "handler.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@contextlib.contextmanager
def checkip(answer: str) -> Iterator[str]:
    """A URL on loopback that answers every GET with `answer`, as the address service does
    with the caller's public IP."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.end_headers()
            self.wfile.write(f"{answer}\n".encode())

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
