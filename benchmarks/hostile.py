"""The thirteen-source hostile scenario with default settings: does one fetch finish, and what did it keep?

    .venv/bin/python benchmarks/hostile.py [--runs 2]

Serves the hosts of tests/fixtures/site/hostile.py on 127.0.0.80-92 from this process (a well-behaved site
with 8 articles; twelve hosts each with a list of two normal articles and one hostile URL: a drip, a gzip
bomb, a 60 MB page without length, a spider trap, endless pagination, redirects off-site / to a metadata
address / in a loop, a PNG sent as text/html, a truncated body, a reset, a silent server, 100,000 nested
divs, a billion-laughs feed) and runs `civic-ingest fetch` on them with no [fetch] table — the shipped
defaults (deadline 30 s, timeout 10 s, 3 retries, 8 MiB cap). Prints, per run, the wall time (Prefect's
temporary server included) and the flow's own time, peak memory of the command's process tree (PSS),
the normal articles loaded, the hostile URLs logged with their reason, documents from hostile URLs; then
one JSON line. Expected: ~1 min per run on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import duckdb  # noqa: E402

from benchmarks.run import BIN, run_command  # noqa: E402
from flows.sources.web import canonical_url  # noqa: E402
from tests.fixtures.site.hostile import HostileHosts  # noqa: E402

TARGET_SECONDS = 120.0
STAMP = re.compile(r"^(\d\d):(\d\d):(\d\d\.\d+) \|")
COMMITTED = re.compile(r"batch committed: (\d+) articles")


def seconds_to_all_committed(output: str, articles: int) -> float | None:
    """Seconds from the flow run's start to the commit that brought its articles to `articles` (from its log)."""
    start, total = None, 0
    for line in output.splitlines():
        stamp = STAMP.match(line)
        if not stamp:
            continue
        at = int(stamp[1]) * 3600 + int(stamp[2]) * 60 + float(stamp[3])
        if start is None and "Beginning flow run" in line:
            start = at
        found = COMMITTED.search(line)
        if found and start is not None:
            total += int(found[1])
            if total >= articles:
                return round(at - start, 1)
    return None


TARGET_PEAK_BYTES = 1.5 * 1024**3


def check(hosts: HostileHosts, db: Path) -> dict[str, Any]:
    """What the warehouse says after a run: articles loaded, hostile URLs logged, documents from them."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        docs = {uri for (uri,) in con.execute("SELECT uri FROM documents").fetchall()}
        errors = dict(con.execute("SELECT url, error FROM fetch_log WHERE error IS NOT NULL").fetchall())
        rejects = dict(con.execute("SELECT uri, reason FROM rejects").fetchall())
        flow_seconds = con.execute(
            "SELECT epoch(finished_at) - epoch(started_at) FROM runs ORDER BY finished_at DESC LIMIT 1"
        ).fetchone()
    finally:
        con.close()
    normal = {canonical_url(url) for _, url in hosts.normal_articles}
    logged, reasons = 0, {}
    for case in hosts.hostile:
        url = canonical_url(hosts.host(case.source).url(case.path))
        reason = (errors if case.logged_in == "fetch_log" else rejects).get(url)
        reasons[f"{case.source} {case.path}"] = reason
        logged += bool(reason and case.expect in reason)
    return {
        "flow_seconds": round(float(flow_seconds[0]), 1) if flow_seconds else None,
        "normal_loaded": len(normal & docs),
        "normal_total": len(normal),
        "hostile_logged": logged,
        "hostile_total": len(hosts.hostile),
        "documents_from_hostile_urls": len(docs - normal),
        "documents": len(docs),
        "reasons": reasons,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    hosts = HostileHosts(first_octet=80)
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="hostile-bench-") as tmp, hosts.serving():
        work = Path(tmp)
        sources = work / "sources.toml"
        sources.write_text(hosts.sources_toml(), encoding="utf-8")  # no [fetch]: the defaults
        db = work / "warehouse.duckdb"
        env = {**os.environ, "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "PREFECT_LOGGING_LEVEL": "INFO"}
        for n in range(args.runs):
            m = run_command([str(BIN / "civic-ingest"), "fetch", "--sources", str(sources), "--db", str(db)], env)
            found = check(hosts, db)
            found.update(run=n + 1, wall=round(m.wall, 1), cpu=round(m.cpu, 1), peak_mib=round(m.peak_rss / 2**20))
            if n == 0:  # when the normal articles were all in the warehouse, while hostile URLs were still pending
                found["all_normal_committed_s"] = seconds_to_all_committed(m.output, len(hosts.normal_articles))
            found["ok"] = (
                m.wall < TARGET_SECONDS
                and m.peak_rss < TARGET_PEAK_BYTES
                and found["normal_loaded"] == found["normal_total"]
                and found["hostile_logged"] == found["hostile_total"]
                and found["documents_from_hostile_urls"] == 0
            )
            results.append(found)
    for r in results:
        print(
            f"run {r['run']}: {r['wall']:.1f} s wall (flow {r['flow_seconds']} s), cpu {r['cpu']:.1f} s, "
            f"peak {r['peak_mib']} MiB | normal articles {r['normal_loaded']}/{r['normal_total']}, "
            f"hostile URLs logged {r['hostile_logged']}/{r['hostile_total']}, "
            f"documents from hostile URLs {r['documents_from_hostile_urls']}, documents {r['documents']} "
            f"| {'OK' if r['ok'] else 'MISSED'}"
        )
    print(f"first run: all normal articles committed {results[0]['all_normal_committed_s']} s into the flow")
    for key, reason in results[0]["reasons"].items():
        print(f"  {key}: {reason}")
    print(json.dumps([{k: v for k, v in r.items() if k != "reasons"} for r in results]))
    return 0 if all(r["ok"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
