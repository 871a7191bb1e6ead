"""The metric vocabulary handed to the parsers — kept free of Prefect so `civic-ingest inspect` starts fast."""

from __future__ import annotations

from pathlib import Path

from flows import settings
from parsers.metrics import MetricRule, default_rules, parse_rules


def metric_rules(extra_file: str | None = settings.METRICS_FILE) -> tuple[MetricRule, ...]:
    """The shipped vocabulary, preceded by the user's own file when one is configured."""
    extra = parse_rules(Path(extra_file).read_text(encoding="utf-8")) if extra_file else ()
    return (*extra, *default_rules())
