"""What decides a figure's code besides its own words: the 城市/农村 named before it or in the heading above,
the thing counted just before it, the sentence's lead, and the many wordings issuers use for one quantity.

The sentences are our own, written the way county and city work reports and news print these quantities.
"""

from __future__ import annotations

from datetime import date

import pytest

from parsers.indicators import find_indicators
from parsers.records import Paragraph


def _codes(*lines: str) -> list[tuple[str, str | None]]:
    """(figure as printed, code) of lines; a line starting with # is a heading."""
    paragraphs = [
        Paragraph("", -1, f"s{n}", line[1:]) if line.startswith("#") else Paragraph(f"p{n}", n, None, line)
        for n, line in enumerate(lines)
    ]
    found = find_indicators("d", paragraphs, published=date(2024, 3, 1), region="宜宾市")
    return [(f.raw_text, f.metric_code) for f in found]


def test_a_heading_decides_urban_or_rural_for_bare_figures_below_it() -> None:
    assert _codes(
        "#一、城市低保",
        "保障人数1430人，保障户数812户，平均保障标准每人每月780元，累计支出资金1.2亿元。",
        "#二、农村低保",
        "保障对象6120人、3215户，保障标准每人每年7200元，全年累计发放资金2.6亿元。",
    ) == [
        ("1430人", "urban_dibao_persons"),
        ("812户", "urban_dibao_households"),
        ("780元", "urban_dibao_standard"),
        ("1.2亿元", "urban_dibao_spending"),
        ("6120人", "rural_dibao_persons"),
        ("3215户", "rural_dibao_households"),
        ("7200元", "rural_dibao_standard"),
        ("2.6亿元", "rural_dibao_spending"),
    ]


def test_the_scope_named_in_the_sentence_decides_and_urban_rural_total_stay_apart() -> None:
    assert _codes("全县纳入农村低保3215户6120人，纳入城市低保812户1430人，全县低保户合计4027户。") == [
        ("3215户", "rural_dibao_households"),
        ("6120人", "rural_dibao_persons"),
        ("812户", "urban_dibao_households"),
        ("1430人", "urban_dibao_persons"),
        ("4027户", "dibao_households"),
    ]


def test_a_sentence_lead_names_what_its_figures_count() -> None:
    assert _codes("城市低保：保障812户1430人。") == [
        ("812户", "urban_dibao_households"),
        ("1430人", "urban_dibao_persons"),
    ]


def test_urban_and_rural_respectively() -> None:
    assert _codes("城乡低保标准分别提高到每人每月820元和每人每月650元。") == [
        ("820元", "urban_dibao_standard"),
        ("650元", "rural_dibao_standard"),
    ]


def test_a_part_takes_the_thing_counted_before_it() -> None:
    assert _codes("全市特困供养人员1.2万人，其中集中供养3200人，分散供养8800人。") == [
        ("1.2万人", "tekun_persons"),
        ("3200人", "tekun_centralized_persons"),
        ("8800人", "tekun_dispersed_persons"),
    ]
    assert _codes("全市共有各类养老机构210家，床位3.2万张，其中护理型床位1.8万张。") == [
        ("210家", "elderly_care_institutions"),
        ("3.2万张", "elderly_institution_beds"),
        ("1.8万张", "nursing_beds"),
    ]
    assert _codes("事实无人抚养儿童1580名纳入保障范围，发放基本生活费2300万元。") == [
        ("1580名", "unsupported_children"),
        ("2300万元", "unsupported_children_living_spending"),
    ]


def test_a_thing_counted_before_does_not_lend_its_code_to_a_different_thing() -> None:
    codes = dict(_codes("全年共查处非法社会组织27家，对156家未按规定参加年检的社会组织进行了约谈。"))
    assert codes == {"27家": "illegal_orgs_dealt", "156家": None}


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        (
            "全年实施临时救助2.5万人次，支出临时救助资金5600万元。",
            ["temporary_assistance_times", "temporary_assistance_spending"],
        ),
        ("发放临时救助金3200万元。", ["temporary_assistance_spending"]),
        ("全年累计发放城乡低保金8.6亿元。", ["dibao_benefit"]),
        (
            "为3.2万名困难残疾人发放生活补贴4500万元。",
            ["hardship_disabled_subsidy_persons", "hardship_disabled_subsidy_spending"],
        ),
        (
            "全市持证社会工作者8600人，建成乡镇（街道）社工站156个。",
            ["licensed_social_workers", "township_social_work_stations"],
        ),
        (
            "全市60周岁以上老年人口86万人，占总人口的21.5%。",
            ["elderly_population_60plus", "elderly_population_60plus_share"],
        ),
        ("全年发放高龄津贴1.2亿元。", ["elderly_age_allowance_spending"]),
        (
            "全市现有孤儿326名，其中集中养育孤儿85名，社会散居孤儿241名。",
            ["orphans", "orphans_institutional", "orphans_scattered"],
        ),
        ("全市民政部门支出民政事业费15.6亿元。", ["civil_affairs_spending"]),
        ("将低保边缘家庭1.2万户、3.1万人纳入救助范围。", ["dibao_marginal_households", "dibao_marginal_persons"]),
    ],
)
def test_wordings_of_one_quantity(sentence: str, expected: list[str]) -> None:
    assert [code for _, code in _codes(sentence)] == expected


def test_a_change_and_an_addition_get_no_level_code() -> None:
    assert _codes("全市养老床位4.5万张，同比增长8.2%；今年新建老年食堂20个、助餐点300个。") == [
        ("4.5万张", "elderly_care_beds"),
        ("8.2%", None),
        ("20个", None),
        ("300个", None),
    ]


def test_an_age_band_is_not_a_figure() -> None:
    assert [raw for raw, _ in _codes("为8.6万名80周岁以上老年人发放高龄津贴1.2亿元。")] == ["8.6万名", "1.2亿元"]


def test_scope_printed_after_the_quantity_or_as_a_bare_part() -> None:
    assert _codes("1-9月，全市共发放城乡低保资金3.1亿元，其中城市1.2亿元、农村1.9亿元。") == [
        ("3.1亿元", "dibao_spending"),
        ("1.2亿元", "urban_dibao_spending"),
        ("1.9亿元", "rural_dibao_spending"),
    ]
    assert _codes("全县特困人员救助供养标准城市每人每月975元、农村每人每月750元。") == [
        ("975元", "urban_tekun_standard"),
        ("750元", "rural_tekun_standard"),
    ]


def test_a_standard_raised_from_one_level_to_another_is_two_levels_of_it() -> None:
    assert _codes("全区城镇低保标准由每人每月700元提高到750元。") == [
        ("700元", "urban_dibao_standard"),
        ("750元", "urban_dibao_standard"),
    ]


def test_a_change_after_a_level_gets_no_code() -> None:
    assert _codes("全年办理结婚登记3.2万对，增加5488对；城市低保标准每人每月780元，提高50元。") == [
        ("3.2万对", "marriage_registrations"),
        ("5488对", None),
        ("780元", "urban_dibao_standard"),
        ("50元", None),
    ]


def test_a_short_line_before_the_figures_heads_them_like_a_heading() -> None:
    assert _codes("农村低保：", "保障对象6120人、3215户。", "城市低保：", "保障对象1430人、812户。") == [
        ("6120人", "rural_dibao_persons"),
        ("3215户", "rural_dibao_households"),
        ("1430人", "urban_dibao_persons"),
        ("812户", "urban_dibao_households"),
    ]


def test_divisions_counted_one_after_another() -> None:
    assert _codes("全省共辖11个地级市、37个市辖区、20个县级市、33个县。全国31个省、自治区、直辖市已完成换届。") == [
        ("11个", "prefecture_level_cities"),
        ("37个", "city_districts"),
        ("20个", "county_level_cities"),
        ("33个", "counties"),
        ("31个", None),
    ]


def test_bulletin_wordings_of_institutions_and_their_beds_and_residents() -> None:
    assert _codes(
        "全国共有提供住宿的社会服务机构4.2万个，床位540万张，年末收留抚养和救助服务人员220万人。"
        "全国共有未成年人救助保护机构1000个，床位1.0万张。"
    ) == [
        ("4.2万个", "residential_institutions"),
        ("540万张", "residential_beds"),
        ("220万人", "residential_residents"),
        ("1000个", "minor_protection_institutions"),
        ("1.0万张", "minor_protection_institution_beds"),
    ]


def test_money_raised_and_money_spent_are_different_quantities() -> None:
    assert _codes("全年全市慈善组织募集款物3.2亿元，支出2.8亿元。") == [("3.2亿元", "donations"), ("2.8亿元", None)]


def test_a_programme_named_anew_does_not_inherit_an_earlier_clauses_scope() -> None:
    assert _codes("农村低保标准提高到每人每年6000元，全年累计发放低保金2300万元。") == [
        ("6000元", "rural_dibao_standard"),
        ("2300万元", "dibao_benefit"),
    ]


def test_the_two_disability_subsidies_named_together_are_their_total() -> None:
    assert _codes("上半年共发放困难残疾人生活补贴和重度残疾人护理补贴560万元。") == [
        ("560万元", "disability_two_subsidies_spending")
    ]


def test_a_bare_coverage_rate_is_of_the_facility_just_built_and_an_ethnic_township_is_its_own_count() -> None:
    assert _codes("全县12个乡镇全部建成社会工作服务站，覆盖率达到100%。全县有乡8个（含民族乡3个）。") == [
        ("12个", None),
        ("100%", "township_social_work_station_coverage"),
        ("8个", "townships"),
        ("3个", "ethnic_townships"),
    ]
