"""Each removal's reason fits its evidence: repeats, captions, sidebars, list dates and comment boxes.

The pages are written for these tests in the shapes portals use (an interview, a poem page, a news page with
a sidebar and a comment box); people, places and figures are made up.
"""

from __future__ import annotations

from datetime import date

import lxml.html

from parsers.article import parse_document
from parsers.clean import clean_blocks
from parsers.records import Article, RawDocument
from parsers.structure import dom_blocks, page_hints

ANSWERS = (
    "会增长。老龄人口持续增加，居家和社区养老的需求正在快速释放，床位缺口仍然较大，需要加快补齐短板。",
    "增长会放缓。前几年建设的机构床位已经陆续投入使用，今后的重点是提升服务质量而不是扩大规模。",
    "需求会转向上门服务。越来越多的老人希望在家中养老，助餐、助浴和康复护理等服务会成为新的增长点。",
)
QUESTION = "您认为明年全市养老服务需求会继续增长吗？您的判断依据是什么？"
FOLLOW_UP = "政府下一步应该优先做什么？"


def _interview() -> str:
    guests = ["市养老服务协会会长：周启明", "某某大学社会学院教授：林晓岚", "某某养老集团总经理：郑海涛"]
    parts = []
    for n, (guest, answer) in enumerate(zip(guests, ANSWERS, strict=True), start=1):
        parts.append(
            f"<p>{n}</p><p>{guest}</p><p>{QUESTION}</p><p>{answer}</p>"
            f"<p>{FOLLOW_UP}</p><p>建议{n}：完善政策，加大对社区养老服务设施的投入，培养更多专业护理人员。</p>"
        )
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>三位业内人士谈养老服务_某某财经网</title>
<meta name="PubDate" content="2024-03-08 10:00"></head><body>
<div class="nav"><a href="/">首页</a> <a href="/finance">财经</a> <a href="/about">关于我们</a></div>
<div class="main"><h1>三位业内人士谈养老服务</h1>
<div class="article">
<p>随着人口老龄化程度不断加深，养老服务需求持续增长。本网邀请三位业内人士，就明年养老服务市场的走势回答了相同的问题。</p>
{"".join(parts)}
<p>以上观点仅代表受访者个人意见。本网将持续关注养老服务市场的发展变化，欢迎读者继续提供线索。</p>
</div></div>
<div class="footer">版权所有：某某财经网</div></body></html>"""


REPEATED = (
    "今年以来，全省民政系统认真贯彻落实中央和省委决策部署，扎实推进社会救助、养老服务、社会组织管理等各项工作，"
    "民政事业发展取得新成效，群众获得感、幸福感、安全感持续增强。"
)
RUN = ("会议要求各地进一步加强养老机构安全管理工作。", "会议强调要把防范化解风险摆在更加突出的位置上。")


def _printed_twice() -> str:
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>全省民政工作推进会召开</title></head><body>
<div class="TRS_Editor">
<p>{REPEATED}</p>
<p>会议总结了上半年工作，安排部署下半年重点任务。省民政厅主要负责同志出席会议并讲话，各市民政局负责同志参加会议。</p>
<p>{REPEATED}</p>
<p>{RUN[0]}</p><p>{RUN[1]}</p>
<p>会上，五个设区市民政局作了交流发言，介绍了各自在基层治理和社会救助方面的经验做法。</p>
<p>{RUN[0]}</p><p>{RUN[1]}</p>
</div></body></html>"""


def _parse(html: str, uri: str) -> Article:
    return parse_document(RawDocument(uri, html.encode("utf-8"), True))


def _removed(article: Article, reason: str) -> list[str]:
    return [r.text for r in article.removals if r.reason == reason]


def test_a_question_put_to_each_guest_stays_before_each_answer() -> None:
    article = _parse(_interview(), "https://finance.example.cn/2024/03/08/interview.html")
    texts = [p.text for p in article.paragraphs]
    assert texts.count(QUESTION) == 3
    assert texts.count(FOLLOW_UP) == 3
    for answer in ANSWERS:  # each answer still follows its question
        assert texts[texts.index(answer) - 1] == QUESTION
    assert _removed(article, "duplicate_paragraph") == []


def test_a_paragraph_or_a_run_of_paragraphs_printed_twice_is_kept_once() -> None:
    article = _parse(_printed_twice(), "https://mzt.example.gov.cn/art/2024/7/1/art_1.html")
    texts = [p.text for p in article.paragraphs]
    assert texts.count(REPEATED) == 1
    assert texts.count(RUN[0]) == 1 and texts.count(RUN[1]) == 1
    assert sorted(_removed(article, "duplicate_paragraph")) == sorted([REPEATED, *RUN])


POEM_PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>重阳节，读几首写给长辈的诗_某某网</title>
<meta name="PubDate" content="2024-10-11"></head><body>
<div class="nav"><a href="/">首页</a> <a href="/culture">文化</a> <a href="/about">关于我们</a></div>
<div class="main"><h1>重阳节，读几首写给长辈的诗</h1>
<div class="text">
<p style="text-indent:2em">重阳节又称敬老节。古往今来，许多诗人写下了思念亲人、敬重长辈的诗句，今天我们一起来读一读，感受诗中那份浓浓的亲情。</p>
<p style="text-align:center"><a href="/p2.html"><img src="/img/autumn.png" width="400"></a></p>
<p style="text-align:center"><strong>《山居秋夜寄兄》</strong></p>
<p style="text-align:center"><strong>——（唐）某某</strong></p>
<p style="text-align:center">空山新雨后，明月照松间。</p>
<p style="text-align:center">遥知兄弟处，应念故园山。</p>
<p style="text-indent:2em">这首诗写于诗人客居他乡的秋夜，借山中明月寄托对兄长的思念，语言朴素而感情真挚，历来为人们所传诵和喜爱。</p>
<p style="text-indent:2em">诗人在诗中没有直接抒发思念之情，而是设想远方的兄长也在思念故园，以此衬托自己的心情，构思十分巧妙。</p>
<p style="text-align:center"><img src="/img/park.png" width="400"></p>
<p style="text-align:center">市民在公园里登高赏菊</p>
<p style="text-indent:2em">如今，登高赏菊、看望长辈仍是重阳节的习俗。不少社区组织志愿者上门陪伴独居老人，让传统节日有了新的内涵和温度。</p>
</div></div>
<div class="footer">版权所有：某某网</div></body></html>"""


def test_a_bold_centred_title_after_a_picture_is_a_heading_and_a_plain_centred_line_a_caption() -> None:
    article = _parse(POEM_PAGE, "https://culture.example.cn/2024/10/11/poems.html")
    assert "《山居秋夜寄兄》" not in _removed(article, "image_caption")
    assert "《山居秋夜寄兄》" in [s.heading for s in article.sections]
    assert _removed(article, "image_caption") == ["市民在公园里登高赏菊"]


PARAS = [
    "本报讯 5月6日，某某市举行社区养老服务中心集中启用仪式，全市新建的十二家社区养老服务中心同时投入运营，可为周边两万多名老年人提供日间照料、助餐、康复和精神慰藉等多项服务，受到居民普遍欢迎。",
    "据介绍，这批服务中心由政府投资建设、专业机构运营，每家中心都设有助餐点、康复室和文体活动室，老年人可以凭社保卡就近享受服务，困难老人还能获得相应补贴。",
    "市民政局有关负责人表示，下一步将继续完善“一刻钟养老服务圈”，力争到年底实现城市社区养老服务设施全覆盖，让更多老年人在家门口安享晚年生活。",
]
SIDEBAR = [
    ("养老护理员职业技能大赛开赛", "2021-04-02 08:58:39"),
    ("老旧小区加装电梯有了新进展", "2021-04-02 08:58:39"),
    ("这个社区食堂为何天天排长队", "2021-03-30 14:40:53"),
    ("一名村医坚守山村二十年", "2021-03-29 09:01:20"),
    ("医保报销比例再提高", "2021-03-28 10:11:12"),
]

LATEST = [
    ("社区助餐点扩至三百个", "2021-02-02 08:00:00"),
    ("冬季供暖保障工作启动", "2021-02-01 09:30:00"),
    ("残疾人两项补贴标准提高", "2021-01-29 16:45:10"),
]


def news_page(*, related: bool = True) -> str:
    """A portal's news page: the article, a related list, a WeChat box, a comment box, two sidebar lists of
    dated links and a contact footer; its date is printed in the header only (no <meta> date)."""
    body = "".join(f"<p>{p}</p>" for p in PARAS)
    hot = "".join(
        f'<li><a href="/hot/{n}.html">{title}</a><div class="publish-time">{stamp}</div></li>'
        for n, (title, stamp) in enumerate(SIDEBAR)
    )
    # the same kind of list with each date on its title's line: 标题 2021-04-02 08:58:39
    latest = "".join(
        f'<li><a href="/latest/{n}.html">{title}</a> <span>{stamp}</span></li>'
        for n, (title, stamp) in enumerate(LATEST)
    )
    items = "".join(f'<li><a href="/news/{n}.html">某某区推进养老服务第{n}批项目建设</a></li>' for n in range(1, 5))
    related_box = f'<div class="related"><h3>相关文章</h3><ul>{items}</ul></div>'
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>十二家社区养老服务中心启用_某某网</title></head>
<body>
<div class="top"><a href="/">首页</a> <a href="/news">新闻</a> <a href="/local">本地</a> <a href="/about">关于我们</a></div>
<div class="header"><div class="title">十二家社区养老服务中心启用</div>
<div class="info"><span class="time">2023-05-06 10:20:31</span> <span>来源：某某日报</span></div></div>
<div id="zoom">
<div class="left">
<div class="article">
<p>安装某某新闻客户端第一时间接收最新本地资讯→【下载地址】</p>
<h1>十二家社区养老服务中心启用</h1>
{body}
<p>责任编辑：王小明</p>
</div>
{related_box if related else ""}
<div class="weixin"><ul><li style="font-weight:bold">某某网官方微信</li><li>微信号：moumou_news</li></ul></div>
<div class="comment-box">
<div>56条评论|1,203人参与网友评论</div>
<div><span>表情</span></div><div><a href="/login">登录</a>|<a href="/reg">注册</a></div>
<div>最热评论</div>
<div>用户5566江苏南京</div><div>家门口就能吃上热饭，这个好。</div><div>5月6日11:02举报赞12回复</div>
<div>查看全部56条评论 &gt;</div>
</div>
</div>
<div class="right"><ul class="hot-news"><div class="name">热帖</div>{hot}</ul>
<ul class="latest">{latest}</ul>
<div class="app"><li><img src="/images/ewm1.gif"><span>某某新闻APP</span></li></div></div>
</div>
<div class="footer"><p>地 址：某某市人民路100号</p><p>邮政编码：210000</p><p>电 话：025-84561234</p><p>传 真：025-84561235</p>
<p>版权所有：某某网</p></div>
</body></html>"""


def test_dated_links_are_entries_of_a_list_and_the_page_keeps_its_own_date() -> None:
    # without a 相关文章 header before them, nothing but their links tells the sidebar lists from a byline
    article = _parse(news_page(related=False), "https://news.example.cn/2023/05/06/a.html")
    assert article.published_date == date(2023, 5, 6)  # the header's date, not a sidebar entry's
    assert not [text for text in _removed(article, "metadata_line") if "2021" in text]
    related = _removed(article, "related_links")
    for title, stamp in LATEST:  # a title with its date on one line: one entry of a list of links
        assert any(title in text and stamp in text for text in related)
    reasons = {r.text: r.reason for r in article.removals}
    for title, stamp in SIDEBAR:  # a date on a line of its own under its title: the list's, after the article
        assert reasons[title] == "related_links" and reasons[stamp] in ("related_links", "page_tail")


def _page_reasons() -> dict[str, str]:
    """Reason of each removed line when the whole page body is read as blocks (no container to trust)."""
    root = lxml.html.document_fromstring(news_page())
    cleaned = clean_blocks(dom_blocks(root.body, page_hints(root)), known_title="十二家社区养老服务中心启用")
    assert [b.text for b in cleaned.blocks if not b.is_heading][-len(PARAS) :] == PARAS
    return {r.text: r.reason for r in cleaned.removals}


def test_a_sidebar_box_after_a_related_list_is_the_page_tail_not_a_related_link() -> None:
    reasons = _page_reasons()
    assert reasons["相关文章"] == "related_links"
    assert reasons["某某区推进养老服务第1批项目建设"] == "related_links"
    assert reasons["某某网官方微信"] == "page_tail"
    assert reasons["微信号：moumou_news"] == "page_tail"


def test_a_comment_box_is_logged_as_comments_up_to_its_see_all_link() -> None:
    reasons = _page_reasons()
    for line in ("56条评论|1,203人参与网友评论", "最热评论", "用户5566江苏南京", "家门口就能吃上热饭，这个好。"):
        assert reasons[line] == "comments"
    assert reasons["表情"] == "button" and reasons["登录|注册"] == "button"
    assert reasons["热帖"] == "page_tail"  # the sidebar after the box is not a comment


def test_app_banner_qr_label_and_a_sites_contact_block_are_furniture_with_their_own_reason() -> None:
    reasons = _page_reasons()
    assert reasons["某某新闻APP"] == "page_furniture"  # the label under a QR code, not a photo's caption
    assert reasons["安装某某新闻客户端第一时间接收最新本地资讯→【下载地址】"] == "promotion"
    for line in ("地 址：某某市人民路100号", "邮政编码：210000", "电 话：025-84561234", "传 真：025-84561235"):
        assert reasons[line] == "contact"
