"""A reproducible benchmark corpus: N government-style civil-affairs article pages, plus list pages linking them.

Pages look like real provincial and city 民政 sites: a per-site template (head metadata, stylesheet, scripts,
top bar, a large column menu, breadcrumb 当前位置, 发布日期/来源 line, 字体 大中小, 打印本页 关闭窗口, share bar,
previous/next links, related lists, a sidebar, friend-link <select>, footer with 主办单位 / 网站标识码 / ICP备)
around an article composed from sentence templates with figures and the seed articles' paragraphs re-mixed
(numbers and places changed). Sites differ in CMS: Hanweb (body in #zoom), TRS (.TRS_Editor) and a plain
CMS whose body is in no known container, so trafilatura has to find it; a fifth of the sites are GBK encoded
and say <meta charset=gb2312>. A few articles are reposted by a second site. Same seed, same bytes.

    .venv/bin/python benchmarks/corpus.py bench-out/corpus-5000 --pages 5000

Output folder (served as it is by benchmarks/serve.py for the fetch benchmark):
    pages/<site>/...          the article pages (what `civic-ingest ingest DIR/pages` reads)
    lists/<site>/index.html   list pages of each site, 20 articles per page (index_1.html, index_2.html ...)
    lists/all.html            one list page linking every article
    manifest.json             parameters and counts; a folder whose manifest matches is reused as it is
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import sys
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from html import escape
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
GENERATOR_VERSION = 1  # bump when the pages change, so old corpora are rebuilt
DEFAULT_SEED = 20261123
LIST_PAGE_SIZE = 20
REPOST_SHARE = 0.03
# Three sites in eight use Hanweb (#zoom), two TRS (.TRS_Editor), three a CMS whose body only trafilatura finds.
CMS_BY_SITE = (
    "hanweb",
    "trs",
    "plain",
    "hanweb",
    "plain",
    "trs",
    "hanweb",
    "plain",
)  # articles a second site republishes word for word

PROVINCES = {
    "浙江": ("浙", "杭州", "宁波", "温州", "湖州", "嘉兴", "绍兴", "金华", "台州"),
    "江苏": ("苏", "南京", "苏州", "无锡", "常州", "南通", "徐州", "扬州", "盐城"),
    "山东": ("鲁", "济南", "青岛", "淄博", "烟台", "潍坊", "济宁", "临沂", "威海"),
    "广东": ("粤", "广州", "深圳", "佛山", "东莞", "中山", "珠海", "汕头", "湛江"),
    "河南": ("豫", "郑州", "洛阳", "开封", "南阳", "新乡", "许昌", "信阳", "商丘"),
    "四川": ("川", "成都", "绵阳", "宜宾", "南充", "泸州", "德阳", "乐山", "达州"),
    "湖北": ("鄂", "武汉", "宜昌", "襄阳", "荆州", "黄冈", "孝感", "十堰", "咸宁"),
    "湖南": ("湘", "长沙", "株洲", "湘潭", "衡阳", "岳阳", "常德", "益阳", "郴州"),
    "陕西": ("陕", "西安", "宝鸡", "咸阳", "渭南", "汉中", "榆林", "延安", "安康"),
    "吉林": ("吉", "长春", "吉林", "四平", "通化", "白山", "松原", "白城", "延边"),
    "福建": ("闽", "福州", "厦门", "泉州", "漳州", "莆田", "三明", "南平", "龙岩"),
    "安徽": ("皖", "合肥", "芜湖", "蚌埠", "安庆", "阜阳", "宿州", "六安", "滁州"),
}
SEED_PLACES = re.compile("江苏|苏州|淄博|陕西|吉林|浙江|山东|南京|无锡")
NUMBER = re.compile(r"\d+(?:\.\d+)?")

TOPICS = (
    ("社会救助", "低保", "特困人员", "临时救助"),
    ("养老服务", "养老机构", "居家养老", "老年助餐"),
    ("儿童福利", "孤儿", "留守儿童", "困境儿童"),
    ("社会组织", "社会团体", "基金会", "社会服务机构"),
    ("慈善事业", "慈善组织", "慈善信托", "志愿服务"),
    ("婚姻登记", "结婚登记", "离婚登记", "婚俗改革"),
    ("殡葬管理", "公益性公墓", "惠民殡葬", "节地生态安葬"),
    ("残疾人福利", "困难残疾人生活补贴", "重度残疾人护理补贴", "康复辅助器具"),
    ("社区治理", "城乡社区", "社区工作者", "村（居）民委员会"),
    ("区划地名", "地名普查", "行政区划", "界线联检"),
)
TITLE_TEMPLATES = (
    "{prov}{city}：{verb}{topic}工作取得新成效",
    "{city}市民政局召开{year}年{topic}工作推进会",
    "{prov}省{verb}{sub}{noun}",
    "{city}{verb}“{brand}”品牌 {verb2}{topic}高质量发展",
    "关于{year}年{topic}专项行动进展情况的通报",
    "{prov}民政：{year}年{sub}{noun}",
    "{city}市{sub}政策解读",
    "{county}持续{verb}{sub}服务 {n}户困难群众受益",
)
VERBS = ("扎实推进", "全面加强", "深化", "创新", "聚焦", "完善", "规范", "优化", "提升", "健全")
NOUNS = ("工作综述", "情况通报", "实施方案解读", "典型经验", "专项行动", "服务体系建设", "提质增效")
BRANDS = ("暖心民政", "有为社工", "幸福颐养", "阳光救助", "善行", "邻里守望", "安心养老", "同心护苗")
SENTENCES = (
    "截至{year}年{month}月底，全{unit}共有{sub}对象{big}人，{month2}月发放{sub}资金{money}万元。",
    "{year}年以来，{place}累计投入{topic}资金{money}万元，惠及困难群众{big}人次。",
    "全{unit}城乡低保平均标准分别达到每人每月{small}元和{small2}元，同比增长{pct}%。",
    "{place}已建成{sub}站点{count}个，覆盖率达到{pct}%，比上年提高{pct2}个百分点。",
    "目前，全{unit}登记社会组织{big}家，其中社会团体{count}家、社会服务机构{count2}家、基金会{small}家。",
    "{place}新增养老床位{count}张，护理型床位占比提高到{pct}%。",
    "全年共办理结婚登记{big}对、离婚登记{count}对，颁证服务{count2}场次。",
    "{place}为{count}名困境儿童落实基本生活保障，发放保障金{money}万元。",
    "今年{month}月，{place}组织开展{sub}专项排查，走访核查{big}户，整改问题{count}个。",
    "通过政府购买服务，{place}引导{count}家社会组织参与{sub}，服务群众{big}人次。",
    "{place}慈善总会全年募集善款{money}万元，支出{money2}万元，实施慈善项目{count}个。",
    "{place}共有持证社会工作者{count}人，其中高级社会工作师{small}人。",
    "全{unit}{count}个乡镇（街道）实现社会工作站全覆盖，配备社工{big}名。",
    "{place}将{sub}标准提高到每人每年{small}元，约{count}万人受益。",
)
FILLERS = (
    "{place}民政部门坚持以人民为中心的发展思想，把{topic}作为保障和改善民生的重要抓手，统筹推进各项工作落地见效。",
    "下一步，{place}将进一步健全{sub}长效机制，加强部门协同和信息共享，推动{topic}工作再上新台阶。",
    "会议强调，要提高政治站位，压实工作责任，确保{sub}各项政策措施落实到位，切实兜住兜准兜牢民生底线。",
    "各地要结合实际，细化工作措施，加强督促指导，及时研究解决工作中遇到的困难和问题。",
    "{place}创新推出“{brand}”服务模式，整合政府、市场和社会资源，为群众提供更加便捷、精准的服务。",
    "据了解，{place}还将组织开展{sub}业务培训，进一步提升基层民政干部的业务能力和服务水平。",
)
HEADINGS = (
    "坚持党建引领，把稳发展方向",
    "强化制度建设，夯实工作基础",
    "聚焦民生需求，提升服务质效",
    "加强监督管理，规范运行秩序",
    "创新工作机制，激发发展活力",
    "深化改革攻坚，破解重点难题",
    "下一步工作打算",
)
BLOCK_CLASSES = (
    "topbar",
    "header",
    "search",
    "nav",
    "subnav",
    "banner",
    "service-list",
    "main",
    "position",
    "article",
    "article-title",
    "info",
    "share",
    "print",
    "prev-next",
    "related",
    "aside",
    "aside-box",
    "friend-links",
    "footer",
)
ORDINALS = "一二三四五六七八九十"
COLUMNS = (
    ("首页", ()),
    ("机构概况", ("领导信息", "机构职能", "内设机构", "直属单位")),
    ("政务公开", ("政府信息公开指南", "政府信息公开制度", "法定主动公开内容", "政府信息公开年报", "依申请公开")),
    ("新闻动态", ("工作动态", "市县动态", "图片新闻", "媒体聚焦", "通知公告")),
    ("政策法规", ("法律法规", "部门规章", "规范性文件", "政策解读", "文件清理结果")),
    ("社会救助", ("最低生活保障", "特困人员救助供养", "临时救助", "救助管理", "政策问答")),
    ("养老服务", ("机构养老", "居家社区养老", "养老服务补贴", "养老机构名录", "智慧养老")),
    ("社会组织", ("登记管理", "年检年报", "社会组织党建", "执法监督", "社会组织名录")),
    ("社会事务", ("婚姻登记", "殡葬管理", "儿童福利", "残疾人福利", "流浪乞讨救助")),
    ("基层政权", ("城乡社区治理", "村务公开", "社会工作", "志愿服务")),
    ("办事服务", ("办事指南", "表格下载", "在线办理", "办件查询", "便民服务")),
    ("互动交流", ("厅长信箱", "在线访谈", "征集调查", "常见问题", "留言选登")),
    ("数据发布", ("统计数据", "统计公报", "季度数据", "民政事业发展统计")),
)
FRIEND_SITES = (
    *(f"{p}省民政厅" for p in PROVINCES),
    "中华人民共和国民政部",
    "中国政府网",
    "中国社会组织政务服务平台",
    "全国养老服务信息系统",
    "中国慈善联合会",
)


@dataclass(frozen=True)
class Site:
    name: str  # folder and URL segment, e.g. "mzt-zj-03"
    province: str
    city: str | None  # None: the provincial 民政厅
    cms: str  # "hanweb" (#zoom), "trs" (.TRS_Editor) or "plain" (no known container)
    encoding: str  # "utf-8" or "gbk"
    has_meta: bool  # Hanweb and TRS put ArticleTitle/PubDate/ContentSource <meta> tags in the head
    head: str = field(repr=False)  # stylesheet and scripts of the site's template
    top: str = field(repr=False)  # top bar, header, column menu
    aside: str = field(repr=False)
    footer: str = field(repr=False)

    @property
    def title(self) -> str:
        return f"{self.city}市民政局" if self.city else f"{self.province}省民政厅"


@dataclass(frozen=True)
class Article:
    site: Site
    path: str  # relative to the corpus root, e.g. "pages/mzt-zj-03/art/2024/5/3/art_1229_4711.html"
    title: str
    day: date
    outlet: str
    paragraphs: tuple[tuple[str, bool], ...]  # (text, is_heading)


class Writer:
    """Composes sites, articles and pages from one seeded random generator."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.seed_paragraphs = [
            line.strip()
            for path in sorted(SEEDS.glob("*.txt"))
            for line in path.read_text(encoding="utf-8").splitlines()[2:]
            if len(line.strip()) >= 40
        ]

    # -- text -------------------------------------------------------------------------------------------
    def _slots(self, place: str, unit: str, topic: tuple[str, ...], year: int) -> dict[str, object]:
        r = self.rng
        return {
            "place": place,
            "unit": unit,
            "topic": topic[0],
            "sub": r.choice(topic[1:]),
            "year": year,
            "month": r.randint(1, 12),
            "month2": r.randint(1, 12),
            "big": f"{r.randint(1000, 990000):,}".replace(",", "")
            if r.random() < 0.7
            else f"{r.randint(11, 980) / 10}万",
            "count": r.randint(12, 3800),
            "count2": r.randint(12, 3800),
            "small": r.randint(60, 1200),
            "small2": r.randint(60, 1200),
            "money": round(r.uniform(50, 98000), r.choice((0, 1, 2))),
            "money2": round(r.uniform(50, 98000), 1),
            "pct": round(r.uniform(1, 99), 1),
            "pct2": round(r.uniform(0.5, 12), 1),
            "brand": r.choice(BRANDS),
        }

    def _remix(self, text: str, place: str) -> str:
        """A seed paragraph with its places and figures changed."""

        def number(match: re.Match[str]) -> str:
            digits = match.group(0)
            if "." in digits:
                return f"{self.rng.uniform(1, 10 ** len(digits.split('.')[0])):.{len(digits.split('.')[1])}f}"
            if len(digits) == 4 and digits.startswith("20"):  # a year stays a plausible year
                return str(self.rng.randint(2015, 2025))
            return str(self.rng.randint(10 ** (len(digits) - 1), 10 ** len(digits) - 1)) if len(digits) > 1 else digits

        return NUMBER.sub(number, SEED_PLACES.sub(place, text))

    def article(self, site: Site, index: int) -> Article:
        r = self.rng
        prov, abbrev, *cities = site.province, *PROVINCES[site.province]
        city = site.city or r.choice(cities)
        county = city + r.choice(("高新区", "经开区", "县", "区", "新区"))
        day = date(2019, 1, 1) + timedelta(days=r.randint(0, 7 * 365 - 1))
        topic = r.choice(TOPICS)
        title = r.choice(TITLE_TEMPLATES).format(
            prov=prov,
            city=city,
            county=county,
            verb=r.choice(VERBS),
            verb2=r.choice(VERBS),
            topic=topic[0],
            sub=r.choice(topic[1:]),
            noun=r.choice(NOUNS),
            brand=r.choice(BRANDS),
            year=day.year,
            n=r.randint(100, 9000),
        )
        place, unit = (city + "市", "市") if site.city else (prov + "省", "省")
        paragraphs: list[tuple[str, bool]] = []
        headings = r.sample(HEADINGS, r.randint(3, 5)) if r.random() < 0.5 else []
        for h in range(max(1, len(headings))):
            if headings:
                paragraphs.append((f"{ORDINALS[h]}、{headings[h]}", True))
            for _ in range(r.randint(2, 6) if headings else r.randint(7, 16)):
                slots = self._slots(r.choice((place, county, abbrev + "民政")), unit, topic, day.year)
                if r.random() < 0.45:
                    text = self._remix(r.choice(self.seed_paragraphs), site.city or prov)
                else:
                    sentences = [s.format(**slots) for s in r.sample(SENTENCES, r.randint(1, 3))]
                    sentences.insert(r.randint(0, len(sentences)), r.choice(FILLERS).format(**slots))
                    text = "".join(sentences)
                paragraphs.append((text, False))
        outlet = r.choice((site.title, f"{city}日报", f"{prov}日报", "中国社会报", f"{county}民政局"))
        stamp = f"{day:%Y%m%d}"
        if site.cms == "hanweb":
            path = f"art/{day.year}/{day.month}/{day.day}/art_{1200 + index % 90}_{40000 + index}.html"
        elif site.cms == "trs":
            path = f"{['gzdt', 'sxdt', 'tzgg'][index % 3]}/{stamp[:6]}/t{stamp}_{5000000 + index}.html"
        else:
            path = f"news/{day.year}/{stamp[4:]}/{index}.shtml"
        return Article(site, f"pages/{site.name}/{path}", title, day, outlet, tuple(paragraphs))

    # -- page furniture ---------------------------------------------------------------------------------
    def site(self, number: int) -> Site:
        r = self.rng
        province = list(PROVINCES)[number % len(PROVINCES)]
        city = None if number % 3 == 0 else PROVINCES[province][1 + number % 8]
        cms = CMS_BY_SITE[number % len(CMS_BY_SITE)]
        encoding = "gbk" if number % 5 == 1 else "utf-8"
        name = f"{'mzt' if city is None else 'mzj'}-{number:02d}"
        title = f"{city}市民政局" if city else f"{province}省民政厅"
        return Site(
            name=name,
            province=province,
            city=city,
            cms=cms,
            encoding=encoding,
            has_meta=cms != "plain" or r.random() < 0.5,
            head=self._head(name),
            top=self._top(title, name),
            aside=self._aside(),
            footer=self._footer(title, province, number),
        )

    def _head(self, name: str) -> str:
        r = self.rng
        rules = []
        for block in BLOCK_CLASSES:
            for part in (
                "",
                "-inner",
                " ul",
                " li",
                " a",
                " a:hover",
                " .title",
                " .more",
                " span",
                " img",
                " p",
                " h3",
            ):
                rules.append(
                    f".{block}{part}{{margin:{r.randint(0, 20)}px auto;padding:0 {r.randint(0, 16)}px;"
                    f"font-size:{r.choice((12, 14, 16, 18))}px;line-height:{r.choice((20, 24, 28, 32))}px;"
                    f"color:#{r.randrange(0x1000000):06x};background:#{r.randrange(0x1000000):06x};}}"
                )
        columns = ",".join(f'{{id:"col{r.randint(1000, 99999)}",name:"{c}"}}' for c, _ in COLUMNS)
        script = (
            f'var siteConfig={{siteId:"{r.randint(10, 999)}",siteCode:"{name}",webid:{r.randint(1, 99)},'
            f'searchUrl:"/jsearchfront/search.do",columns:[{columns}]}};\n'
            "function doZoom(size){var el=document.getElementById('zoom')||document.body;"
            "el.style.fontSize=size+'px';var ps=el.getElementsByTagName('p');"
            "for(var i=0;i<ps.length;i++){ps[i].style.fontSize=size+'px';}}\n"
            "function shareTo(type){var url=encodeURIComponent(location.href),title=encodeURIComponent(document.title);"
            "var map={weibo:'https://service.weibo.com/share/share.php?url='+url+'&title='+title,"
            "qzone:'https://sns.qzone.qq.com/cgi-bin/qzshare/cgi_qzshare_onekey?url='+url+'&title='+title};"
            "if(type==='weixin'){document.getElementById('qrcode').style.display='block';return;}"
            "window.open(map[type],'_blank','width=600,height=450');}\n"
        )
        return (
            '<link rel="stylesheet" type="text/css" href="/images/common.css">\n'
            '<link rel="stylesheet" type="text/css" href="/images/article.css">\n'
            '<script type="text/javascript" src="/js/jquery-1.12.4.min.js"></script>\n'
            '<script type="text/javascript" src="/js/jquery.SuperSlide.2.1.3.js"></script>\n'
            f'<style type="text/css">\n{chr(10).join(rules)}\n</style>\n'
            f'<script type="text/javascript">\n{script}</script>\n'
        )

    def _menu_links(self, n: int, prefix: str = "/col/col") -> list[str]:
        r = self.rng
        names = [s for _, subs in COLUMNS for s in subs] + [t[0] for t in TOPICS] + [s for t in TOPICS for s in t[1:]]
        return [
            f'<li><a href="{prefix}{r.randint(1000, 99999)}/index.html" target="_blank" title="{s}">{s}</a></li>'
            for s in (r.choice(names) for _ in range(n))
        ]

    def _top(self, title: str, name: str) -> str:
        r = self.rng
        menu = []
        for column, subs in COLUMNS:
            items = [f'<li><a href="/col/col{r.randint(1000, 99999)}/index.html">{s}</a></li>' for s in subs]
            items += self._menu_links(r.randint(24, 48))
            menu.append(
                f'<li class="nav-item"><a class="nav-link" href="/col/col{r.randint(1000, 99999)}/index.html">{column}</a>'
                f'<div class="subnav"><ul class="clearfix">{"".join(items)}</ul></div></li>'
            )
        services = "".join(self._menu_links(r.randint(60, 90), prefix="/zwfw/item"))
        return (
            '<div class="topbar"><div class="topbar-inner">'
            f'<span class="welcome">欢迎访问{title}网站！今天是<script>document.write(new Date().toLocaleDateString());</script></span>'
            '<a href="javascript:void(0)" id="wza">无障碍</a> | <a href="javascript:void(0)" id="zzms">长者模式</a> | '
            '<a href="javascript:void(0)" id="jfq">繁體</a> | <a href="/col/col1/index.html">网站地图</a> | '
            '<a href="/login.html">登录</a> | <a href="/register.html">注册</a></div></div>\n'
            f'<div class="header"><div class="header-inner"><a href="/" class="logo"><img src="/images/logo.png" alt="{title}"></a>'
            '<form class="search" action="/jsearchfront/search.do" method="get"><input type="text" name="q" '
            'placeholder="请输入关键字"><input type="hidden" name="websiteid" value="1"><button type="submit">搜索</button>'
            "</form></div></div>\n"
            f'<div class="nav"><ul class="nav-list">{"".join(menu)}</ul></div>\n'
            f'<div class="banner"><div class="banner-inner"><ul class="service-list">{services}</ul></div></div>\n'
        )

    def _aside(self) -> str:
        r = self.rng
        blocks = []
        for heading in ("热点专题", "政策解读", "办事指南", "数据发布", "通知公告", "市县动态"):
            items = "".join(
                f'<li><a href="/art/{r.randint(2019, 2025)}/{r.randint(1, 12)}/{r.randint(1, 28)}/'
                f'art_{r.randint(1000, 2000)}_{r.randint(10000, 99999)}.html" target="_blank">'
                f"{r.choice(VERBS)}{r.choice(TOPICS)[0]}{r.choice(NOUNS)}</a><span>{r.randint(2019, 2025)}-"
                f"{r.randint(1, 12):02d}-{r.randint(1, 28):02d}</span></li>"
                for _ in range(r.randint(10, 16))
            )
            blocks.append(
                f'<div class="aside-box"><div class="title">{heading}<a class="more" href="#">更多&gt;&gt;</a></div><ul>{items}</ul></div>'
            )
        return f'<div class="aside">{"".join(blocks)}</div>'

    def _footer(self, title: str, province: str, number: int) -> str:
        r = self.rng
        abbrev = PROVINCES[province][0]
        options = "".join(
            f'<option value="http://mzt.example.gov.cn/{i}">{s}</option>' for i, s in enumerate(FRIEND_SITES)
        )
        code = f"{r.randint(11, 65)}{r.randint(0, 99):02d}{r.randint(0, 999999):06d}"
        return (
            '<div class="friend-links"><span>相关链接：</span>'
            f'<select onchange="window.open(this.value)"><option>-- 政府网站 --</option>{options}</select>'
            f'<select onchange="window.open(this.value)"><option>-- 市县民政 --</option>{options}</select></div>\n'
            '<div class="footer"><div class="footer-inner">'
            '<p><a href="/col/col2/index.html">网站地图</a> | <a href="/col/col3/index.html">联系我们</a> | '
            '<a href="/col/col4/index.html">隐私声明</a> | <a href="/col/col5/index.html">使用帮助</a></p>'
            f"<p>主办单位：{title}　承办单位：{title}信息中心</p>"
            f"<p>地址：{province}省{PROVINCES[province][1]}市{r.choice(('人民路', '建设路', '解放路', '文化路'))}"
            f"{r.randint(1, 399)}号　邮编：{r.randint(100000, 850000)}　联系电话：0{r.randint(10, 999)}-"
            f"{r.randint(10000000, 89999999)}</p>"
            f'<p>网站标识码：{code}　<a href="https://beian.miit.gov.cn/" target="_blank">{abbrev}ICP备'
            f'{r.randint(5000000, 19999999):08d}号</a>　<img src="/images/ga.png">{abbrev}公网安备 '
            f"{r.randint(10000000000000, 65999999999999)}号</p>"
            '<p><a href="http://bszs.conac.cn/sitename?method=show&amp;id=1"><img src="/images/dzjg.png" alt="党政机关"></a>'
            '<a href="/jiucuo"><img src="/images/jiucuo.png" alt="政府网站找错"></a>'
            "建议使用1920×1080分辨率及以上浏览本站</p></div></div>\n"
            '<script type="text/javascript">var _hmt=_hmt||[];(function(){var hm=document.createElement("script");'
            f'hm.src="https://hm.baidu.com/hm.js?{r.randrange(16**32):032x}";var s=document.getElementsByTagName("script")[0];'
            "s.parentNode.insertBefore(hm,s);})();</script>\n"
        )

    def page(self, a: Article, neighbours: list[Article]) -> str:
        site, r = a.site, self.rng
        column = r.choice(("工作动态", "市县动态", "通知公告", "政策解读", "媒体聚焦"))
        when = f"{a.day:%Y-%m-%d} {r.randint(8, 18):02d}:{r.randint(0, 59):02d}"
        charset = (
            '<meta http-equiv="Content-Type" content="text/html; charset=gb2312">'
            if site.encoding == "gbk"
            else '<meta charset="utf-8">'
        )
        first = next(text for text, heading in a.paragraphs if not heading)
        metas = [
            f'<meta name="keywords" content="{escape(site.title)},{escape(column)}">',
            f'<meta name="description" content="{escape(first[:80])}">',
        ]
        if site.has_meta:
            metas += [
                f'<meta name="SiteName" content="{site.title}">',
                f'<meta name="ColumnName" content="{column}">',
                f'<meta name="ArticleTitle" content="{escape(a.title)}">',
                f'<meta name="PubDate" content="{when}">',
                f'<meta name="ContentSource" content="{escape(a.outlet)}">',
            ]
        body = []
        for text, is_heading in a.paragraphs:
            if is_heading:
                body.append(f'<p style="text-indent:2em;"><strong>{escape(text)}</strong></p>')
            else:
                body.append(f'<p style="text-indent:2em;">{escape(text)}</p>')
        if r.random() < 0.25:
            at = r.randint(1, len(body))
            body.insert(at, '<p style="text-align:center;"><img src="/picture/0/s1.jpg" border="0"></p>')
        if r.random() < 0.15:
            rows = "".join(
                f"<tr><td>{r.choice(PROVINCES[site.province][1:])}</td><td>{r.randint(100, 9000)}</td>"
                f"<td>{r.uniform(1, 999):.1f}</td></tr>"
                for _ in range(r.randint(3, 8))
            )
            body.append(
                f'<table border="1"><tr><th>地区</th><th>救助人数（人）</th><th>资金（万元）</th></tr>{rows}</table>'
            )
        content = "\n".join(body)
        if site.cms == "hanweb":
            container = f'<div id="zoom">{content}</div>'
        elif site.cms == "trs":
            container = f'<div class="TRS_Editor"><div class="Custom_UnionStyle">{content}</div></div>'
        else:
            container = f'<div class="news-detail"><div class="detail-body">{content}</div></div>'
        related = "".join(
            f'<li><a href="/{n.path}" target="_blank">{escape(n.title)}</a><span>{n.day:%Y-%m-%d}</span></li>'
            for n in neighbours
        )
        previous = neighbours[0] if neighbours else a
        following = neighbours[-1] if neighbours else a
        return (
            f"<!DOCTYPE html>\n<html>\n<head>\n{charset}\n<title>{escape(a.title)}_{column}_{site.title}</title>\n"
            + "\n".join(metas)
            + f"\n{site.head}</head>\n<body>\n{site.top}"
            f'<div class="main"><div class="position">当前位置：<a href="/">首页</a> &gt; <a href="/col/col1/index.html">'
            f'新闻动态</a> &gt; <a href="/col/col2/index.html">{column}</a></div>\n'
            f'<div class="article"><h1 class="article-title">{escape(a.title)}</h1>\n'
            f'<div class="info"><span>发布日期：{when}</span><span>来源：{escape(a.outlet)}</span>'
            f'<span>浏览次数：<script src="/module/visitcount/articlehits.jsp?artid={r.randint(1, 10**6)}"></script></span>'
            '<span class="font">字体：[<a href="javascript:doZoom(20)">大</a> <a href="javascript:doZoom(16)">中</a> '
            '<a href="javascript:doZoom(14)">小</a>]</span></div>\n'
            f"{container}\n"
            '<div class="share">分享到：<a href="javascript:shareTo(\'weixin\')" class="weixin">微信</a>'
            '<a href="javascript:shareTo(\'weibo\')" class="weibo">微博</a>'
            '<a href="javascript:shareTo(\'qzone\')" class="qzone">QQ空间</a>'
            '<div id="qrcode" style="display:none"></div></div>\n'
            '<div class="print">【<a href="javascript:window.print()">打印本页</a>】'
            '【<a href="javascript:window.close()">关闭窗口</a>】</div>\n'
            f'<div class="prev-next"><p>上一篇：<a href="/{previous.path}">{escape(previous.title)}</a></p>'
            f'<p>下一篇：<a href="/{following.path}">{escape(following.title)}</a></p></div>\n'
            f'<div class="related"><div class="title">相关阅读</div><ul>{related}</ul></div></div>\n'
            f"{site.aside}</div>\n{site.footer}</body>\n</html>\n"
        )


def list_page(title: str, links: list[Article], next_page: str | None) -> str:
    items = "".join(
        f'<li><a href="/{a.path}" title="{escape(a.title)}" target="_blank">{escape(a.title)}</a>'
        f"<span>{a.day:%Y-%m-%d}</span></li>\n"
        for a in links
    )
    pager = f'<div class="pager"><a href="{next_page}">下一页</a></div>' if next_page else ""
    return (
        f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>{escape(title)}</title></head>\n'
        f'<body><div class="list"><ul>\n{items}</ul>{pager}</div></body></html>\n'
    )


def generate(out: Path, pages: int, seed: int = DEFAULT_SEED, sites: int = 24) -> dict[str, object]:
    """Write the corpus to `out` (replacing it) and return its manifest."""
    writer = Writer(seed)
    site_list = [writer.site(n) for n in range(sites)]
    articles = [writer.article(site_list[i % sites], i) for i in range(pages)]
    # Reposts: a second site publishes an earlier article's body word for word.
    for i in range(pages):
        if writer.rng.random() < REPOST_SHARE and i > sites:
            original = articles[writer.rng.randrange(i)]
            articles[i] = Article(
                articles[i].site, articles[i].path, original.title, original.day, original.outlet, original.paragraphs
            )
    if out.exists():
        shutil.rmtree(out)
    total_bytes = 0
    by_site: dict[str, list[Article]] = {}
    for i, a in enumerate(articles):
        by_site.setdefault(a.site.name, []).append(a)
        neighbours = [articles[(i + k * sites) % pages] for k in range(1, writer.rng.randint(6, 11))]
        data = writer.page(a, neighbours).encode(a.site.encoding, errors="xmlcharrefreplace")
        path = out / a.path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        total_bytes += len(data)
    for name, links in by_site.items():
        chunks = [links[i : i + LIST_PAGE_SIZE] for i in range(0, len(links), LIST_PAGE_SIZE)]
        for n, chunk in enumerate(chunks):
            page = out / "lists" / name / ("index.html" if n == 0 else f"index_{n}.html")
            page.parent.mkdir(parents=True, exist_ok=True)
            following = f"index_{n + 1}.html" if n + 1 < len(chunks) else None
            page.write_text(list_page(f"{name} 工作动态", chunk, following), encoding="utf-8")
    (out / "lists" / "all.html").write_text(list_page("全部文章", articles, None), encoding="utf-8")
    manifest: dict[str, object] = {
        "generator_version": GENERATOR_VERSION,
        "pages": pages,
        "seed": seed,
        "sites": sites,
        "bytes": total_bytes,
        "mean_kib": round(total_bytes / max(pages, 1) / 1024, 1),
        "cms": {c: sum(a.site.cms == c for a in articles) for c in ("hanweb", "trs", "plain")},
        "gbk": sum(a.site.encoding == "gbk" for a in articles),
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    return manifest


def ensure_corpus(out: Path, pages: int, seed: int = DEFAULT_SEED) -> dict[str, object]:
    """The manifest of the corpus in `out`, generating it first unless one with these parameters is there."""
    try:
        manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
        if (manifest["generator_version"], manifest["pages"], manifest["seed"]) == (GENERATOR_VERSION, pages, seed):
            return dict(manifest)
    except (OSError, ValueError, KeyError):
        pass
    return generate(out, pages, seed)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path, help="output folder (e.g. bench-out/corpus-5000; gitignored)")
    parser.add_argument("--pages", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args()
    started = time.perf_counter()
    manifest = generate(args.out, args.pages, args.seed)
    print(json.dumps(manifest, ensure_ascii=False), f"in {time.perf_counter() - started:.1f}s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
