"""What the indicator engine promises, one behaviour at a time, on sentences written like official reporting."""

from __future__ import annotations

from datetime import date

import pytest

from parsers.indicators import find_figures, find_indicators
from parsers.records import Indicator, Paragraph


def figures(sentence: str) -> list[tuple[str, float, str, str]]:
    return [(f.raw_text, f.value, f.unit, f.qualifier) for f in find_figures(sentence)]


def indicators(
    text: str, *, published: date | None = date(2023, 9, 22), region: str | None = "江苏省"
) -> list[Indicator]:
    return list(find_indicators("doc", [Paragraph("p0", 0, None, text)], published=published, region=region))


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("全省共注册登记社会组织7.7万家。", [("7.7万家", 77000, "家", "exact")]),
        ("会费及服务性收费12.76亿元。", [("12.76亿元", 1276000000, "元", "exact")]),
        ("累计贡献经济效益近9万亿元。", [("9万亿元", 9e12, "元", "approx")]),
        ("带动吸引外资超1540亿元。", [("1540亿元", 1540e8, "元", "over")]),
        ("参与制定标准2230多项。", [("2230多项", 2230, "项", "over")]),
        ("惠及会员企业4.3万余家。", [("4.3万余家", 43000, "家", "over")]),
        ("引导慈善资金6000余万元。", [("6000余万元", 6e7, "元", "over")]),
        ("社会组织总量较上年下降-1.18%。", [("-1.18%", -1.18, "%", "exact")]),
        ("覆盖率提高3.5个百分点。", [("3.5个百分点", 3.5, "百分点", "exact")]),
        ("服务人次是五年前的3倍。", [("3倍", 3, "倍", "exact")]),
        ("全区共有社会组织12,345家。", [("12,345家", 12345, "家", "exact")]),
        ("审批时限压缩至不超过15个工作日。", [("15个工作日", 15, "个工作日", "under")]),
        ("参训人员不足300人。", [("300人", 300, "人", "under")]),
        ("培训负责人共计千余人。", [("千余人", 1000, "人", "over")]),
        ("连续四年举办展示交流会。", [("四年", 4, "年", "exact")]),
        ("开展了为期三个月的专项治理行动。", [("三个月", 3, "个月", "exact")]),
        ("举办了两届协同发展大会。", [("两届", 2, "届", "exact")]),
        ("受益群众5000人左右。", [("5000人", 5000, "人", "approx")]),
        ("发起总规模50亿、首期30亿的产业基金。", [("50亿", 5e9, "元", "exact"), ("30亿", 3e9, "元", "exact")]),
        ("2.开展低收入人口动态监测。", []),
        ("新建站点200个以上。", [("200个", 200, "个", "over")]),
    ],
)
def test_figures_are_normalized(sentence: str, expected: list[tuple[str, float, str, str]]) -> None:
    assert figures(sentence) == expected


@pytest.mark.parametrize(
    "sentence",
    [
        "2022年,修订并印发评估管理办法。",
        "2023年5月20日,市民政局召开推进会。",
        "南京推出四个“100%”目标,南通探索党建“六益”工作法。",
        "通过“六个一”务实举措推动发展。",
        "开展“百社百村”行动。",
        "获得3A以上等级的社会组织可优先承接政府转移职能。",
        "全省共有5A级社会组织。",
        "印发《关于做好2024年度社会组织年报工作的通知》(民发〔2024〕15号)。",
        "太仓的“政社互动”进入了4.0版本。",
        "咨询电话0571-87051234。",
        "探索建立“1+5+N”综合监管服务保障体系。",
        "一是加强党建引领,二是完善制度。",
        "具体分为三个部分。",
        "早上8点半,老人们来到食堂。",
        "从加强党建引领、优化结构布局、强化培育扶持3个方面提出措施。",
        "在“10·17”国家扶贫日期间开展活动。",
    ],
)
def test_things_that_are_not_indicators(sentence: str) -> None:
    assert figures(sentence) == []


def test_list_sentence_yields_one_indicator_per_figure_with_its_own_metric() -> None:
    found = indicators("截至目前,全省共注册登记社会组织7.7万家,其中社会团体3万家、社会服务机构4.6万家、基金会810家。")
    assert [(i.metric, i.value, i.metric_code) for i in found] == [
        ("注册登记社会组织", 77000, "social_orgs_total"),
        ("社会团体", 30000, "social_groups"),
        ("社会服务机构", 46000, "social_service_orgs"),
        ("基金会", 810, "foundations"),
    ]
    assert {i.period for i in found} == {"截至目前"}
    assert all(i.period_end == date(2023, 9, 22) for i in found)


def test_region_is_the_city_named_before_the_figure() -> None:
    [found] = indicators("如宝鸡市503个社会组织通过行动帮扶群众。", region="陕西省")
    assert (found.region, found.region_province) == ("宝鸡市", "陕西省")


def test_region_falls_back_to_the_article_and_lifts_to_the_province_for_quan_sheng() -> None:
    first, second = indicators("全市社会组织已达到4088家,全省社会组织共有7.7万家。", region="淄博市")
    assert (first.region, second.region) == ("淄博市", "山东省")


def test_share_metric_and_implied_unit() -> None:
    found = indicators("全省现有行业协会商会6448家,占社会组织总数的8.2%。")
    assert found[1].metric == "行业协会商会占社会组织总数比例"
    assert found[1].metric_code == "trade_association_share"
    [fund] = indicators("推动成立总规模50亿的产业基金。")
    assert (fund.value, fund.unit, fund.unit_implied) == (5e9, "元", True)


@pytest.mark.parametrize(
    ("sentence", "period", "start", "end"),
    [
        ("今年上半年,全市慈善组织184家。", "今年上半年", date(2023, 1, 1), date(2023, 6, 30)),
        ("2020年以来,全市社会组织捐款超过5亿元。", "2020年以来", date(2020, 1, 1), date(2023, 9, 22)),
        ("2022年,全市新增社会组织312家。", "2022年", date(2022, 1, 1), date(2022, 12, 31)),
        ("截至2023年底,全省持证社工14.6万人。", "截至2023年底", None, date(2023, 12, 31)),
        ("全省社会组织2930家,较2021年增长26.5%。", None, None, None),
    ],
)
def test_periods_resolve_against_the_publish_date(
    sentence: str, period: str | None, start: date | None, end: date | None
) -> None:
    first = indicators(sentence)[0]
    assert (first.period, first.period_start, first.period_end) == (period, start, end)


def test_provenance_points_back_to_sentence_and_paragraph() -> None:
    text = "近年来成效明显。全市持证社工超2.1万人,社工机构达191家。"
    found = indicators(text, region="苏州市")
    assert all(i.paragraph_id == "p0" and i.sentence == "全市持证社工超2.1万人,社工机构达191家。" for i in found)
    assert [i.metric_code for i in found] == ["licensed_social_workers", "social_work_agencies"]
