"""`make bench`: bare trafilatura vs the whole pipeline on a generated corpus; a table and one JSON line.

    .venv/bin/python benchmarks/run.py [--pages 5000] [--quick] [--rss-series] [--repeat K] [--ephemeral]

In one run, on the same generated pages (benchmarks/corpus.py, cached under bench-out/, never committed):
  bare      read + parsers.decode.decode_bytes + trafilatura.extract(str) per page, one process (the anchor)
  ingest    `civic-ingest ingest DIR --db FRESH` end to end (process start, Prefect, parse, load, snapshot)
  re-run    the same command on the unchanged corpus
  load      the rows of that warehouse loaded again into a new one, alone (benchmarks/load.py)
  download  the served pages downloaded by the project's WebClient and decoded, nothing else (benchmarks/download.py)
  fetch     `civic-ingest fetch` of the corpus served on 127.0.0.1 (benchmarks/serve.py), rate limit lifted
Each command runs as a child process; its peak memory is the largest sum of PSS over its process tree (polled
from /proc every 250 ms: the ingest process plus its parser workers, shared pages counted once). Per-stage times come from the run's summary in the
warehouse's `runs` table. Flows report to a `prefect server` the benchmark starts (as scheduled deployments
do); --ephemeral lets each command start Prefect's temporary server instead (+8-20 s per command).
Times are wall clock of one pass, or the best of --repeat passes; CPU seconds are shown beside them so a
machine busy with other work shows up as wall >> CPU / cores.
Expected duration on 2 cores: ~8.5 min for the default 5,000 pages (bare ~210 s, ingest ~100 s, fetch ~165 s),
~1.5 min with --quick (300 pages); --rss-series adds ingests of 1k and 20k pages (~8 min, 3 GB under bench-out/).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import trafilatura
from corpus import ensure_corpus  # benchmarks/corpus.py, beside this file

from parsers.decode import decode_bytes

ROOT = Path(__file__).resolve().parents[1]

OUT = ROOT / "bench-out"
BIN = Path(sys.executable).parent
CLI = str(BIN / "civic-ingest")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
# Reading smaps_rollup of a large process tree is not free: every 50 ms it took half a core from the run
# being measured; memory peaks last seconds (the load, the end of the run), far longer than this.
SAMPLE_SECONDS = 0.25
TARGETS = {
    "ingest / bare": 1.0,  # never worse than 1.3
    "re-run / ingest": 0.10,
    "load rows/s": 200_000,
    "peak RSS MiB at 5k": 1024,
    "fetch download+decode pages/s": 200,
    "fetch / ingest": 1.2,
}


@dataclass
class Measure:
    wall: float
    cpu: float  # user + system seconds of the process tree (descendants as last sampled)
    peak_rss: int = 0  # bytes, largest process-tree sum of PSS
    max_rss: int = 0  # bytes, largest RSS of one process of the tree
    output: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


# -- measuring ------------------------------------------------------------------------------------------------
def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a running process so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime


def sample_tree(pid: int, cpu: dict[int, float]) -> int:
    """Memory of a process and all its descendants (Linux /proc); updates pid -> CPU seconds so far.

    The sum of PSS (proportional set size), not of RSS: forked parser workers share the parent's pages,
    and RSS would count those once per process.
    """
    total, stack = 0, [pid]
    while stack:
        p = stack.pop()
        try:
            with open(f"/proc/{p}/smaps_rollup") as f:
                total += next(int(line.split()[1]) * 1024 for line in f if line.startswith("Pss:"))
            cpu[p] = cpu_seconds(p)
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    stack += [int(c) for c in f.read().split()]
        except (OSError, ValueError):
            continue
    return total


def run_command(args: Sequence[str], env: dict[str, str]) -> Measure:
    """Run a command, sampling its tree's RSS; raises when it fails."""
    started = time.perf_counter()
    with subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as proc:
        peak, cpu = 0, {}
        chunks: list[str] = []
        reader = threading.Thread(target=lambda: chunks.append(proc.stdout.read() if proc.stdout else ""))
        reader.start()
        while True:
            _, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if _:
                break
            peak = max(peak, sample_tree(proc.pid, cpu))
            time.sleep(SAMPLE_SECONDS)
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        reader.join()
    output = "".join(chunks)
    if proc.returncode not in (0, 1):  # 1: finished with rejects
        raise RuntimeError(f"{' '.join(args)} failed ({proc.returncode}):\n{output[-3000:]}")
    peak = peak or usage.ru_maxrss * 1024  # a process that lived shorter than one sample
    max_rss = usage.ru_maxrss * 1024  # largest of the process and the descendants it waited for
    cpu.setdefault(proc.pid, usage.ru_utime + usage.ru_stime)  # a process that lived shorter than one sample
    return Measure(wall, sum(cpu.values()), peak, max_rss, output)


def best_of(repeat: int, measure: Callable[[], Measure]) -> Measure:
    return min((measure() for _ in range(repeat)), key=lambda m: m.wall)


def run_script(name: str, args: Sequence[str], env: dict[str, str]) -> dict[str, Any]:
    """Run a measuring script of benchmarks/ in its own process; returns the JSON line it prints last."""
    done = run_command([sys.executable, str(ROOT / "benchmarks" / name), *args], env)
    return dict(json.loads(done.output.strip().splitlines()[-1]))


def bare_trafilatura(files: Sequence[Path]) -> Measure:
    """The anchor: read, decode, trafilatura.extract on every page in this one process."""
    usage0, started = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    chars = 0
    for path in files:
        text = decode_bytes(path.read_bytes(), uri=str(path), is_html=True)
        chars += len(trafilatura.extract(text) or "")
    wall = time.perf_counter() - started
    usage1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = usage1.ru_utime - usage0.ru_utime + usage1.ru_stime - usage0.ru_stime
    return Measure(wall, cpu, usage1.ru_maxrss * 1024, extra={"chars": chars})


def last_run(db: Path, output: str = "") -> dict[str, Any]:
    """The summary JSON of the newest run recorded in the warehouse; raises when the run recorded none
    (it crashed: an uncaught exception also exits with 1, like a run that only had rejects)."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        row = con.execute("SELECT summary_json FROM runs ORDER BY finished_at DESC LIMIT 1").fetchone()
    finally:
        con.close()
    if not row:
        raise RuntimeError(f"the run recorded no summary in {db}:\n{output[-3000:]}")
    return dict(json.loads(row[0]))


def loaded_rows(summary: dict[str, Any]) -> int:
    """Rows written by a run: documents and their sections, paragraphs, indicators and cleaning-log rows."""
    documents = summary["articles_new"] + summary["articles_updated"]
    removals = sum(summary["removals_by_reason"].values())
    return int(documents + summary["sections"] + summary["paragraphs"] + summary["indicators"] + removals)


def ingest(corpus: Path, db: Path, env: dict[str, str], repeat: int = 1, fresh: bool = True) -> Measure:
    """`civic-ingest ingest` of the corpus pages; with fresh=True into an empty warehouse each time."""

    def once() -> Measure:
        if fresh:
            for path in db.parent.glob(db.name.split(".")[0] + "*"):
                path.unlink()
        m = run_command([CLI, "ingest", str(corpus / "pages"), "--db", str(db)], env)
        m.extra = last_run(db, m.output)
        return m

    return best_of(repeat, once)


# -- fetch ----------------------------------------------------------------------------------------------------
def serve(directory: Path) -> tuple[subprocess.Popen[str], str]:
    """The corpus over HTTP on 127.0.0.1 (benchmarks/serve.py, its own process); returns it and its base URL."""
    server = subprocess.Popen(
        [sys.executable, str(ROOT / "benchmarks" / "serve.py"), str(directory)], stdout=subprocess.PIPE, text=True
    )
    base = server.stdout.readline().strip() if server.stdout else ""
    if not base.startswith("http://"):
        stop(server)
        raise RuntimeError("benchmarks/serve.py did not start")
    return server, base


def fetch_ready(env: dict[str, str]) -> bool:
    """True when this checkout has a `civic-ingest fetch` command."""
    probe = subprocess.run([CLI, "fetch", "--help"], env=env, capture_output=True, text=True)
    return probe.returncode == 0


def measure_fetch(corpus: Path, work: Path, env: dict[str, str]) -> tuple[Measure, dict[str, Any]] | None:
    """`civic-ingest fetch` of the corpus served on 127.0.0.1 into a fresh warehouse, and the same pages
    downloaded and decoded alone (benchmarks/download.py); None when there is no fetch command.

    One source whose start page lists every article (lists/all.html), rate limit lifted.
    """
    if not fetch_ready(env):
        return None
    server, base = serve(corpus)
    try:
        sources = work / "sources.toml"
        sources.write_text(
            "[[source]]\n"
            'name = "bench"\n'
            f'start_urls = ["{base}/lists/all.html"]\n'
            'article_url_pattern = "/pages/"\n'
            "rate_limit = 100000.0\n"
            "max_list_pages = 1\n",
            encoding="utf-8",
        )
        urls = work / "urls.txt"
        pages = sorted(p.relative_to(corpus).as_posix() for p in (corpus / "pages").rglob("*") if p.is_file())
        urls.write_text("\n".join(f"{base}/{page}" for page in pages), encoding="utf-8")
        download = run_script("download.py", [str(sources), str(urls)], env)
        db = work / "fetch.duckdb"
        served = cpu_seconds(server.pid)
        m = run_command([CLI, "fetch", "--sources", str(sources), "--db", str(db)], env)
        m.extra = last_run(db, m.output)
        download["server_cpu_during_fetch"] = round(cpu_seconds(server.pid) - served, 2)
        return m, download
    finally:
        stop(server)


# -- Prefect --------------------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_prefect_server(home: Path, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    """A `prefect server start` of our own on a free port, healthy; returns it and its API URL."""
    port = free_port()
    env = {**env, "PREFECT_HOME": str(home), "PREFECT_UI_ENABLED": "false"}
    log = open(home / "server.log", "wb")  # noqa: SIM115 - lives as long as the server
    server = subprocess.Popen(
        [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}/api"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"prefect server exited; see {home / 'server.log'}")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
                if response.status == 200:
                    return server, url
        except OSError:
            time.sleep(0.5)
    server.terminate()
    raise RuntimeError("prefect server did not become healthy in 180 s")


def stop(server: subprocess.Popen[Any]) -> None:
    server.terminate()  # our own child, by its pid
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


# -- report ---------------------------------------------------------------------------------------------------
def mib(n: int) -> float:
    return n / 2**20


def report(results: dict[str, Any]) -> str:
    """The table printed for people."""
    rows = [("measure", "value", "target")]
    bare, first, again = results["bare"], results["ingest"], results["rerun"]
    rows += [
        ("pages (mean KiB)", f"{results['pages']} ({results['mean_kib']})", ""),
        (
            "bare trafilatura, 1 process",
            f"{bare['wall']:.1f}s  cpu {bare['cpu']:.1f}s  {bare['pages_s']:.1f} pages/s",
            "",
        ),
        (
            "ingest, fresh warehouse",
            f"{first['wall']:.1f}s  cpu {first['cpu']:.1f}s  {first['pages_s']:.1f} pages/s",
            "",
        ),
        ("  stages (s)", "  ".join(f"{k} {v:.1f}" for k, v in first["timings"].items()), ""),
        ("  flow (s, inside the process)", f"{first['flow_s']:.1f}", ""),
        ("re-run, unchanged corpus", f"{again['wall']:.1f}s  cpu {again['cpu']:.1f}s", ""),
        ("  stages (s)", "  ".join(f"{k} {v:.1f}" for k, v in again["timings"].items()), ""),
    ]
    fetch = results.get("fetch")
    alone = results["load_alone"]
    if fetch:
        rows += [
            (
                "fetch, served corpus",
                f"{fetch['wall']:.1f}s  cpu {fetch['cpu']:.1f}s  {fetch['pages_s']:.1f} articles/s",
                "",
            ),
            ("  stages (s)", "  ".join(f"{k} {v:.1f}" for k, v in fetch["timings"].items()), ""),
            (
                "  web server's cpu meanwhile",
                f"{results['download_alone']['server_cpu_during_fetch']:.1f}s (benchmarks/serve.py)",
                "",
            ),
            ("  peak memory, fetch", f"{mib(fetch['peak_rss']):.0f} MiB (process tree, PSS)", "<= 1024 MiB at 5k"),
            (
                "  download + decode alone",
                f"{results['fetch_download_pages_s']:.0f} pages/s ({results['download_alone']['seconds']:.1f}s, one thread per host)",
                ">= 200 pages/s",
            ),
            ("fetch / ingest", f"{results['ratio_fetch_ingest']:.2f}", "<= 1.2"),
        ]
    else:
        rows.append(("fetch, served corpus", "not measured: `civic-ingest fetch` not ready", ""))
    rows += [
        ("ingest / bare", f"{results['ratio_ingest_bare']:.2f}", "<= 1.0 (never > 1.3)"),
        ("re-run / ingest", f"{results['ratio_rerun_ingest']:.3f}", "<= 0.10"),
        ("load rows/s, in the ingest", f"{results['load_rows_s']:,.0f} ({first['rows']:,} rows)", ">= 200,000"),
        (
            "  the same rows loaded alone",
            f"{alone['rows_s']:,.0f} ({alone['seconds']:.1f}s, benchmarks/load.py)",
            ">= 200,000",
        ),
        (
            "peak memory, ingest",
            f"{mib(first['peak_rss']):.0f} MiB (process tree, PSS); largest process RSS {mib(first['max_process_rss']):.0f} MiB",
            "<= 1024 MiB at 5k",
        ),
        (
            "warehouse on disk",
            f"{mib(results['warehouse_bytes']):.1f} MiB (+ snapshot {mib(results['snapshot_bytes']):.1f})",
            "",
        ),
    ]
    for n, rss in results.get("rss_series", {}).items():
        rows.append((f"peak memory at {n} pages", f"{mib(rss):.0f} MiB", "flat"))
    rows.append(("load average at start / end", results["loadavg"], ""))
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def summarize(m: Measure, pages: int) -> dict[str, Any]:
    summary = m.extra
    flow_s = 0.0
    if summary.get("started_at") and summary.get("finished_at"):
        from datetime import datetime

        flow_s = (
            datetime.fromisoformat(summary["finished_at"]) - datetime.fromisoformat(summary["started_at"])
        ).total_seconds()
    return {
        "wall": round(m.wall, 2),
        "cpu": round(m.cpu, 2),
        "pages_s": round(pages / m.wall, 1),
        "peak_rss": m.peak_rss,
        "max_process_rss": m.max_rss,
        "timings": summary.get("timings", {}),
        "flow_s": flow_s,
        "rows": loaded_rows(summary) if summary else 0,
        "new": summary.get("articles_new"),
        "unchanged": summary.get("articles_unchanged"),
        "rejects": len(summary.get("rejects", [])),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=5000)
    parser.add_argument("--quick", action="store_true", help="300 pages: a smoke run of the whole benchmark")
    parser.add_argument("--repeat", type=int, default=1, help="best of K passes for bare and ingest")
    parser.add_argument("--rss-series", action="store_true", help="also peak RSS of ingests of 1k, 5k, 20k pages")
    parser.add_argument("--ephemeral", action="store_true", help="no shared Prefect server: each command starts one")
    args = parser.parse_args()
    pages = 300 if args.quick else args.pages
    began = time.perf_counter()
    loadavg = [f"{os.getloadavg()[0]:.1f}"]

    corpus = OUT / f"corpus-{pages}"
    manifest = ensure_corpus(corpus, pages)
    files = sorted(p for p in (corpus / "pages").rglob("*") if p.is_file())
    work = OUT / "run"
    shutil.rmtree(work, ignore_errors=True)
    (work / "prefect").mkdir(parents=True)
    env = {**os.environ, "PREFECT_HOME": str(work / "prefect"), "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    server = None
    if not args.ephemeral:
        server, url = start_prefect_server(work / "prefect", env)
        env["PREFECT_API_URL"] = url
    try:
        print(f"corpus {corpus}: {len(files)} pages; bare trafilatura ...", file=sys.stderr)
        bare = best_of(args.repeat, lambda: bare_trafilatura(files))
        print(f"  {bare.wall:.1f}s; ingest ...", file=sys.stderr)
        db = work / "warehouse.duckdb"
        first = ingest(corpus, db, env, args.repeat)
        print(f"  {first.wall:.1f}s; re-run ...", file=sys.stderr)
        again = ingest(corpus, db, env, args.repeat, fresh=False)
        print(f"  {again.wall:.1f}s; load alone ...", file=sys.stderr)
        load_alone = run_script("load.py", [str(db)], env)
        print(f"  {load_alone['rows_s']:,} rows/s; fetch ...", file=sys.stderr)
        fetched = measure_fetch(corpus, work, env)
        fetch, download = fetched if fetched else (None, {})
        rss_series = {}
        if args.rss_series:
            for n in (1000, 5000, 20000):
                print(f"  RSS series: {n} pages ...", file=sys.stderr)
                again_n = first if n == pages else ingest(ensure_corpus_dir(n), work / f"rss-{n}.duckdb", env)
                rss_series[n] = again_n.peak_rss
    finally:
        if server is not None:
            stop(server)
    loadavg.append(f"{os.getloadavg()[0]:.1f}")
    results: dict[str, Any] = {
        "pages": len(files),
        "mean_kib": manifest["mean_kib"],
        "cms": manifest["cms"],
        "prefect": "ephemeral" if args.ephemeral else "server",
        "repeat": args.repeat,
        "bare": {"wall": round(bare.wall, 2), "cpu": round(bare.cpu, 2), "pages_s": round(len(files) / bare.wall, 1)},
        "ingest": summarize(first, len(files)),
        "rerun": summarize(again, len(files)),
        "fetch": fetch and summarize(fetch, len(files)),
        "warehouse_bytes": sum(p.stat().st_size for p in work.glob("warehouse.duckdb*")),
        "snapshot_bytes": sum(p.stat().st_size for p in work.glob("warehouse.snapshot.duckdb*")),
        "rss_series": rss_series,
        "load_alone": load_alone,
        "loadavg": " / ".join(loadavg),
        "cores": os.cpu_count(),
    }
    results["ratio_ingest_bare"] = round(first.wall / bare.wall, 3)
    results["ratio_rerun_ingest"] = round(again.wall / first.wall, 3)
    load_s = results["ingest"]["timings"].get("load", 0.0)
    results["load_rows_s"] = round(results["ingest"]["rows"] / load_s) if load_s else 0
    if fetch:
        results["ratio_fetch_ingest"] = round(fetch.wall / first.wall, 3)
        results["download_alone"] = download
        results["fetch_download_pages_s"] = round(download["ok"] / download["seconds"], 1) if download else 0
    results["bench_seconds"] = round(time.perf_counter() - began, 1)
    print(report(results))
    print(f"benchmark took {results['bench_seconds']:.0f}s")
    print(json.dumps(results, ensure_ascii=False))
    return 0


def ensure_corpus_dir(pages: int) -> Path:
    corpus = OUT / f"corpus-{pages}"
    ensure_corpus(corpus, pages)
    return corpus


if __name__ == "__main__":
    sys.exit(main())
