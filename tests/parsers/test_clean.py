"""Page furniture of government and media pages, written in shapes the seeds do not use."""

from __future__ import annotations

import pytest

from parsers.clean import clean_lines, furniture_reason, is_metadata_line

BODY = [
    "近年来，全市各级民政部门坚持党建引领，推动社会组织高质量发展，取得明显成效。",
    "截至2024年底，全市共有社会组织5632家，其中社会团体2310家、社会服务机构3201家、基金会121家。",
]


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("当前位置：首页 > 新闻中心 > 工作动态", "breadcrumb"),
        ("您现在的位置: 首页 » 政务公开", "breadcrumb"),
        ("首页 > 民政要闻", "breadcrumb"),
        ("字体：[ 大 中 小 ]", "button"),
        ("【打印本页】 【关闭窗口】", "button"),
        ("打印 关闭", "button"),
        ("分享到：微信 微博 QQ空间", "share_links"),
        ("扫一扫在手机打开当前页", "page_furniture"),
        ("主办单位：某某省民政厅 承办单位：某某省民政信息中心", "page_furniture"),
        ("网站标识码：3300000037 浙ICP备05001234号 浙公网安备 33010602001234号", "page_furniture"),
        ("版权所有：某某市民政局 技术支持：某某网络公司", "page_furniture"),
        ("上一篇：关于开展2024年度社会组织年检工作的通知", "page_furniture"),
        ("咨询热线：0571-87051234  13800138000", "contact"),
        ("地址：某某市府前路1号 邮编：310000 电话：0571-87051234", "contact"),
        ("视频加载中...", "video_placeholder"),
    ],
)
def test_furniture_lines(line: str, reason: str) -> None:
    assert furniture_reason(line) == reason


@pytest.mark.parametrize(
    "line",
    [
        "发布日期：2024-06-18  信息来源：某某省民政厅  字体：[大 中 小]",
        "2024年03月08日 09:12 来源：成都日报 编辑：刘佳",
        "（来源：《中国社会报》2024年5月8日）",
        "（据《人民日报》）",
        "作者：张三、李四",
        "本报记者 王小明 通讯员 李华",
    ],
)
def test_metadata_lines_are_recognised(line: str) -> None:
    assert is_metadata_line(line)


@pytest.mark.parametrize("line", [*BODY, "2023年5月20日，市民政局召开全市社会组织工作会议，部署全年重点任务。"])
def test_body_lines_are_not_metadata_or_furniture(line: str) -> None:
    assert not is_metadata_line(line)
    assert furniture_reason(line) is None


def test_phone_number_in_a_sentence_is_body_text() -> None:
    line = "群众可拨打民政服务热线0571-12345咨询救助政策，热线开通以来共接听来电1.2万个，办结率达到99.6%。"
    assert furniture_reason(line) is None


def test_caption_interrupting_a_sentence_is_removed_and_the_sentence_rejoined() -> None:
    lines = [
        "某某市养老服务条例",
        BODY[0],
        "全市已建成街道综合养老服务中心",
        "图为某社区长者食堂内老人们正在用餐。记者 王明 摄",
        "261个，实现街道全覆盖。",
    ]
    cleaned = clean_lines(lines)
    texts = [b.text for b in cleaned.blocks]
    assert "全市已建成街道综合养老服务中心261个，实现街道全覆盖。" in texts
    assert ("image_caption", lines[3]) in [(r.reason, r.text) for r in cleaned.removals]


def test_two_line_heading_and_numbered_headings() -> None:
    lines = ["标题在这里", "强化党建引领", "推动社会组织“高质量发展”", BODY[0], "（一）完善制度体系", BODY[1]]
    blocks = clean_lines(lines).blocks
    headings = [b.text for b in blocks if b.is_heading]
    assert headings == ["强化党建引领 推动社会组织“高质量发展”", "（一）完善制度体系"]


def test_lead_ins_are_not_headings() -> None:
    lines = ["标题", "一是加强登记管理。全年新登记社会组织312家。", "培育制度日益完备。省民政厅制定了若干措施。"]
    assert not any(b.is_heading for b in clean_lines(lines).blocks)


def test_lists_of_links_to_other_articles_are_removed_and_logged() -> None:
    links = ["- 优化社区治理服务体系建设2021-12-14", "- 规范慈善事业典型经验2022-04-01", "- 深化残疾人福利专项行动"]
    steps = ["- 建立一套制度，明确职责分工。", "- 完善一张清单，逐项推进落实。"]
    cleaned = clean_lines(["标题", BODY[0], *steps, BODY[1], *links])
    texts = [b.text for b in cleaned.blocks]
    assert steps[0] in texts and steps[1] in texts  # a list inside the article stays
    assert not any(link in texts for link in links)
    assert [r.text for r in cleaned.removals if r.reason == "related_links"] == links
