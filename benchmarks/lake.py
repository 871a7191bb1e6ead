"""`make bench-lake`: the DuckLake backend against the DuckDB file, and two writers against one.

    .venv/bin/python benchmarks/lake.py [--pages 600]

On one generated corpus (benchmarks/corpus.py, cached under bench-out/), every command a `civic-ingest ingest`
process of its own reporting to one `prefect server` the benchmark starts, the lakes' catalogs in a PostgreSQL
it starts too (tests/pg.py: as user postgres, in a temp folder, 127.0.0.1 only), their data under bench-out/:

  file           the whole corpus into a fresh DuckDB file (the default backend)
  lake 1 writer  the whole corpus into a fresh lake                              target: <= 1.5x file
  lake 2 writers `--shard 0/2` and `--shard 1/2` started together into a fresh lake, vs the one writer
  … --workers 1  the same two, each writer with one parser process: what each added host (one more core) buys

Each writer parses on all cores by default, so on this 2-core machine two writers share the cores one writer
already used: the `--workers 1` pair is the fair picture of adding a host. Wall-clock of one pass each; the
machine is shared, so compare the ratios of one run, not the seconds of two runs.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import threading
import time
from pathlib import Path
from typing import Any

from corpus import ensure_corpus  # benchmarks/corpus.py, beside this file
from run import CLI, OUT, ROOT, Measure, run_command, start_prefect_server, stop

sys.path.insert(0, str(ROOT))
from tests.pg import Postgres, find_bin_dir, running_postgres

TARGET_LAKE_VS_FILE = 1.5
TIMINGS = re.compile(r"timings\s+(.*)")


def timings(output: str) -> dict[str, float]:
    """The stage timings of a run's printed summary ('read 0.10s, skip 0.25s, parse 6.54s, load 0.44s')."""
    found = TIMINGS.search(output)
    if not found:
        return {}
    return {k: float(v) for k, v in re.findall(r"(\w+) ([\d.]+)s", found[1])}


def together(commands: list[list[str]], env: dict[str, str]) -> tuple[float, list[Measure]]:
    """Run the commands at once (each measured like run_command); wall-clock until the last one ends."""
    measures: list[Measure | None] = [None] * len(commands)
    errors: list[BaseException] = []

    def one(i: int) -> None:
        try:
            measures[i] = run_command(commands[i], env)
        except BaseException as exc:
            errors.append(exc)

    started = time.perf_counter()
    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(commands))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return time.perf_counter() - started, [m for m in measures if m is not None]


def fresh_lake(server: Postgres, work: Path, name: str) -> tuple[str, Path]:
    data = work / f"{name}-data"
    shutil.rmtree(data, ignore_errors=True)
    return f"ducklake:postgres:{server.create_database(name)}", data


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=600)
    args = parser.parse_args()
    bin_dir = find_bin_dir()
    if bin_dir is None:
        print("PostgreSQL is not installed (apt-get install postgresql): no lake to measure", file=sys.stderr)
        return 2
    corpus = OUT / f"corpus-{args.pages}"
    ensure_corpus(corpus, args.pages)
    pages = str(corpus / "pages")
    work = OUT / "lake-run"
    shutil.rmtree(work, ignore_errors=True)
    (work / "prefect").mkdir(parents=True)
    env = {**os.environ, "PREFECT_HOME": str(work / "prefect"), "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    began = time.perf_counter()
    results: dict[str, Any] = {"pages": args.pages, "cores": os.cpu_count(), "loadavg": [os.getloadavg()[0]]}
    prefect, url = start_prefect_server(work / "prefect", env)
    env["PREFECT_API_URL"] = url
    try:
        with running_postgres(bin_dir) as server:
            print(f"{args.pages} pages: file ...", file=sys.stderr)
            file_run: Measure = run_command([CLI, "ingest", pages, "--db", str(work / "w.duckdb")], env)
            print(f"  {file_run.wall:.1f}s; lake, one writer ...", file=sys.stderr)
            lake, data = fresh_lake(server, work, "one")
            one = run_command([CLI, "ingest", pages, "--db", lake], {**env, "CIVIC_LAKE_DATA": str(data)})
            print(f"  {one.wall:.1f}s; lake, two writers ...", file=sys.stderr)
            lake, data = fresh_lake(server, work, "two")
            two_wall, two_out = together(
                [[CLI, "ingest", pages, "--db", lake, "--shard", f"{k}/2"] for k in range(2)],
                {**env, "CIVIC_LAKE_DATA": str(data)},
            )
            print(f"  {two_wall:.1f}s; one writer, one parser process ...", file=sys.stderr)
            lake, data = fresh_lake(server, work, "one_w1")
            one_w1 = run_command(
                [CLI, "ingest", pages, "--db", lake, "--workers", "1"], {**env, "CIVIC_LAKE_DATA": str(data)}
            )
            print(f"  {one_w1.wall:.1f}s; two writers, one parser process each ...", file=sys.stderr)
            lake, data = fresh_lake(server, work, "two_w1")
            two_w1_wall, two_w1_out = together(
                [[CLI, "ingest", pages, "--db", lake, "--shard", f"{k}/2", "--workers", "1"] for k in range(2)],
                {**env, "CIVIC_LAKE_DATA": str(data)},
            )
    finally:
        stop(prefect)
    results["loadavg"].append(os.getloadavg()[0])
    results.update(
        file={"wall": round(file_run.wall, 2), "cpu": round(file_run.cpu, 1), "timings": timings(file_run.output)},
        lake_one={"wall": round(one.wall, 2), "cpu": round(one.cpu, 1), "timings": timings(one.output)},
        lake_two_wall=round(two_wall, 2),
        lake_two_cpu=round(sum(m.cpu for m in two_out), 1),
        lake_two_timings=[timings(m.output) for m in two_out],
        lake_one_workers1_cpu=round(one_w1.cpu, 1),
        lake_two_workers1_cpu=round(sum(m.cpu for m in two_w1_out), 1),
        lake_one_workers1_timings=timings(one_w1.output),
        lake_two_workers1_timings=[timings(m.output) for m in two_w1_out],
        lake_one_workers1_wall=round(one_w1.wall, 2),
        lake_two_workers1_wall=round(two_w1_wall, 2),
    )
    outputs = [one.output, one_w1.output, *(m.output for m in two_out), *(m.output for m in two_w1_out)]
    results["conflict_retries"] = sum(out.count("lost a commit conflict") for out in outputs)
    results["ratio_lake_file"] = round(one.wall / file_run.wall, 3)
    results["cpu_ratio_lake_file"] = round(one.cpu / file_run.cpu, 3)
    results["ratio_two_one"] = round(two_wall / one.wall, 3)
    results["cpu_ratio_two_one"] = round(results["lake_two_cpu"] / one.cpu, 3)
    results["ratio_two_one_workers1"] = round(two_w1_wall / one_w1.wall, 3)
    results["cpu_ratio_two_one_workers1"] = round(results["lake_two_workers1_cpu"] / one_w1.cpu, 3)
    results["bench_seconds"] = round(time.perf_counter() - began, 1)
    ok = "✓" if results["ratio_lake_file"] <= TARGET_LAKE_VS_FILE else "✗"
    r = results
    print(
        "\n".join(
            [
                f"{args.pages} pages, {os.cpu_count()} cores, load average {r['loadavg'][0]:.1f} -> {r['loadavg'][1]:.1f}"
                " (wall-clock is only comparable while the machine is otherwise idle; CPU seconds always are)",
                "                                   wall        CPU (process tree)",
                f"file ingest                       {file_run.wall:6.1f} s   {file_run.cpu:6.1f} s"
                f"   load {r['file']['timings'].get('load', 0):.2f} s",
                f"lake, one writer                  {one.wall:6.1f} s   {one.cpu:6.1f} s"
                f"   load {r['lake_one']['timings'].get('load', 0):.2f} s"
                f"   = {r['ratio_lake_file']:.2f}x file wall {ok} (target <= {TARGET_LAKE_VS_FILE}),"
                f" {r['cpu_ratio_lake_file']:.2f}x CPU",
                f"lake, two writers (2 shards)      {two_wall:6.1f} s   {r['lake_two_cpu']:6.1f} s"
                f"   = {r['ratio_two_one']:.2f}x one writer wall, {r['cpu_ratio_two_one']:.2f}x CPU",
                f"lake, one writer, 1 parser        {one_w1.wall:6.1f} s   {one_w1.cpu:6.1f} s",
                f"lake, two writers, 1 parser each  {two_w1_wall:6.1f} s   {r['lake_two_workers1_cpu']:6.1f} s"
                f"   = {r['ratio_two_one_workers1']:.2f}x one writer wall, {r['cpu_ratio_two_one_workers1']:.2f}x CPU",
                f"commits retried after a conflict: {r['conflict_retries']} (lake attach, migrations and loads of all runs)",
                f"benchmark took {r['bench_seconds']:.0f} s",
            ]
        )
    )
    print(json.dumps(results, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
