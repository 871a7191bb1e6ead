"""Download and decode pages alone, as the fetcher does, and print one JSON line (run by benchmarks/run.py).

    .venv/bin/python benchmarks/download.py SOURCES_TOML URL_FILE

The project's WebClient (robots.txt, the source's rate limit, retries, size cap) fetches every URL of the
file in order — the fetcher gives each host one thread — and parsers.decode.decode_bytes decodes each page.
Nothing is parsed or loaded: this is the "downloading and decoding alone" figure of the benchmark. It runs
in its own process so that the HTTP server in the benchmark process does not share its interpreter.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from flows.sources.config import load_sources
from flows.sources.web import WebClient
from parsers.decode import decode_bytes


def main() -> int:
    config = load_sources(sys.argv[1])
    urls = Path(sys.argv[2]).read_text(encoding="utf-8").split()
    source = config.sources[0]
    client = WebClient.for_sources(config.fetch, config.sources)
    started = time.perf_counter()
    ok = chars = 0
    try:
        for url in urls:
            result = client.fetch(url, allowed=source.allows)
            if result.is_ok:
                chars += len(decode_bytes(result.content, uri=url, http_charset=result.charset, is_html=True))
                ok += 1
    finally:
        client.close()
    seconds = time.perf_counter() - started
    print(json.dumps({"pages": len(urls), "ok": ok, "chars": chars, "seconds": round(seconds, 3)}))
    return 0 if ok == len(urls) else 1


if __name__ == "__main__":
    sys.exit(main())
