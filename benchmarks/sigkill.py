"""SIGKILL a 2,000-page fetch half-way: is every page parsed before the kill in the warehouse?

    .venv/bin/python benchmarks/sigkill.py [--pages 2000]

Generates (or reuses) the benchmark corpus (benchmarks/corpus.py), serves it on 127.0.0.1
(benchmarks/serve.py, its own process) and runs `civic-ingest fetch` with the rate limit lifted. The fetch
logs each batch when it is parsed and again when it is committed; 1.5 s after half the pages are reported
parsed (so the kill lands wherever the fetch happens to be, not on a log line), the command's process group
gets SIGKILL (no clean-up of any kind runs). Then it reports: pages parsed before the kill (as logged),
how many of them were committed and are in the warehouse, how long a batch took to commit (the only moment
a parsed page is not yet durable), and whether a second fetch loads the rest and nothing twice. Prints a table, then one JSON line. ~3 min on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import duckdb  # noqa: E402

from benchmarks.run import CLI, run_command, serve, stop  # noqa: E402

PARSED = re.compile(r"batch parsed: (\d+) pages fetched, (\d+) articles parsed")
COMMITTED = re.compile(r"batch committed: (\d+) articles in ([0-9.]+) s")
KILL_DELAY_SECONDS = 1.5


def corpus(pages: int) -> Path:
    folder = ROOT / "bench-out" / f"corpus-{pages}"
    subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "corpus.py"), str(folder), "--pages", str(pages)], check=True
    )
    return folder


def documents(db: Path) -> int:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return int(con.execute("SELECT count(*) FROM documents").fetchone()[0])  # type: ignore[index]
    finally:
        con.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=2000)
    args = parser.parse_args()
    folder = corpus(args.pages)
    work = ROOT / "bench-out" / "sigkill"
    work.mkdir(parents=True, exist_ok=True)
    db = work / "warehouse.duckdb"
    for stale in work.glob("warehouse*"):
        stale.unlink()
    server, base = serve(folder)
    try:
        sources = work / "sources.toml"
        sources.write_text(
            f'[[source]]\nname = "bench"\nstart_urls = ["{base}/lists/all.html"]\narticle_url_pattern = "/pages/"\n'
            "rate_limit = 100000.0\nmax_list_pages = 1\n",
            encoding="utf-8",
        )
        env = {**os.environ, "PREFECT_LOGGING_LEVEL": "INFO", "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
        command = [CLI, "fetch", "--sources", str(sources), "--db", str(db)]
        lines: list[tuple[float, str]] = []
        started = time.monotonic()
        proc = subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
        )

        def read() -> None:
            for line in proc.stdout or []:
                lines.append((time.monotonic(), line))

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        parsed = 0
        while proc.poll() is None and parsed < args.pages // 2:
            time.sleep(0.05)
            parsed = sum(int(m[2]) for _, line in list(lines) if (m := PARSED.search(line)))
        time.sleep(KILL_DELAY_SECONDS)
        killed_at = time.monotonic()
        os.killpg(proc.pid, signal.SIGKILL)  # the fetch and its parser processes: our own process group
        proc.wait()
        reader.join(timeout=5)
        before = [line for at, line in lines if at <= killed_at]
        parsed = sum(int(m[2]) for line in before if (m := PARSED.search(line)))
        committed = sum(int(m[1]) for line in before if (m := COMMITTED.search(line)))
        commit_seconds = [float(m[2]) for line in before if (m := COMMITTED.search(line))]
        batch_sizes = [int(m[1]) for line in before if (m := COMMITTED.search(line))]
        in_warehouse = documents(db)
        rerun = run_command(command, {**env, "PREFECT_LOGGING_LEVEL": "WARNING"})
        fetched_again = re.search(r"fetched\s+bench: .*?200 (\d+)", rerun.output)
        result: dict[str, Any] = {
            "pages": args.pages,
            "killed_after_s": round(killed_at - started, 1),
            "parsed_before_kill": parsed,
            "committed_before_kill": committed,
            "in_warehouse_after_kill": in_warehouse,
            "parsed_but_lost": max(0, parsed - in_warehouse),
            "batches_committed": len(commit_seconds),
            "batch_articles_mean": round(sum(batch_sizes) / len(batch_sizes), 1) if batch_sizes else 0,
            "commit_s_mean": round(sum(commit_seconds) / len(commit_seconds), 3) if commit_seconds else None,
            "commit_s_max": round(max(commit_seconds), 3) if commit_seconds else None,
            "rerun_wall_s": round(rerun.wall, 1),
            "rerun_pages_fetched": int(fetched_again[1]) if fetched_again else 0,
            "after_rerun_documents": documents(db),
        }
    finally:
        stop(server)
    rows = [
        ("killed after", f"{result['killed_after_s']} s (SIGKILL to the process group)"),
        ("pages parsed before the kill", result["parsed_before_kill"]),
        ("of them reported committed", result["committed_before_kill"]),
        ("parsed, its commit under way at the kill", result["parsed_before_kill"] - result["committed_before_kill"]),
        ("articles in the warehouse after the kill", result["in_warehouse_after_kill"]),
        ("parsed but not in the warehouse", result["parsed_but_lost"]),
        (
            "a batch's commit",
            f"{result['commit_s_mean']} s mean, {result['commit_s_max']} s max "
            f"({result['batches_committed']} batches, {result['batch_articles_mean']} articles each)",
        ),
        ("re-run", f"{result['rerun_wall_s']} s, fetched {result['rerun_pages_fetched']} pages (the list included)"),
        ("documents after the re-run", f"{result['after_rerun_documents']} of {args.pages}"),
    ]
    for label, value in rows:
        print(f"{label:<42} {value}")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
