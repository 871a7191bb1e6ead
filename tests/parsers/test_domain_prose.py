"""Figures in prose across the civil-affairs domain: what is a figure, what is marked, what is not a figure."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from parsers.indicators import find_indicators
from parsers.metrics import default_rules
from parsers.records import Indicator, Paragraph

ROOT = Path(__file__).resolve().parents[2]


def _figures(text: str, published: date | None = date(2024, 7, 15)) -> list[Indicator]:
    return list(find_indicators("d", [Paragraph("p", 0, None, text)], published=published, region="绍兴市"))


def _printed(text: str) -> list[tuple[str, float, str]]:
    return [(f.raw_text, f.value, f.unit) for f in _figures(text)]


def test_households_and_persons_printed_together_are_two_figures() -> None:
    figures = _figures("全市城乡低保对象4966户6535人,发放低保金5812.4万元。")
    assert [(f.raw_text, f.value, f.unit) for f in figures] == [
        ("4966户", 4966, "户"),
        ("6535人", 6535, "人"),
        ("5812.4万元", 58124000, "元"),
    ]
    assert [f.metric_code for f in figures[:2]] == ["dibao_households", "dibao_persons"]


def test_times_of_assistance_keep_their_unit() -> None:
    assert _printed("全年实施临时救助3.2万人次,其中救助因病致贫家庭1.1万户次。") == [
        ("3.2万人次", 32000, "人次"),
        ("1.1万户次", 11000, "户次"),
    ]


def test_ranges_and_targets_are_kept_and_marked() -> None:
    (spread,) = _figures("户均救助金额1500至3000元不等。")
    assert (spread.value, spread.value_high, spread.figure_kind) == (1500, 3000, "range")
    (goal,) = _figures("力争到2025年,全市养老机构护理型床位占比达到100%。")
    assert (goal.value, goal.unit, goal.figure_kind, goal.metric_code) == (100, "%", "target", "nursing_beds_share")
    (later,) = _figures("到2030年,全市老年人口将达到200万人。")
    assert later.figure_kind == "target"
    (past,) = _figures("到2023年底,全市共有养老机构156家。")
    assert past.figure_kind == "value"


@pytest.mark.parametrize(
    "text",
    [
        "咨询电话:0575-85123456,监督电话:12345。",
        "活动地点在解放北路135号,时间为7月20日上午9时30分。",
        "这是今年第3次集中开放。",
        "全市60岁以上老年人口、80岁及以上高龄老人和25至29岁的人群都纳入统计。",
        "近3年来,市检察院持续开展帮教。",
        "市政协三届二十八次常委会议听取报告。",
    ],
)
def test_phone_numbers_addresses_times_ordinals_and_age_bands_are_not_figures(text: str) -> None:
    assert _figures(text) == []


def test_ages_measured_are_figures() -> None:
    assert _printed("男性平均初婚年龄28.8岁、女性27.5岁,比上届降低1岁左右。") == [
        ("28.8岁", 28.8, "岁"),
        ("27.5岁", 27.5, "岁"),
        ("1岁", 1, "岁"),
    ]


def test_additions_are_not_coded_as_the_stock() -> None:
    added, stock = _figures("上半年新增养老床位1200张,全市养老床位达到3.2万张。")
    assert (added.metric_code, stock.metric_code) == ("elderly_care_beds_added", "elderly_care_beds")


def test_traditional_text_is_read_with_figures_as_printed() -> None:
    figures = list(
        find_indicators(
            "d",
            [Paragraph("p", 0, None, "截至2015年底,全國共有鄉級行政區劃單位39789個,其中鎮20515個。")],
            published=None,
            region=None,
            traditional=True,
        )
    )
    assert [(f.raw_text, f.value, f.unit, f.metric_code) for f in figures] == [
        ("39789個", 39789, "个", "township_divisions"),
        ("20515個", 20515, "个", "towns"),
    ]


def test_every_code_is_documented_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| [a-z_]+ \| `([a-z0-9_]+)` \|", readme, flags=re.MULTILINE))
    documented |= set(re.findall(r"^\| `([a-z0-9_]+)` \|", readme, flags=re.MULTILINE))
    missing = {r.code for r in default_rules()} - documented
    assert not missing, sorted(missing)


def test_money_named_only_as_funds_belongs_to_the_programme_just_named() -> None:
    figures = _figures("12月份实施临时救助24户77人,发放救助资金15.2万元。其中保华镇2户10人,救助资金25380元。")
    assert [(f.raw_text, f.metric_code) for f in figures] == [
        ("24户", "temporary_assistance_households"),
        ("77人", "temporary_assistance_times"),
        ("15.2万元", "temporary_assistance_spending"),
        ("2户", "temporary_assistance_households"),
        ("10人", "temporary_assistance_times"),
        ("25380元", "temporary_assistance_spending"),
    ]
