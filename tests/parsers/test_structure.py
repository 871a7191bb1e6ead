"""Structure from markup: headings, list items, table rows and captions of an HTML page come from its DOM.

The pages here are written for these tests in the shapes real portals and government sites use (facts made up).
"""

from __future__ import annotations

import lxml.html

from parsers.article import parse_document
from parsers.clean import clean_blocks, clean_lines
from parsers.records import CAPTION, HEADING, LIST_ITEM, PARAGRAPH, TABLE_ROW, Block, RawDocument
from parsers.structure import dom_blocks, page_hints

PROSE = (
    "为做好今年暑期文旅消费工作，市文化和旅游局联合各景区推出一系列惠民措施，"
    "覆盖全市二十余家A级旅游景区，预计惠及游客超过五十万人次。"
)

NEWS_PAGE = f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>暑期景区门票优惠政策发布_某某新闻网</title></head>
<body>
<div class="nav"><a href="/">首页</a> <a href="/news">新闻</a> <a href="/travel">旅游</a> <a href="/about">关于我们</a></div>
<div class="article">
  <h1>暑期景区门票优惠政策发布</h1>
  <div class="info">2024-07-01 09:30 来源：某某日报</div>
  <div class="content">
    <p>{PROSE}</p>
    <p style="text-align:center"><img src="/a.jpg"></p>
    <p style="text-align:center">游客在景区入口排队购票。记者 王明 摄</p>
    <h2>一、门票价格</h2>
    <p>{PROSE}</p>
    <ul>
      <li>成人票原价:279元</li>
      <li>儿童票原价:80元</li>
      <li>游客咨询电话:58792888</li>
    </ul>
    <p><strong>成人票原价:279元</strong></p>
    <table>
      <tr><th>票种</th><th>原价（元）</th><th>优惠价（元）</th></tr>
      <tr><td>成人票</td><td>279</td><td>199</td></tr>
      <tr><td>儿童票</td><td>80</td><td>60</td></tr>
    </table>
    <p><strong>购票须知</strong></p>
    <p>{PROSE}优惠票须在官方渠道提前一天预约，现场不另行发售。</p>
    <p>地址：某某市滨江路1号 邮编：310000 电话：0571-87051234</p>
  </div>
</div>
<div class="footer">版权所有：某某新闻网 浙ICP备05001234号</div>
</body></html>"""


def test_dom_blocks_keep_each_list_item_and_table_row_apart() -> None:
    root = lxml.html.document_fromstring(NEWS_PAGE)
    content = root.xpath('//div[@class="content"]')[0]
    blocks = dom_blocks(content, page_hints(root))
    kinds = {b.text: b.kind for b in blocks}
    assert kinds["一、门票价格"] == HEADING
    assert kinds["成人票原价:279元"] in (LIST_ITEM, PARAGRAPH)  # the list item, then the bold line: never a heading
    assert [b.text for b in blocks if b.kind == LIST_ITEM] == [
        "成人票原价:279元",
        "儿童票原价:80元",
        "游客咨询电话:58792888",
    ]
    assert [b.text for b in blocks if b.kind == TABLE_ROW] == [
        "票种 | 原价（元） | 优惠价（元）",
        "成人票 | 279 | 199",
        "儿童票 | 80 | 60",
    ]
    assert kinds["游客在景区入口排队购票。记者 王明 摄"] == CAPTION  # centred, beside the image, a credit
    assert kinds["购票须知"] == HEADING  # a short wholly bold line
    assert not any(b.kind == HEADING and "原价" in b.text for b in blocks)


def test_news_page_end_to_end_keeps_prices_and_the_articles_phone() -> None:
    article = parse_document(RawDocument("https://news.example.cn/2024/07/01/a.html", NEWS_PAGE.encode(), True))
    texts = [p.text for p in article.paragraphs]
    headings = [s.heading for s in article.sections]
    assert article.title == "暑期景区门票优惠政策发布"
    assert "儿童票原价:80元" in texts and "游客咨询电话:58792888" in texts
    assert "成人票 | 279 | 199" in texts
    assert {p.kind for p in article.paragraphs if p.text == "成人票 | 279 | 199"} == {TABLE_ROW}
    assert not any("原价" in h for h in headings)
    reasons = {r.text: r.reason for r in article.removals}
    assert reasons.get("游客在景区入口排队购票。记者 王明 摄") == "image_caption"
    assert reasons.get("地址：某某市滨江路1号 邮编：310000 电话：0571-87051234") == "contact"
    assert not any("版权所有" in t or "首页" in t for t in texts)


def test_clean_blocks_removes_furniture_only_with_evidence() -> None:
    blocks = [
        Block("暑期景区门票优惠政策发布", HEADING),
        Block("2024-07-01 09:30 来源：某某日报"),
        Block(PROSE),
        Block("成人票原价:279元", LIST_ITEM),
        Block("游客咨询电话:58792888", LIST_ITEM),
        Block(PROSE),
        Block("责任编辑：李华"),
        Block("为您推荐"),
        Block("暑期自驾游线路推荐", is_link=True),
        Block("3小时前"),
    ]
    cleaned = clean_blocks(blocks, known_title="暑期景区门票优惠政策发布")
    kept = [b.text for b in cleaned.blocks]
    assert kept == [PROSE, "成人票原价:279元", "游客咨询电话:58792888", PROSE]
    reasons = [(r.reason, r.text) for r in cleaned.removals]
    assert ("metadata_line", "2024-07-01 09:30 来源：某某日报") in reasons
    assert ("title", "暑期景区门票优惠政策发布") in reasons
    assert ("related_links", "暑期自驾游线路推荐") in reasons and ("related_links", "3小时前") in reasons


def test_text_input_label_and_figure_is_not_a_heading() -> None:
    cleaned = clean_lines(
        ["景区门票", PROSE, "成人票原价:279元", "游客咨询电话:58792888", PROSE, "二、购票须知", PROSE]
    )
    headings = [b.text for b in cleaned.blocks if b.is_heading]
    assert "成人票原价:279元" not in headings and "二、购票须知" in headings
    assert "游客咨询电话:58792888" in [b.text for b in cleaned.blocks]  # the article's own number, not a banner
