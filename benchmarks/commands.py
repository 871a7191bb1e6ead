"""What a command costs as a user runs it: first and second command, with and without PREFECT_API_URL,
and the unchanged re-run against the first ingest, both as `civic-ingest ingest` commands in a row.

    .venv/bin/python benchmarks/commands.py [--pages 1000]       # ~2-3 min on 2 cores

Every measure is one command started as a child process, wall clock and CPU (user + system of the command
and its children); a machine busy with other work shows up as wall >> CPU. In order:

  no PREFECT_API_URL, a fresh Prefect home:
    first      ingest of the seeds into a new warehouse: starts the background server, then the flow run
    second     the same command again: nothing changed, decided before Prefect is imported
    changed    one seed edited, into the same warehouse: a flow run against the running server
  PREFECT_API_URL set (to that server; an empty Prefect home, so nothing could be started):
    first      ingest of the seeds into another new warehouse
    second     the same command again
  the generated corpus (benchmarks/corpus.py, under bench-out/):
    ingest     `civic-ingest ingest DIR/pages` into a new warehouse (server up)
    re-run     the same command again, nothing changed
    report     `civic-ingest report` of that warehouse (file size, seconds)
The server the benchmark started is stopped at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from corpus import ensure_corpus  # benchmarks/corpus.py, beside this file

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench-out" / "commands"
CLI = str(Path(sys.executable).parent / "civic-ingest")
TARGETS = {"unchanged seeds, server up (s)": 3.0, "re-run / ingest": 0.10}


@dataclass
class Measure:
    wall: float
    cpu: float
    stdout: str
    stderr: str


def run(args: list[str], env: dict[str, str]) -> Measure:
    """One command, timed; raises when it fails."""
    started = time.perf_counter()
    proc = subprocess.Popen([CLI, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = proc.communicate()
    wall = time.perf_counter() - started
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"{' '.join(args)} failed ({proc.returncode}):\n{err[-3000:]}")
    return Measure(wall, 0.0, out, err)


def run_timed(args: list[str], env: dict[str, str]) -> Measure:
    """run() with the CPU seconds the command and its children used."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    m = run(args, env)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    m.cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return m


def environment(home: Path, api_url: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PREFECT_API_URL", "PREFECT_HOME")}
    env.update(PREFECT_HOME=str(home), CIVIC_PREFECT_PORT="0")
    if api_url:
        env["PREFECT_API_URL"] = api_url
    return env


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=1000, help="generated pages for the re-run ratio (≤ 1,000)")
    args = parser.parse_args()
    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir(parents=True)
    seeds = OUT / "seeds"
    shutil.copytree(ROOT / "seeds", seeds)
    home = OUT / "prefect"
    env = environment(home)
    results: dict[str, float | int | str] = {"loadavg_before": round(os.getloadavg()[0], 1)}
    rows: list[tuple[str, Measure]] = []
    sys.path.insert(0, str(ROOT))
    from flows.prefect_server import read_state, stop_server

    try:
        db = str(OUT / "local" / "warehouse.duckdb")
        print("no PREFECT_API_URL: first command (starts the server) ...", file=sys.stderr)
        rows.append(("no API URL: first (starts server)", run_timed(["ingest", str(seeds), "--db", db], env)))
        rows.append(("no API URL: second (unchanged)", run_timed(["ingest", str(seeds), "--db", db], env)))
        edited = sorted(seeds.glob("*.txt"))[0]
        edited.write_text(
            edited.read_text(encoding="utf-8") + "\n截至2023年底，全省社会组织7.9万家。\n", encoding="utf-8"
        )
        rows.append(("no API URL: changed seed (flow run)", run_timed(["ingest", str(seeds), "--db", db], env)))
        state = read_state(home)
        assert state is not None, "the first command recorded no server"

        api_env = environment(OUT / "empty-home", state.api_url)
        db2 = str(OUT / "api" / "warehouse.duckdb")
        print("PREFECT_API_URL set ...", file=sys.stderr)
        rows.append(("API URL set: first (flow run)", run_timed(["ingest", str(seeds), "--db", db2], api_env)))
        rows.append(("API URL set: second (unchanged)", run_timed(["ingest", str(seeds), "--db", db2], api_env)))

        corpus = ROOT / "bench-out" / f"corpus-{args.pages}"
        ensure_corpus(corpus, args.pages)
        db3 = str(OUT / "corpus" / "warehouse.duckdb")
        print(f"corpus of {args.pages} pages: ingest, re-run, report ...", file=sys.stderr)
        first = run_timed(["ingest", str(corpus / "pages"), "--db", db3], env)
        again = run_timed(["ingest", str(corpus / "pages"), "--db", db3], env)
        rows += [(f"corpus {args.pages} pages: ingest", first), (f"corpus {args.pages} pages: re-run", again)]
        report = OUT / "corpus" / "report.html"
        rows.append(
            (f"corpus {args.pages} pages: report", run_timed(["report", "--db", db3, "--out", str(report)], env))
        )
        results["report_mib"] = round(report.stat().st_size / 2**20, 2)
    finally:
        stop_server(home)
    results["rerun_ratio"] = round(again.wall / first.wall, 3)
    results["loadavg_after"] = round(os.getloadavg()[0], 1)

    width = max(len(name) for name, _ in rows)
    print(f"{'command':<{width}}  {'wall s':>7}  {'CPU s':>6}")
    for name, m in rows:
        print(f"{name:<{width}}  {m.wall:7.2f}  {m.cpu:6.2f}")
        results[name] = round(m.wall, 2)
    unchanged = rows[1][1].wall
    print(
        f"\nunchanged seeds, server up: {unchanged:.2f} s (target ≤ {TARGETS['unchanged seeds, server up (s)']} s)"
        f"\nre-run / ingest on {args.pages} pages: {again.wall:.2f} / {first.wall:.2f} = {results['rerun_ratio']}"
        f" (target ≤ {TARGETS['re-run / ingest']})"
        f"\nreport of {args.pages} pages: {results['report_mib']} MiB"
        f"\nload average {results['loadavg_before']} before, {results['loadavg_after']} after (2 cores)"
    )
    print(json.dumps(results, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
