"""What a run did: counts gathered by the flows, printed for people and stored for SQL."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from warehouse.load import ArticleRows, LoadResult, Reject


@dataclass(slots=True)
class RunSummary:
    flow: str
    run_id: str
    started_at: datetime
    finished_at: datetime | None = None
    inputs: int = 0
    articles_new: int = 0
    articles_updated: int = 0
    articles_unchanged: int = 0
    sections: int = 0
    paragraphs: int = 0
    indicators: int = 0
    removals_by_reason: Counter[str] = field(default_factory=Counter)
    rejects: list[Reject] = field(default_factory=list)
    fetch_counts: dict[str, Counter[str]] = field(default_factory=dict)  # source -> status class -> count
    timings: Counter[str] = field(default_factory=Counter)  # stage -> seconds
    warehouse: str = ""
    report: str = ""  # the report page written after the run (flows/report.py), when it changed data
    stopped: str | None = None  # why the run stopped before fetching everything (deadline, signal), if it did

    def add_parsed(self, rows: ArticleRows) -> None:
        """Count what parsing produced: sections, paragraphs, indicators, removals by reason."""
        self.sections += rows.sections.num_rows
        self.paragraphs += rows.paragraphs.num_rows
        self.indicators += rows.indicators.num_rows
        self.removals_by_reason.update(rows.removal_reasons())

    def add_loaded(self, result: LoadResult) -> None:
        """Count what a load did with the documents: new, updated, unchanged."""
        self.articles_new += result.new
        self.articles_updated += result.updated
        self.articles_unchanged += result.unchanged

    @property
    def removals(self) -> int:
        return sum(self.removals_by_reason.values())

    def run_row(self) -> dict[str, Any]:
        """The row stored in the `runs` table."""
        return {
            "run_id": self.run_id,
            "flow": self.flow,
            "started_at": self.started_at,
            "finished_at": self.finished_at or datetime.now(),
            "articles_new": self.articles_new,
            "articles_updated": self.articles_updated,
            "articles_unchanged": self.articles_unchanged,
            "sections": self.sections,
            "paragraphs": self.paragraphs,
            "indicators": self.indicators,
            "removals": self.removals,
            "rejects": len(self.rejects),
            "summary_json": json.dumps(self.to_json()),
        }

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["started_at"] = self.started_at.isoformat(timespec="seconds")
        data["finished_at"] = self.finished_at.isoformat(timespec="seconds") if self.finished_at else None
        data["removals_by_reason"] = dict(self.removals_by_reason.most_common())
        data["rejects"] = [asdict(r) for r in self.rejects]
        data["fetch_counts"] = {k: dict(v) for k, v in self.fetch_counts.items()}
        data["timings"] = {k: round(v, 3) for k, v in self.timings.items()}
        return data

    def to_text(self) -> str:
        """A readable report for the terminal."""
        took = (self.finished_at - self.started_at).total_seconds() if self.finished_at else 0.0
        lines = [
            f"{self.flow}: {self.inputs} inputs in {took:.1f}s -> {self.warehouse}",
            f"  articles   {self.articles_new} new, {self.articles_updated} updated, "
            f"{self.articles_unchanged} unchanged",
            f"  loaded     {self.sections} sections, {self.paragraphs} paragraphs, {self.indicators} indicators",
        ]
        if self.removals_by_reason:
            reasons = ", ".join(f"{reason} {n}" for reason, n in self.removals_by_reason.most_common())
            lines.append(f"  removed    {self.removals} pieces of text: {reasons}")
        for source, counts in sorted(self.fetch_counts.items()):
            lines.append(f"  fetched    {source}: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
        blocked = {source: counts["blocked"] for source, counts in self.fetch_counts.items() if counts.get("blocked")}
        if blocked:  # anti-bot challenge pages: never parsed; fetching from another host may get through
            lines.append(
                "  blocked    "
                + ", ".join(f"{source} {n}" for source, n in sorted(blocked.items()))
                + " page(s) behind an anti-bot challenge"
            )
        if self.report:
            lines.append(f"  report     {self.report}")
        if self.stopped:
            lines.append(f"  STOPPED    {self.stopped}")
        if self.timings:
            lines.append("  timings    " + ", ".join(f"{k} {v:.2f}s" for k, v in self.timings.items()))
        if self.rejects:
            lines.append(f"  REJECTED   {len(self.rejects)} input(s):")
            lines += [f"    - {r.uri} [{r.stage}] {r.reason}" for r in self.rejects]
        else:
            lines.append("  rejected   none")
        return "\n".join(lines)

    def to_markdown(self) -> str:
        """The same report as a Prefect markdown artifact."""
        rows = [
            ("articles new", self.articles_new),
            ("articles updated", self.articles_updated),
            ("articles unchanged", self.articles_unchanged),
            ("sections", self.sections),
            ("paragraphs", self.paragraphs),
            ("indicators", self.indicators),
            ("rejects", len(self.rejects)),
        ]
        rows += [(f"removed: {k}", v) for k, v in self.removals_by_reason.most_common()]
        for source, counts in sorted(self.fetch_counts.items()):
            rows += [(f"fetch {source}: {k}", v) for k, v in sorted(counts.items())]
        rows += [(f"time {k} (s)", round(v, 2)) for k, v in self.timings.items()]
        if self.stopped:
            rows.append(("stopped early", self.stopped))
        table = "\n".join(f"| {k} | {v} |" for k, v in rows)
        rejects = "\n".join(f"- `{r.uri}` [{r.stage}] {r.reason}" for r in self.rejects) or "none"
        report = (
            f"\n## Report\n[{self.report}]({Path(self.report).as_uri()}) — charts of every metric by region and over "
            f"time, their sources and conflicts (open the file in a browser; `civic-ingest report --db {self.warehouse}` "
            "writes it again)\n"
            if self.report
            else ""
        )
        return f"# {self.flow} run summary\n\n| what | count |\n|---|---|\n{table}\n\n## Rejects\n{rejects}\n{report}"
