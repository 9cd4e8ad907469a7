"""``python -m authadapter.demo``: the whole library, end to end, on this machine alone.

It starts a small registry on loopback that demands three kinds of
credentials, stores them with the ``authadapter login`` command into a
throw-away credentials file (``RATTLER_AUTH_FILE``, never your real stores),
and fetches through httpx and requests with ``RegistryAuth()`` and no other
set-up. What the server received is printed with secrets masked.
"""

from __future__ import annotations

import base64
import http.server
import json
import os
import secrets
import sys
import tempfile
import threading
from pathlib import Path

__all__ = ["main"]

REPODATA = json.dumps({"info": {"subdir": "noarch"}, "packages": {}, "packages.conda": {}})


class _Registry:
    """Three loopback "hosts" on 127.0.0.1-3, each wanting one kind of credential."""

    def __init__(self, bearer: str, basic: tuple[str, str], conda: str) -> None:
        user_pass = base64.b64encode(f"{basic[0]}:{basic[1]}".encode()).decode()
        self.expected = {
            "127.0.0.1": ("Authorization", f"Bearer {bearer}"),
            "127.0.0.2": ("Authorization", f"Basic {user_pass}"),
            "127.0.0.3": ("path", f"/t/{conda}/"),
        }
        self.log: list[str] = []
        self.servers = [self._serve(host) for host in self.expected]

    def _serve(self, host: str) -> http.server.ThreadingHTTPServer:
        registry = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                where, value = registry.expected[host]
                ok = (
                    self.headers.get("Authorization") == value
                    if where == "Authorization"
                    else self.path.startswith(value)
                )
                header = self.headers.get("Authorization")
                shown = f"{header.split(' ')[0]} ***" if header else "(none)"
                path = self.path.replace(value, "/t/***/") if where == "path" else self.path
                client = self.headers.get("User-Agent", "?").split("/")[0]
                status = 200 if ok else 401
                registry.log.append(
                    f"   {client:<16} {host}  {path:<42} Authorization: {shown:<10} -> {status}"
                )
                body = REPODATA.encode() if ok else b"credentials required\n"
                self.send_response(200 if ok else 401)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        server = http.server.ThreadingHTTPServer((host, 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server

    def url(self, index: int, path: str) -> str:
        host = list(self.expected)[index]
        return f"http://{host}:{self.servers[index].server_address[1]}{path}"

    def close(self) -> None:
        for server in self.servers:
            server.shutdown()
            server.server_close()


def main() -> int:
    from . import RegistryAuth
    from .cli import main as cli

    bearer, conda = secrets.token_hex(12), secrets.token_hex(12)
    basic = ("mirror-bot", secrets.token_hex(12))
    registry = _Registry(bearer, basic, conda)
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["RATTLER_AUTH_FILE"] = str(Path(tmp) / "credentials.json")
        print("1. Store credentials with the CLI (into a throw-away RATTLER_AUTH_FILE):")
        logins = (
            ["--token", bearer],
            ["--username", basic[0], "--password", basic[1]],
            ["--conda-token", conda],
        )
        for index, args in enumerate(logins):
            host = registry.url(index, "").split("//")[1].split(":")[0]  # as pixi keys it
            print(f"   $ authadapter login {host} {args[0]} ***")
            if cli(["login", host, *args]) != 0:
                return 1
        print("\n2. Fetch with httpx and requests, auth=RegistryAuth() and nothing else:")
        import httpx
        import requests

        auth = RegistryAuth()
        session = requests.Session()
        session.auth = auth
        statuses = []
        with httpx.Client(auth=auth) as client:
            paths = ("/simple/", "/pypi/simple/", "/demo-channel/noarch/repodata.json")
            for index, path in enumerate(paths):
                url = registry.url(index, path)
                statuses.append(client.get(url).status_code)
                statuses.append(session.get(url).status_code)
        print("   what the registry received:")
        print("\n".join(registry.log))
        print("\n3. Which store answers for a URL:")
        print(f"   $ authadapter which {registry.url(2, '/demo-channel/')}")
        cli(["which", registry.url(2, "/demo-channel/")])
    registry.close()
    ok = all(status == 200 for status in statuses)
    print("\nAll requests authenticated." if ok else "\nSome requests were refused.")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
