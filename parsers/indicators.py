"""Figures in article text -> Indicator records: value, unit, qualifier, metric, region, period.

No library does this job whole (see FIELD-NOTES: jionlp covers money only; Recognizers, chinese2digits
and Duckling return bare numbers with many false hits such as years and 长三角 -> 三角), so the engine is
a set of compiled regexes written from how official Chinese reporting prints figures, with cn2an for
Chinese numerals. One pass per sentence; nothing here depends on one article's wording.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache

import cn2an

from parsers.metrics import MetricRule, code_metric, default_rules
from parsers.records import Indicator, Paragraph, stable_id
from parsers.regions import CITY, COUNTY, Place, find_places, place_by_name

EXACT, OVER, APPROX, UNDER = "exact", "over", "approx", "under"

# --- the figure itself ---------------------------------------------------------------------------
# Measure words, longest first so 人次 wins over 人 and 个工作日 over 个.
UNITS = sorted(
    [
        "个工作日",
        "个百分点",
        "百分点",
        "个月",
        "平方米",
        "平方公里",
        "公里",
        "千米",
        "人次",
        "场次",
        "户次",
        "家次",
        "余次",
        "个",
        "家",
        "人",
        "名",
        "位",
        "元",
        "项",
        "次",
        "场",
        "件",
        "笔",
        "吨",
        "亩",
        "所",
        "座",
        "处",
        "户",
        "套",
        "期",
        "条",
        "轮",
        "起",
        "篇",
        "块",
        "种",
        "批",
        "届",
        "支",
        "本",
        "台",
        "辆",
        "张",
        "份",
        "例",
        "床",
        "间",
        "部",
        "册",
        "首",
        "幅",
        "门",
        "节",
        "课时",
        "小时",
        "天",
        "周",
        "年",
        "倍",
        "%",
        "％",
    ],
    key=len,
    reverse=True,
)
UNIT_ALT = "|".join(map(re.escape, UNITS))
SCALES = {"万亿": 1e12, "千亿": 1e11, "百亿": 1e10, "亿": 1e8, "千万": 1e7, "百万": 1e6, "万": 1e4, "千": 1e3}
SCALE_ALT = "|".join(sorted(SCALES, key=len, reverse=True))
ARABIC = r"(?P<num>[-−]?(?:\d{1,3}(?:,\d{3})+(?!\d)|\d+)(?:\.\d+)?)"
CN_NUMERAL = (
    r"(?P<cn>"
    r"(?:[两三四五六七八九]|[一二两三四五六七八九]?十)[十百千万亿零〇一二两三四五六七八九]*"
    r"|[一二两三四五六七八九]?[百千][零〇一二两三四五六七八九十百千万亿]*"
    r"|[一二两三四五六七八九]?万[零〇一二两三四五六七八九十百千亿]*"
    r")"
)
FIGURE = re.compile(
    rf"(?:{ARABIC}|{CN_NUMERAL})"
    rf"(?P<q1>余|多)?(?P<scale>{SCALE_ALT})?(?P<q2>余|多)?"
    rf"(?P<unit>{UNIT_ALT})?"
    rf"(?P<q3>以上|以下|以内|左右|上下)?"
)
QUALIFIER_BEFORE = (
    (re.compile(r"(?:超过|超出|超|逾|多于|高于|不少于|不低于)$"), OVER),
    (re.compile(r"(?:将近|接近|近|约|大约|大概|近乎)$"), APPROX),
    (re.compile(r"(?:不足|不到|少于|低于|不超过|未超过|最多)$"), UNDER),
)
QUALIFIER_AFTER = {
    "余": OVER,
    "多": OVER,
    "以上": OVER,
    "以下": UNDER,
    "以内": UNDER,
    "左右": APPROX,
    "上下": APPROX,
}

# --- what is not an indicator --------------------------------------------------------------------
DATE_OR_TIME_AFTER = re.compile(
    r"^(?:年(?!度?[以来])?|月|日|号|时|点|分|秒|:|：\d|·|\.\d|/\d|[-—–~至]\s*(?:19|20)\d\d)"
)
CODE_AFTER = re.compile(r"^(?:[A-Za-z]|\+|版|级|号|期\)|届[一-龥]{0,2}会议|楼|层|路|街|米高)")
CODE_BEFORE = re.compile(r"(?:第|每|前|〔|\[|【|No\.?|编号|号码|电话|热线|[A-Za-z+]|\d[.．]|[-—–~至到])$")
ENUMERATION_AFTER = re.compile(
    r"^(?:个|大|项|方面|方|地|级|类|化|位一体|同步|纳入|覆盖|联动)?[一-龥]?(?:一|好|化|强|优|有)(?:[”\"，,、。]|$)"
)
DURATION_CONTEXT = re.compile(r"(?:连续|为期|历时|用了?|经过|近|长达|持续|满)$")
SMALL_CN_UNITS = frozenset({"届", "轮"})  # small Chinese numerals count only these (两届, 三轮)
DURATION_UNITS = frozenset({"年", "个月", "天", "周", "小时", "个工作日"})
YEAR_LIKE = re.compile(r"^(?:19|20)\d\d$")
OPEN_QUOTE, CLOSE_QUOTE = '“「『"', '”」』"'
MAX_QUOTED_NAME = 16  # a quoted span this short is a name or slogan (“百社百村”, 四个“100%”)

# --- context --------------------------------------------------------------------------------------
SENTENCE_END = re.compile(r"(?<=[。！？!?])[”’\"」』)）]*")
CLAUSE_SPLIT = re.compile(r"[,，、;；:：。！？!?()（）]")
PEOPLE_NOUN = re.compile(
    r"^[^，,。；;]{0,6}(?:群众|居民|人员|人口|老人|儿童|学生|职工|志愿者|党员|会员|农民|家庭成员|村民|青年|妇女)"
)
MONEY_CONTEXT = re.compile(r"资金|基金|规模|投资|金额|款|经费|收入|收费|产值|效益|资产|预算|营收|融资|捐")
NOUN_AFTER = re.compile(r"^[“\"]?[^\d，,。；;、:：()（）“”\"!！?？]{1,18}")
VERB_BOUNDARY = re.compile(
    r"(?:参与|参加|通过|完成|投入|受益|提供|实施|开展|捐|签订|签约|结对|进行|已|共同|获|联合|走进|积极|投身|主动|"
    r"为|对|在|与|和|纳入|集聚|覆盖|帮扶|入驻|成为|达到|实现|承接|参检|上线|加入|派驻|被|将|得到|均|全部|分别)"
)
LEADING_NOISE = re.compile(
    r"^(?:其中|截至目前|截至|目前|当前|同时|此外|另外|全省|全市|全区|全县|全州|全国|全盟|省级|市级|县级|共有|现有|已有|"
    r"累计|共|已|还|再|均|新增|新|达到|达|合计|总计|总|有|拥有|为|是|的|并|和|及|在|于|将|对|向)+"
)
TRAILING_NOISE = re.compile(
    r"(?:已达到|已达|达到|达|共计|共有|共|累计|合计|总计|为|是|有|超过|超|近|约|逾|不足|将近|接近|的|了|至|到)+$"
)
SHARE_OF = re.compile(r"占(?P<base>[^，,。；;]*?)(?:的|比例|比重)?$")

# --- periods --------------------------------------------------------------------------------------
PERIOD = re.compile(
    r"截至(?:目前|当前|今年|去年|本月|(?:(?:19|20)\d\d年)?(?:\d{1,2}月)?(?:\d{1,2}日)?)(?:底|末|止)?"
    r"|(?:自|从)?(?:(?:19|20)\d\d)\s*[-—–~至到]\s*(?:(?:19|20)\d\d)年?"
    r"|(?:自|从)?(?:19|20)\d\d年(?:\d{1,2}月(?:\d{1,2}日)?)?(?:以来|起|开始|至今|底|末|上半年|下半年|前三季度|全年|度|一季度)?"
    r"|(?:今年|去年|前年|当年|本年度?|上年度?)(?:\d{1,2}月(?:\d{1,2}日)?|上半年|下半年|前三季度|一季度|以来|底|末|全年)?"
    r"|“?(?:十[一二三四五六]五)”?(?:期间|以来|时期)?"
    r"|近(?:年来|几年|[一二三四五两\d]年)|目前|当前|现阶段|近期|[^，,。；;\d]{2,10}(?:以来|期间)"
)
YEAR = re.compile(r"((?:19|20)\d\d)年?")
MONTH = re.compile(r"(\d{1,2})月")


@dataclass(frozen=True, slots=True)
class Figure:
    """One number found in a sentence, before it becomes an Indicator."""

    start: int
    end: int
    raw_text: str
    value: float
    unit: str
    unit_implied: bool
    qualifier: str


@cache
def chinese_value(numeral: str) -> float | None:
    text = "一" + numeral if numeral[0] in "十百千万" else numeral
    try:
        return float(cn2an.cn2an(text, "smart"))
    except (ValueError, KeyError):
        return None


def split_sentences(text: str) -> Iterator[tuple[int, str]]:
    """(offset, sentence) pairs; a sentence ends at 。！？ (closing quotes stay with it)."""
    start = 0
    for match in SENTENCE_END.finditer(text):
        if match.end() > start:
            yield start, text[start : match.end()]
            start = match.end()
    if start < len(text) and text[start:].strip():
        yield start, text[start:]


def _inside_book_title(sentence: str, pos: int) -> bool:
    return sentence.rfind("《", 0, pos) > sentence.rfind("》", 0, pos)


def _inside_short_quote(sentence: str, start: int, end: int) -> bool:
    opened = max(sentence.rfind(q, 0, start) for q in "“「『")
    closed = max(sentence.rfind(q, 0, start) for q in "”」』")
    if opened <= closed:
        return False
    close_at = min((i for i in (sentence.find(q, end) for q in "”」』") if i >= 0), default=-1)
    return close_at >= 0 and close_at - opened <= MAX_QUOTED_NAME


def _qualifier(before: str, match: re.Match[str]) -> str:
    for pattern, qualifier in QUALIFIER_BEFORE:
        if pattern.search(before):
            return qualifier
    for group in ("q1", "q2", "q3"):
        if match.group(group):
            return QUALIFIER_AFTER[match.group(group)]
    return EXACT


def _implied_unit(sentence: str, match: re.Match[str]) -> str | None:
    """Unit of a figure printed without one: 总规模50亿 (元), 127万困难群众 (人), 7部门 (个)."""
    after = sentence[match.end() :]
    before = sentence[: match.start()]
    if PEOPLE_NOUN.match(after):
        return "人"
    if match.group("scale") and MONEY_CONTEXT.search(before[-12:]):
        return "元"
    if match.group("num") and re.match(r"^(?:大|部门|个?(?:城市|省份|地市|县|区|镇|村|社区|街道|单位))", after):
        return "个"
    return None


def find_figures(sentence: str) -> Iterator[Figure]:
    """Every measured figure in one sentence; years, dates, codes, names and slogans are skipped."""
    for match in FIGURE.finditer(sentence):
        start, end = match.span()
        if start == end:
            continue
        before, after = sentence[:start], sentence[end:]
        number = match.group("num")
        numeral = match.group("cn")
        unit = match.group("unit") or ""
        if number:
            if before and (before[-1].isdigit() or before[-1] in ".．"):
                continue
            if not unit and DATE_OR_TIME_AFTER.match(after):
                continue
            if unit in ("年", "") and YEAR_LIKE.match(number.lstrip("-−")) and not match.group("scale"):
                continue
            if unit == "年" and not DURATION_CONTEXT.search(before):
                continue
            if CODE_AFTER.match(after) or CODE_BEFORE.search(before):
                continue
        else:
            assert numeral is not None
            small = not re.search("[十百千万亿]", numeral)
            if not unit or before.endswith(("第", "每", "数", "几", "一")):
                continue
            if unit in DURATION_UNITS and not DURATION_CONTEXT.search(before):
                continue
            if small and unit not in SMALL_CN_UNITS | DURATION_UNITS:
                continue
            if ENUMERATION_AFTER.match(after):
                continue
        if _inside_book_title(sentence, start) or _inside_short_quote(sentence, start, end):
            continue
        implied = False
        if not unit:
            guessed = _implied_unit(sentence, match)
            if guessed is None:
                continue
            unit, implied = guessed, True
        value = float(number.replace(",", "").replace("−", "-")) if number else chinese_value(numeral or "")
        if value is None:
            continue
        scale = match.group("scale")
        if scale:
            value *= SCALES[scale]
        if unit == "％":
            unit = "%"
        if unit == "个百分点":
            unit = "百分点"
        raw_end = end if not match.group("q3") else end - len(match.group("q3"))
        yield Figure(start, end, sentence[start:raw_end], round(value, 6), unit, implied, _qualifier(before, match))


def _clause_before(sentence: str, pos: int) -> str:
    head = sentence[:pos]
    cut = max((m.end() for m in CLAUSE_SPLIT.finditer(head)), default=0)
    return head[cut:]


def _trim_metric(text: str) -> str:
    text = text.strip(' “”"')
    previous = None
    while previous != text:
        previous = text
        text = LEADING_NOISE.sub("", text)
        text = TRAILING_NOISE.sub("", text)
        text = PERIOD.sub("", text)
        for mention in find_places(text)[:1]:
            if mention.start == 0:
                text = text[mention.end :]
    return text.strip(' “”"')


def metric_phrase(sentence: str, figure: Figure, previous_metric: str | None) -> str:
    """The noun phrase the figure measures: the words before it in its clause, or the noun after it."""
    before = _clause_before(sentence, figure.start)
    share = SHARE_OF.search(before)
    if figure.unit == "%" and share:
        base = _trim_metric(share["base"])
        subject = previous_metric or ""
        return f"{subject}占{base}比例" if base else f"{subject}占比"
    metric = _trim_metric(before)
    after = sentence[figure.end :]
    noun = NOUN_AFTER.match(after)
    if noun and (not metric or len(metric) < 2 or re.search(r"[了将对与为]$", before)):
        text = noun.group().lstrip('“"的')
        boundary = VERB_BOUNDARY.search(text, 1)
        text = text[: boundary.start()] if boundary else text
        if len(text) >= 2:
            return text.strip('“”"')
    if not metric and previous_metric:
        return previous_metric
    return metric[-20:]


def figure_region(sentence: str, figure: Figure, article_place: Place | None) -> tuple[str | None, str | None]:
    """(region, province) the figure is about: nearest place named before it in the sentence."""
    mentions = [m for m in find_places(sentence) if m.end <= figure.start]
    before = sentence[: figure.start]
    if mentions:
        place = mentions[-1].place
        return place.name, place.province
    if article_place is None:
        return ("全国", None) if "全国" in before else (None, None)
    if "全国" in before and "全国性" not in before:
        return "全国", None
    if article_place.level in (CITY, COUNTY) and "全省" in before:
        return article_place.province, article_place.province
    return article_place.name, article_place.province


def find_period(sentence: str, figure: Figure) -> str | None:
    """The time expression scoping the figure: the nearest one before it in the sentence."""
    found = [m for m in PERIOD.finditer(sentence[: figure.start])]
    return found[-1].group().strip("“”") if found else None


def resolve_period(period: str | None, published: date | None) -> tuple[date | None, date | None]:
    """Dates a period expression covers, using the publish date for 今年 / 目前 / 截至目前."""
    if not period:
        return None, None
    years = [int(y) for y in YEAR.findall(period)]
    month = MONTH.search(period)
    base_year = published.year if published else None
    if "去年" in period or "上年" in period:
        years = [base_year - 1] if base_year else []
    elif "前年" in period:
        years = [base_year - 2] if base_year else []
    elif any(w in period for w in ("今年", "本年", "当年")):
        years = [base_year] if base_year else []
    if any(w in period for w in ("目前", "当前", "现阶段")) and not years:
        return None, published
    if not years:
        return None, None
    start = date(years[0], 1, 1)
    end = date(years[-1], 12, 31)
    if month and len(years) == 1:
        m = int(month.group(1))
        if 1 <= m <= 12:
            start, end = date(years[0], m, 1), date(years[0], m, calendar.monthrange(years[0], m)[1])
    if "上半年" in period:
        end = date(years[0], 6, 30)
    elif "下半年" in period:
        start = date(years[0], 7, 1)
    elif "前三季度" in period:
        end = date(years[0], 9, 30)
    if "截至" in period:
        start = None  # type: ignore[assignment]
    elif any(w in period for w in ("以来", "至今", "开始", "起")):
        end = published or end
    if start is not None and end < start:
        return start, None
    return start, end


def find_indicators(
    doc_id: str,
    paragraphs: Sequence[Paragraph],
    *,
    published: date | None,
    region: str | None,
    rules: Sequence[MetricRule] | None = None,
) -> tuple[Indicator, ...]:
    """Indicators of an article's paragraphs, in reading order."""
    rules = default_rules() if rules is None else rules
    article_place = place_by_name(region) if region else None
    found: list[Indicator] = []
    for paragraph in paragraphs:
        for _, sentence in split_sentences(paragraph.text):
            previous_metric: str | None = None
            for figure in find_figures(sentence):
                metric = metric_phrase(sentence, figure, previous_metric)
                previous_metric = metric or previous_metric
                region_name, province = figure_region(sentence, figure, article_place)
                period = find_period(sentence, figure)
                start, end = resolve_period(period, published)
                ordinal = len(found)
                found.append(
                    Indicator(
                        indicator_id=stable_id(doc_id, "i", ordinal),
                        paragraph_id=paragraph.paragraph_id,
                        section_id=paragraph.section_id,
                        ordinal=ordinal,
                        metric=metric,
                        metric_code=code_metric(metric, figure.unit, rules),
                        value=figure.value,
                        unit=figure.unit,
                        unit_implied=figure.unit_implied,
                        qualifier=figure.qualifier,
                        raw_text=figure.raw_text,
                        sentence=sentence.strip(),
                        region=region_name,
                        region_province=province,
                        period=period,
                        period_start=start,
                        period_end=end,
                    )
                )
    return tuple(found)
