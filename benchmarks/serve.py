"""A static web server for the fetch benchmark: the corpus folder over HTTP/1.1 on 127.0.0.1, in its own process.

    .venv/bin/python benchmarks/serve.py DIR        # prints "http://127.0.0.1:PORT" once listening

It stands in for the government sites, which in real use run on other machines: what it costs here is CPU
the fetch being measured cannot use. So it is kept cheap, as nginx would be — keep-alive connections,
one asyncio loop, files read as they are asked for — instead of http.server, which parses headers with
the email package and takes a thread and a TCP connection per request (measured on 1,000 pages of 109 KiB:
0.8 ms of CPU per page there, 0.56 ms here, and the client saves its connection set-up too). It answers GET
and HEAD with Content-Type, Content-Length, ETag and Last-Modified, 304 to a matching If-None-Match or
If-Modified-Since, and 404/405/400.
"""

from __future__ import annotations

import asyncio
import hashlib
import sys
from email.utils import formatdate, parsedate_to_datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit

TYPES = {".html": "text/html", ".htm": "text/html", ".txt": "text/plain", ".xml": "application/xml"}
MAX_HEADER_BYTES = 64 * 1024


def resolve(root: Path, target: str) -> Path | None:
    """The file a request target names inside root (a folder gives its index.html); None when there is none."""
    path = (root / unquote(urlsplit(target).path).lstrip("/")).resolve()
    if path.is_dir():
        path = path / "index.html"
    if not path.is_file() or not path.is_relative_to(root):
        return None
    return path


def response(status: str, headers: dict[str, str], body: bytes = b"") -> bytes:
    lines = [f"HTTP/1.1 {status}", *(f"{k}: {v}" for k, v in headers.items()), "", ""]
    return "\r\n".join(lines).encode("latin-1") + body


def not_modified(request: dict[str, str], etag: str, mtime: float) -> bool:
    """True when the client's validators say it has this version already (If-None-Match wins)."""
    if "if-none-match" in request:
        return etag in (t.strip() for t in request["if-none-match"].split(","))
    if "if-modified-since" in request:
        try:
            return int(mtime) <= parsedate_to_datetime(request["if-modified-since"]).timestamp()
        except (TypeError, ValueError):
            return False
    return False


def answer(root: Path, method: str, target: str, request: dict[str, str]) -> bytes:
    if method not in ("GET", "HEAD"):
        return response("405 Method Not Allowed", {"Allow": "GET, HEAD", "Content-Length": "0"})
    path = resolve(root, target)
    if path is None:
        return response("404 Not Found", {"Content-Type": "text/plain", "Content-Length": "9"}, b"not found")
    stat = path.stat()
    etag = '"' + hashlib.blake2b(f"{stat.st_mtime_ns}-{stat.st_size}".encode(), digest_size=8).hexdigest() + '"'
    validators = {"ETag": etag, "Last-Modified": formatdate(stat.st_mtime, usegmt=True)}
    if not_modified(request, etag, stat.st_mtime):
        return response("304 Not Modified", validators)
    body = path.read_bytes()
    headers = {"Content-Type": TYPES.get(path.suffix, "application/octet-stream"), "Content-Length": str(len(body))}
    return response("200 OK", {**headers, **validators}, b"" if method == "HEAD" else body)


async def handle(root: Path, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Requests of one connection, one after the other, until the client closes it."""
    try:
        while True:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
                return
            request_line, *lines = head.decode("latin-1").split("\r\n")
            parts = request_line.split()
            if len(parts) != 3:
                writer.write(response("400 Bad Request", {"Content-Length": "0", "Connection": "close"}))
                await writer.drain()
                return
            headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines if line)}
            writer.write(answer(root, parts[0], parts[1], headers))
            await writer.drain()
            if headers.get("connection", "").lower() == "close" or parts[2] == "HTTP/1.0":
                return
    finally:
        writer.close()


async def main(root: Path) -> None:
    server = await asyncio.start_server(lambda r, w: handle(root, r, w), "127.0.0.1", 0, limit=MAX_HEADER_BYTES)
    port = server.sockets[0].getsockname()[1]
    print(f"http://127.0.0.1:{port}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]).resolve()))
