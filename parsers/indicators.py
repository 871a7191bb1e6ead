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

from parsers.metrics import MetricRule, canonical, code_metric, default_rules, rules_by_unit
from parsers.records import Indicator, Paragraph, stable_id
from parsers.regions import CITY, COUNTY, NATIONAL, Place, PlaceMention, find_places, place_at, place_by_name
from parsers.script import to_simplified

EXACT, OVER, APPROX, UNDER = "exact", "over", "approx", "under"

# --- the figure itself ---------------------------------------------------------------------------
# Measure words, longest first so 人次 wins over 人 and 个工作日 over 个.
UNITS = sorted(
    """
    个工作日 个百分点 百分点 个月 周岁 平方米 平方公里 公里 千米 人次 场次 户次 家次 批次 架次 课时 小时 分钟
    个 家 人 名 位 元 项 次 场 件 笔 吨 单 亩 所 座 处 户 套 期 条 轮 起 篇 块 种 批 届 支 本 台 辆 张 份
    例 床 间 部 册 首 幅 门 节 对 秒 天 周 年 倍 岁 具 冢 % ％ ‰
    """.split(),
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
ANY_NUMERAL = re.compile(r"[\d两三四五六七八九十百千万]")
FIGURE = re.compile(
    rf"(?:{ARABIC}|{CN_NUMERAL})"
    rf"(?P<q1>余|多)?(?P<scale>{SCALE_ALT})?(?P<q2>余|多)?"
    rf"(?:[ \u3000]?(?P<unit>{UNIT_ALT}))?"
    rf"(?P<q3>以上|以下|以内|左右|上下)?"
)
# Patterns that look back from a figure (…$) read only this many characters before it: searching the
# whole prefix made every check O(sentence length).
CONTEXT_TAIL = 24
QUALIFIER_BEFORE = (  # "under" first: 不超过 ends with 超过
    (re.compile(r"(?:不足|不到|少于|低于|不超过|未超过|最多|不高于)$"), UNDER),
    (re.compile(r"(?:超过|超出|超|逾|多于|高于|不少于|不低于|至少|突破)$"), OVER),
    (
        re.compile(
            r"(?:将近|接近|近乎|大约|大概|(?<![民公合签条节预契规制邀特履违誓盟相婚协])约|(?<![接将附临最])近)$"
        ),
        APPROX,
    ),
    # 约占全国总数的15%: the qualifier sits before the verb
    (re.compile(r"(?:约|近|大约|将近)(?:占|为|达)[^，,。；;]{0,12}$"), APPROX),
    (re.compile(r"(?:超过|超)(?:占|为)[^，,。；;]{0,12}$"), OVER),
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
CODE_BEFORE = re.compile(
    r"(?:第|每|(?<![提])前|〔|\[|【|No\.?|编号|号码|电话|热线|[A-Za-z+]|\d[.．]|\d\s*[-—–~至到]|^[-—–~])$"
)
# A measure word that is really the first character of a noun: 7部门, 3家庭, 5名单, 12项目, 2年度.
UNIT_NOUN_CLASH = re.compile(
    r"^(?:部门|家庭|家属|人员|人口|名单|名称|次数|项目|件事|种类|期间|条件|位置|个人|年度|年代|年龄|户籍|所有|台账|本级|份额|处理|场所|座谈|支持|支部|批准|条例|起来|间隔)"
)
ENUMERATION_AFTER = re.compile(
    r"^(?:个|大|项|方面|方|地|级|类|化|位一体|同步|纳入|覆盖|联动)?[一-龥]?(?:一|好|化|强|优|有)(?:[”\"，,、。]|$)"
)
# 两个维护, 6个必须, 四个自信: a count of slogans, not of things.
SLOGAN_AFTER = re.compile(r"^个?(?:必须|确保|维护|意识|自信|坚持|到位|不|一|服务|全面|优先)(?:[”\"，,、。；;]|$)")
DURATION_CONTEXT = re.compile(
    r"(?:连续[^，,。；;\d]{0,4}|为期|历时|用了?|经过|近|长达|持续|满|提前|推迟|延长|缩短|延迟)$"
)
SESSION_NAME_AFTER = re.compile(r"^(?:[一二三四五六七八九十]中全会|全会|全国人大|人大|政协|中央|常委会)")
LIST_NUMBER_AFTER = re.compile(r"^[.．、](?!\d)")  # 2.开展… / 3、加强…: list numbering
SMALL_CN_UNITS = frozenset({"届", "轮", "期", "批"})  # small Chinese numerals count only these (两届, 三轮, 四期)
# …and 两 counts things (两个村, 两项任务): the other small numerals name slogans too often (三个代表, 五个一).
TWO_COUNTS_UNITS = frozenset({"个", "项", "名", "家", "所", "户", "位", "人", "场", "次", "处", "条"})
# 分为两个部分, 两个关口, 两项补贴 (a policy's name): abstract nouns a speaker pairs, not things counted.
TWO_RHETORIC_AFTER = re.compile(
    r"^(?:部分|方面|阶段|环节|关口|补贴|层面|维度|原则|重点|机制|体系|结合|转变|作用|责任|大局|市场|资源|途径|渠道|全覆盖|覆盖)"
)
SESSION_ORDINAL_AFTER = re.compile(r"^[\u4e00-\u9fff]{0,4}(?:常委会|委员会|代表大会|全体会议|会议|全会)")
# 60岁以上老年人口, 80岁及以上老人: an age band that names a group, not a measured age (30岁以上, stays one).
AGE_BAND_AFTER = re.compile(r"^(?:及|或)?(?:以上|以下)?[的]?[\u4e00-\u9fff]")
PEOPLE_BEFORE = re.compile(r"人口|老人|老年人|人数|群众|居民|人员|儿童|志愿者|会员|职工")
UNIT_ALIASES = {"％": "%", "个百分点": "百分点", "周岁": "岁"}
LIST_COUNT_UNITS = frozenset({"个", "种", "项", "类", "条", "大", "方面"})
LIST_SEPARATOR = re.compile(r"[、,，]")
COUNTED_NOUN_AFTER = re.compile(r"^(?:大|部门|个?(?:城市|省份|地市|县|区|镇|村|社区|街道|单位|国家|地区))")
DURATION_UNITS = frozenset({"年", "个月", "天", "周", "小时", "个工作日", "分钟", "秒"})
YEAR_LIKE = re.compile(r"^(?:19|20)\d\d$")
OPEN_QUOTE, CLOSE_QUOTE = '“「『"', '”」』"'
MAX_QUOTED_NAME = 16  # a quoted span this short is a name or slogan (“百社百村”, 四个“100%”)

# --- context --------------------------------------------------------------------------------------
SENTENCE_END = re.compile(r"(?<=[。！？!?])[”’\"」』)）]*")
CLAUSE_SPLIT = re.compile(r"[,，、;；:：。！？!?()（）]")
LIST_CLAUSE_SPLIT = re.compile(r"[,，;；:：。！？!?]")
PEOPLE_NOUN = re.compile(
    r"^[^，,。；;]{0,6}(?:群众|居民|人员|人口|老人|儿童|学生|职工|志愿者|党员|会员|农民|家庭成员|村民|青年|妇女)"
)
MONEY_CONTEXT = re.compile(r"资金|基金|规模|投资|金额|款|经费|收入|收费|产值|效益|资产|预算|营收|融资|捐")
NOUN_AFTER = re.compile(r"的?[“\"]?[\u4e00-\u9fff“”\"][^\d，,。；;、:：!！?？《]{0,17}")
FRACTION = re.compile(r"(?<![\d./])(\d)/(\d{1,2})(?![\d./])(?=的|以上|左右)")
TOWN_NAME = re.compile(r"[\u4e00-\u9fff]{1,5}(?:镇|乡|街道|苏木)")
DIVISION_KINDS = frozenset({"民族乡", "民族苏木", "乡镇", "城镇", "集镇", "城乡"})
# 其中…: the figures of a 其中 sentence are parts of what the sentence before counted
PARTS_OF_BEFORE = re.compile(r"^\s*其中")
RANGE_JOINER = re.compile(r"\d\s*(?:[万亿千]\s*)?[至到~～—–-]")
RANGE = re.compile(
    rf"(?P<low>\d+(?:\.\d+)?)(?P<lscale>{SCALE_ALT})?\s*[至到~～—–-]\s*(?P<high>\d+(?:\.\d+)?)"
    rf"(?P<scale>{SCALE_ALT})?(?P<unit>{UNIT_ALT})"
)
# 力争到2025年达到100%, 预计…将达到峰值215万人: a goal or a forecast, not a measurement
TARGET_BEFORE = re.compile(r"力争|争取|目标|预计|计划|规划|将达到|将超过|将突破|要达到|确保")
TARGET_YEAR = re.compile(r"(?:到|至)((?:19|20)\d\d)年")
GENERIC_MONEY = re.compile(r"(?:发放|支出|投入|下拨|拨付)?(?:救助|补助|保障)?(?:资金|金|款|经费)")
PROGRAMME_VERB = re.compile(r"^(?:实施|开展|发放|办理|纳入|落实)")
SCOPE = re.compile(r"城乡|城市|城镇|农村|乡村")
TOTAL_MARK = re.compile(r"全(?:县|市|省|区|州|盟|旗|国)|合计|共计|总计|总数")
HEADING_NUMBER = re.compile(r"^\s*(?:[一二三四五六七八九十]+[、.．]|[（(][一二三四五六七八九十\d]+[)）]|\d+[、.．])\s*")
MAX_TOPIC_CHARS = 10
ANY_DIGIT = re.compile(r"\d")
TOPIC_STOP = re.compile(r"[，,。；;！!？?\d]")
# 城市低保方面，… / 特困供养：…: the lead of a sentence names what its bare figures count
TOPIC_LEAD = re.compile(r"^\s*([^，,。；;：:\d]{2,12}?)(?:方面|工作|情况)?[：:，,]")
# a verb phrase after a figure (纳入救助范围, 享受补贴) counts the thing named just before
JOINABLE = re.compile(
    r"(?:纳入|享受|领取|获得|涉及|覆盖|惠及|救助|保障|帮扶|资助|受助|按月|按时|入住|在院|"
    r"(?:提高|提升|调整|增加|增长)(?:到|至|为)|增至)"  # 提高到750元 is a level; 提高50元 a change, never joined
)
FIGURE_TAIL = re.compile(r"([^，,。；;、：:（）()]{2,24}?)(?=[\d，,。；;、]|$)")
SUPERLATIVE = re.compile(r"(?:的)?(?:数量|人数|总数|规模)?(?:最多|最少|最高|最低|最大|居首|第一)$")
BARE_RATES = frozenset({"覆盖率", "覆盖面", "建成率"})
BUILT = re.compile(r"建成|完成|建立|实现|设立|配备|建有")
MAX_VERB_PHRASE = 6  # 纳入救助范围: a verb phrase this short names no thing of its own
PER_PERSON_BEFORE = re.compile(r"(?:每人每月|每人每年|每人每天|人均每月)$")  # 每人每月1800元: a standard
PROGRAMME_GROUP = re.compile(r"儿童|孤儿|特困|低保|五保|边缘")  # …not 1.2万名老年人发放慰问金: not a headcount of all
VERB_INSIDE = re.compile(r"发放|纳入|享受|领取|实施|开展|办理")  # 680名事实无人抚养儿童发放…: persons, then the verb
# words that name only a measure of some thing (资金, 人数, 床位): joined to the thing counted before them
GENERIC_PART = re.compile(
    r"^(?:累计|共计|全年|当年)?(?:支出|发放|使用|拨付)?(?:资金|经费|金额|人数|户数|人次|户次|对象|床位|床位数|标准|"
    r"平均标准|保障标准|支出|总数|数量|保障|供养|集中供养|分散供养|职工|职工人数|工作人员|从业人员)?$"
)
ADDED = re.compile(r"新增|新建|新设立?|新成立|新培育|新认定|新登记|新招录|新开办|新改建|新备案|新纳入")
PEOPLE_WINDOW = 20  # a scaled figure with no unit counts people when people were named just before it
MAX_METRIC_CHARS = 24
# Divisions and households counted one after another (镇20515个、乡10172个): a metric of one character.
SINGLE_CHAR_NOUNS = frozenset("镇乡县旗盟村户省市")
DIVISION_END = re.compile(r"[，,。；;]|$|、\s*[\d一二三四五六七八九十两]")
VERB_PREFIX_CHARS = 6  # a short phrase before VERB+figure+NOUN (新设立登记, 带来) is kept in the metric
ALL_OF_THEM = re.compile(r"全部|均|都")
LEADING_NOISE = re.compile(
    r"^(?:其中|截至目前|截至|目前|当前|同时|此外|另外|全省|全市|全区|全县|全州|全国|全盟|共有|现有|已有|"
    r"累计|共|已|还|再|均|新增|新|达到|达|合计|总计|总|有|拥有|为|是|的|并|和|及|在|于|将|对|向)+"
)
TRAILING_NOISE = re.compile(
    r"(?:已达到|已达|达到|达|共计|共有|共|累计|合计|总计|为|是|有|超过|超|近|约|逾|不足|将近|接近|的|了|增至|增加到|增长到|升至|"
    r"提高到|提升到|提高至|每人每月|每人每年|每户每月|突破|保持|至|到|分别|"
    r"已与|与|和|及|等|已|均|各|在|中)+$"
)
SHARE_OF = re.compile(r"占(?P<base>[^，,。；;]*?)(?:的|比例|比重)?$")

PLACE_LIST_JOINER = re.compile(r"[、和及与]")
PLACE_LOOKAHEAD = 12  # a place just after the last figure can still tell that an earlier one was in a list
# 本报呼和浩特5月20日讯, 新华社南京3月2日电: where the report was filed, not what it is about.
DATELINE = re.compile(
    r"(?:本报|本刊|新华社|中新社|人民网|新华网|央广网)?[\u4e00-\u9fff]{2,6}\d{1,2}月\d{1,2}日(?:电|讯)"
)
ORG_NAME_AFTER = re.compile(
    r"^[^，,。；;、\d]{0,8}?(?:大学|学院|中学|小学|银行|集团|公司|日报|晚报|电视台|研究院|医院|商会|协会)"
)
NATIONAL_SUBJECT = re.compile(r"(?:^|[，,；;])全国(?:共|累计|已|范围内|各地|现有|一共|登记|有)")
PROVINCE_WIDE = re.compile(r"全(?:省|区)(?!性)")
CITY_WIDE = re.compile(r"全(?:市|州|盟)(?!性)")

# --- periods --------------------------------------------------------------------------------------
PERIOD = re.compile(
    r"(?:截至|截止|到)(?:目前|当前|今年|去年|本月|(?:19|20)\d\d年(?:\d{1,2}月)?(?:\d{1,2}日)?|\d{1,2}月(?:\d{1,2}日)?)"
    r"(?:底|末|止)?"
    r"|(?:自|从)?(?:(?:19|20)\d\d)\s*[-—–~至到]\s*(?:(?:19|20)\d\d)年?"
    r"|(?:自|从)?(?:19|20)\d\d年(?:\d{1,2}月(?:\d{1,2}日)?)?"
    r"(?:以来|起|开始|至今|底|末|上半年|下半年|前三季度|全年|度|一季度)?"
    r"|(?:今年|去年|前年|当年|本年度?|上年度?)(?:\d{1,2}月(?:\d{1,2}日)?|上半年|下半年|前三季度|一季度|以来|底|末|全年)?"
    r"|(?<![\d年])\d{1,2}月(?:\d{1,2}日|份|底|末|以来)?"
    r"|“?(?:十[一二三四五六]五)”?(?:期间|以来|时期|末)?"
    r"|近(?:年来|几年|[一二三四五两\d]年)|目前|当前|现阶段|近期|全年|年内"
)
# 集中攻坚行动开展以来, “10·17”国家扶贫日期间: an event that scopes a figure. Tried only in sentences
# that say 以来/期间 (the leading wildcard is costly at every position).
EVENT_PERIOD = re.compile(r"“[^“”]{1,12}”[^，,。；;“”\d]{0,8}(?:以来|期间)|[^，,。；;\d“”]{2,10}(?:以来|期间)")
# 较2021年, 与2020年相比, 是2019年的: a base of comparison, not the period of the figure.
COMPARISON_BASE_BEFORE = re.compile(r"(?:较|比|与|同|相较|相比|对比|是|为)$")
COMPARISON_BASE_AFTER = re.compile(r"^(?:相比|比较|同期|的|末的)")
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
    high: float | None = None  # the upper end of a range (300至500元)


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
    if "“" not in sentence and "「" not in sentence and "『" not in sentence:
        return False
    opened = max(sentence.rfind(q, 0, start) for q in "“「『")
    closed = max(sentence.rfind(q, 0, start) for q in "”」』")
    if opened <= closed:
        return False
    close_at = min((i for i in (sentence.find(q, end) for q in "”」』") if i >= 0), default=-1)
    return close_at >= 0 and close_at - opened <= MAX_QUOTED_NAME


def _qualifier(before: str, match: re.Match[str]) -> str:
    for pattern, qualifier in QUALIFIER_BEFORE:
        if pattern.search(before[-CONTEXT_TAIL:]):
            return qualifier
    for group in ("q1", "q2", "q3"):
        if match.group(group):
            return QUALIFIER_AFTER[match.group(group)]
    return EXACT


def _implied_unit(before: str, after: str, *, has_scale: bool, is_arabic: bool) -> str | None:
    """Unit of a figure printed without one: 总规模50亿 (元), 127万困难群众 (人), 7部门 (个)."""
    if PEOPLE_NOUN.match(after):
        return "人"
    if has_scale and MONEY_CONTEXT.search(before[-12:]):
        return "元"
    if has_scale and PEOPLE_BEFORE.search(before[-PEOPLE_WINDOW:]):  # 户籍人口为1030.62万
        return "人"
    if is_arabic and COUNTED_NOUN_AFTER.match(after):
        return "个"
    return None


def _is_date_code_or_year(number: str, unit: str, before: str, after: str, *, has_scale: bool) -> bool:
    """Arabic numbers that are not measurements: years, dates, times, codes, ranges, grade labels."""
    if before and (before[-1].isdigit() or before[-1] in ".．/"):
        return True
    at_item_start = not before.strip() or before.rstrip()[-1] in "。；;：:"
    if not unit and (DATE_OR_TIME_AFTER.match(after) or (at_item_start and LIST_NUMBER_AFTER.match(after))):
        return True
    if unit in ("年", "") and YEAR_LIKE.match(number.lstrip("-−")) and not has_scale:
        return True
    if unit == "年" and not DURATION_CONTEXT.search(before[-CONTEXT_TAIL:]):
        return True
    return bool((not unit and CODE_AFTER.match(after)) or CODE_BEFORE.search(before[-CONTEXT_TAIL:]))


def _is_counted_chinese(numeral: str, unit: str, before: str, after: str, *, has_qualifier: bool) -> bool:
    """Chinese numerals measure something only with a unit, and small ones only for 届/轮 and durations.

    A bare 千/万/百 is an idiom (千家万户, 千方百计) unless 余/多 makes it a count (千余人).
    """
    if not unit or before.endswith(("第", "每", "数", "几", "一")):
        return False
    if numeral in ("千", "万", "百") and not has_qualifier:
        return False
    if unit == "届" and SESSION_NAME_AFTER.match(after):  # 党的二十届三中全会: an ordinal name
        return False
    if unit in ("届", "次") and SESSION_ORDINAL_AFTER.match(after):  # 三届二十八次常委会议
        return False
    if unit in DURATION_UNITS and not DURATION_CONTEXT.search(before[-CONTEXT_TAIL:]):
        return False
    small = not re.search("[十百千万亿]", numeral)
    if small and numeral == "两" and unit in TWO_COUNTS_UNITS:
        return not ENUMERATION_AFTER.match(after) and not TWO_RHETORIC_AFTER.match(after)
    if small and unit not in SMALL_CN_UNITS | DURATION_UNITS:
        return False
    return not ENUMERATION_AFTER.match(after)


def _counts_listed_items(before: str, value: float, unit: str) -> bool:
    """True for 从A、B、C3个方面 / “A、B、C”3种措施: the figure only counts the list printed before it."""
    if unit not in LIST_COUNT_UNITS or value < 2 or value != int(value):
        return False
    head = before[max(before.rfind(c) for c in "。；;:：") + 1 :]
    quoted = re.search(r"“([^“”]*)”$", head)
    items = quoted.group(1) if quoted else head[max(head.rfind(c) for c in ",，") + 1 :]
    return len(LIST_SEPARATOR.split(items)) == int(value)


def _figure_from_match(sentence: str, match: re.Match[str]) -> Figure | None:
    start, end = match.span()
    if start == end:
        return None
    number, numeral, scale = match.group("num"), match.group("cn"), match.group("scale")
    unit, tail = match.group("unit") or "", match.group("q3") or ""
    if unit and UNIT_NOUN_CLASH.match(sentence[end - len(tail) - len(unit) :]):
        if tail:
            return None
        end -= len(unit)
        unit = ""
    before, after = sentence[:start], sentence[end:]
    if number and _is_date_code_or_year(number, unit, before, after, has_scale=bool(scale)):
        return None
    has_qualifier = bool(match.group("q1") or match.group("q2"))
    if numeral and not _is_counted_chinese(numeral, unit, before, after, has_qualifier=has_qualifier):
        return None
    if _inside_book_title(sentence, start) or _inside_short_quote(sentence, start, end):
        return None
    if unit == "个" and SLOGAN_AFTER.match(after):
        return None
    if unit in DURATION_UNITS and after.startswith(("来", "以来")):  # 近3年来: a period, not a duration measured
        return None
    if (
        unit in ("岁", "周岁")
        and AGE_BAND_AFTER.match(sentence[end:])
        and (tail in ("以上", "以下") or sentence[end : end + 3].startswith(("及以", "或以")))
    ):
        return None
    implied = False
    if not unit:
        guessed = _implied_unit(before, after, has_scale=bool(scale), is_arabic=bool(number))
        if guessed is None:
            return None
        unit, implied = guessed, True
    value = float(number.replace(",", "").replace("−", "-")) if number else chinese_value(numeral or "")
    if value is None:
        return None
    value *= SCALES[scale] if scale else 1
    unit = UNIT_ALIASES.get(unit, unit)
    if _counts_listed_items(before, value, unit):
        return None
    raw = sentence[start : end - len(tail)]
    return Figure(start, end, raw, round(value, 6), unit, implied, _qualifier(before, match))


def find_figures(sentence: str) -> Iterator[Figure]:
    """Every measured figure in one sentence; years, dates, codes, names and slogans are skipped."""
    if not ANY_NUMERAL.search(sentence):
        return
    extra = list(_fractions(sentence)) if "/" in sentence else []
    if RANGE_JOINER.search(sentence):
        extra = sorted(extra + list(_ranges(sentence)), key=lambda f: f.start)
    for match in FIGURE.finditer(sentence):
        while extra and extra[0].end <= match.start():
            yield extra.pop(0)
        if extra and extra[0].start <= match.start() < extra[0].end:
            continue  # the high end of a range already read
        figure = _figure_from_match(sentence, match)
        if figure is not None:
            yield figure
    yield from extra


def _ranges(sentence: str) -> Iterator[Figure]:
    """300至500元, 2-3个百分点: one figure, its value the low end and `high` the high end. Age bands
    (25至29岁) and spans of years are not figures."""
    for match in RANGE.finditer(sentence):
        unit = UNIT_ALIASES.get(match["unit"], match["unit"])
        if unit in ("岁", "周岁", "年") or _inside_book_title(sentence, match.start()):
            continue
        if match.start() and (sentence[match.start() - 1].isdigit() or sentence[match.start() - 1] in ".．"):
            continue
        scale = SCALES.get(match["scale"] or "", 1)
        low_scale = SCALES.get(match["lscale"] or "", scale)
        low = float(match["low"].replace(",", "")) * low_scale
        high = float(match["high"].replace(",", "")) * scale
        if high <= low:
            continue
        raw = match.group(0)
        yield Figure(match.start(), match.end(), raw, round(low, 6), unit, False, EXACT, round(high, 6))


def _fractions(sentence: str) -> Iterator[Figure]:
    """近1/3的人口: a share printed as a fraction, as a percentage (33.33 %)."""
    for match in FRACTION.finditer(sentence):
        numerator, denominator = int(match.group(1)), int(match.group(2))
        if 0 < numerator < denominator:
            value = round(100 * numerator / denominator, 2)
            before = sentence[: match.start()]
            yield Figure(match.start(), match.end(), match.group(0), value, "%", False, _qualifier(before, match))


def _clause_start(sentence: str, pos: int, previous: Figure | None) -> int:
    """Where the words describing a figure at `pos` begin: the clause start, or just after the previous figure."""
    cut = max((m.end() for m in CLAUSE_SPLIT.finditer(sentence, 0, pos)), default=0)
    return max(cut, previous.end) if previous and previous.end <= pos else cut


def _list_start(sentence: str, pos: int) -> int:
    """Where the clause holding a list (A20个、B300个) begins: the last comma, semicolon or colon before `pos`."""
    return max((m.end() for m in LIST_CLAUSE_SPLIT.finditer(sentence, 0, pos)), default=0)


def _trim_metric(text: str) -> str:
    text = text.strip(' “”"')
    previous = None
    while previous != text:
        previous = text
        text = LEADING_NOISE.sub("", text)
        text = TRAILING_NOISE.sub("", text)
        text = PERIOD.sub("", text)
        leading_place = place_at(text)
        if leading_place:
            text = text[leading_place.end :]
    if text.startswith(("含", "包括")) and text.removeprefix("包括").removeprefix("含") in DIVISION_KINDS:
        text = text.removeprefix("包括").removeprefix("含")  # 乡626个（含民族乡98个）
    if TOWN_NAME.fullmatch(text) and text not in DIVISION_KINDS:  # 其中保华镇2户10人: a town, not a metric
        return ""
    return text.strip(' “”"')


def _noun_after(sentence: str, figure: Figure) -> str:
    """Words right after a figure that say what it counts: 带来1455个优质岗位, 965家社会组织参与乡村振兴.

    Kept as printed (a following verb phrase tells a subset from a total), except that 全部/均/都 end it:
    4088家社会组织全部完成… still counts all the organisations.
    """
    match = NOUN_AFTER.match(sentence, figure.end)
    if not match:
        return ""
    text = ALL_OF_THEM.split(match.group().removeprefix("的"), maxsplit=1)[0]
    return text.strip(' “”"').removesuffix("的").removesuffix("中")


def metric_phrase(
    sentence: str, figure: Figure, previous: Figure | None, previous_metric: str | None, subject: str | None
) -> str:
    """The phrase the figure measures.

    Chinese reporting prints NOUN + figure (受益人数超1200万人), VERB + figure + NOUN (带来1455个优质岗位)
    or MODIFIER的 + figure + NOUN (未组建党组织的3570家社会组织): the metric is the clause's own words
    before the figure (region, period and filler verbs trimmed) joined to the noun after it. A share
    (占…的8.2%) is worded "<subject>占<base>比例"; a figure with no words of its own (分别占83.4%和6.1%)
    shares the previous figure's metric.
    """
    before = sentence[_clause_start(sentence, figure.start, previous) : figure.start]
    if figure.unit == "%":
        share = SHARE_OF.search(before)
        if share:
            own = _trim_metric(before[: share.start()])
            base = _trim_metric(share["base"])
            who = own or subject or ""
            return f"{who}占{base}比例" if base else f"{who}占比"
    after = _noun_after(sentence, figure)
    own = _trim_metric(before) if not before.endswith("的") else before.strip(' “”"')
    if after in SINGLE_CHAR_NOUNS and len(own) <= 2 and DIVISION_END.match(sentence, figure.end + 1):
        return after  # 37个市辖区、33个县: the division counted, not the one before (31个省、自治区… is all of them)
    if len(after) >= 2:
        phrase = own + after if own and (before.endswith("的") or len(own) <= VERB_PREFIX_CHARS) else after
        return phrase[:MAX_METRIC_CHARS]
    if len(own) >= 2 or (own in SINGLE_CHAR_NOUNS and before.endswith(own)):
        return own[-MAX_METRIC_CHARS:]
    return previous_metric or own


@dataclass(frozen=True, slots=True)
class SentenceContext:
    """What a sentence says about place and time, found once and shared by all its figures."""

    text: str
    places: tuple[PlaceMention, ...]  # organisation names (西安电子科技大学) and datelines left out
    periods: tuple[tuple[int, int], ...]  # spans of time expressions that can scope a figure


def _overlaps(a: re.Match[str], b: re.Match[str]) -> bool:
    return a.start() < b.end() and b.start() < a.end()


def sentence_context(sentence: str, until: int | None = None) -> SentenceContext:
    """Places and periods of a sentence; places are only looked for before `until` (the last figure)."""
    masked = DATELINE.sub(lambda m: " " * len(m.group()), sentence)
    if until is not None:
        masked = masked[: until + PLACE_LOOKAHEAD]
    places = tuple(m for m in find_places(masked) if not ORG_NAME_AFTER.match(sentence[m.end : m.end + 12]))
    found = list(PERIOD.finditer(sentence))
    if "以来" in sentence or "期间" in sentence:
        events = [m for m in EVENT_PERIOD.finditer(sentence) if not any(_overlaps(m, f) for f in found)]
        found = sorted(found + events, key=lambda m: m.start())
    periods = tuple(
        m.span()
        for m in found
        if not COMPARISON_BASE_BEFORE.search(sentence[max(0, m.start() - CONTEXT_TAIL) : m.start()])
        and not (COMPARISON_BASE_AFTER.match(sentence[m.end() :]) and not sentence[: m.start()].endswith("在"))
    )
    return SentenceContext(sentence, places, periods)


def _is_listed_place(ctx: SentenceContext, mentions: Sequence[PlaceMention]) -> bool:
    """The last place is one of several (苏州、无锡等地; 白山、通化、延边等地区): it stands for their parent."""
    text, last = ctx.text, mentions[-1]
    if text[last.end : last.end + 1] == "等":
        return True
    if len(mentions) > 1 and PLACE_LIST_JOINER.fullmatch(text[mentions[-2].end : last.start]):
        return True
    following = [m for m in ctx.places if m.start == last.end + 1]
    return bool(following) and bool(PLACE_LIST_JOINER.match(text[last.end : last.end + 1]))


def figure_region(
    ctx: SentenceContext, figure: Figure, article_place: Place | None, fallback: str | None = None
) -> tuple[str | None, str | None]:
    """(region, province) the figure is about: nearest place named before it in the sentence.

    A place that is one of a list (白山、通化、延边等地区) stands for its province; 全省/全区 lift a city
    article's figure to the province; 全国 counts only as a subject (全国共有…), not as an adjective
    (全国社工示范机构) or a base (占全国总数的).
    """
    before = ctx.text[: figure.start]
    mentions = [m for m in ctx.places if m.end <= figure.start]
    if mentions:
        place = mentions[-1].place
        if place.level != "province" and _is_listed_place(ctx, mentions):
            place = place_by_name(place.province) or place
        return place.name, place.province
    if NATIONAL_SUBJECT.search(before):
        return NATIONAL, None
    if article_place is None:
        return fallback, None
    if article_place.level in (CITY, COUNTY) and PROVINCE_WIDE.search(before):
        return article_place.province, article_place.province
    if article_place.level == COUNTY and article_place.city and CITY_WIDE.search(before):
        return article_place.city, article_place.province
    return article_place.name, article_place.province


def respective_places(ctx: SentenceContext, figures: Sequence[Figure]) -> dict[int, Place]:
    """呼和浩特市、包头市…分别达到3,425家和2,870家: the i-th listed place goes with the i-th figure."""
    marker = ctx.text.find("分别")
    if marker < 0:
        return {}
    places = [m.place for m in ctx.places if m.end <= marker]
    after = [f for f in figures if f.start > marker]
    if len(places) < 2 or len(after) != len(places):
        return {}
    return {f.start: p for f, p in zip(after, places, strict=True)}


def urban_and_rural(sentence: str, figures: Sequence[Figure]) -> dict[int, str]:
    """城乡低保标准分别提高到每人每月820元和650元: the first figure is the 城市 one, the second the 农村 one."""
    marker = sentence.find("分别")
    subject = _trim_metric(sentence[_clause_start(sentence, marker, None) : marker])
    after = [f for f in figures if f.start > marker]
    if "城乡" not in subject or len(after) != 2 or after[0].unit != after[1].unit:
        return {}
    return {after[0].start: subject.replace("城乡", "城市"), after[1].start: subject.replace("城乡", "农村")}


def find_period(ctx: SentenceContext, figure: Figure) -> str | None:
    """The time expression scoping the figure: the nearest one before it in the sentence.

    Bases of comparison (较2021年, 是2019年的) and attributives (近年来的) do not scope a figure;
    a list of periods (2021年、2023年) is kept whole.
    """
    found = [span for span in ctx.periods if span[1] <= figure.start]
    if not found:
        return None
    start, end = found[-1]
    for previous_start, previous_end in reversed(found[:-1]):
        if ctx.text[previous_end:start] in ("", "、", "和", "及"):  # 2021年、2023年; 2024年“99公益日”期间
            start = previous_start
        else:
            break
    return ctx.text[start:end].strip("“”")


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
    if not years and month and published and 1 <= int(month.group(1)) <= 12:
        # 截至6月底 in an article of July: this year's June; in one of March: last year's
        years = [published.year if int(month.group(1)) <= published.month else published.year - 1]
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
    traditional: bool = False,
) -> tuple[Indicator, ...]:
    """Indicators of an article's paragraphs, in reading order.

    Traditional text (`traditional`) is read in simplified characters; raw_text and sentence stay as printed.
    """
    vocabulary = rules_by_unit(default_rules() if rules is None else rules)
    article_place = place_by_name(region) if region else None
    found: list[Indicator] = []
    heading: str | None = None  # the short heading above the paragraph, when it names a quantity's parent
    for paragraph in paragraphs:
        if not paragraph.paragraph_id and paragraph.section_id is not None:
            heading = heading_topic(paragraph.text)
        elif len(paragraph.text) <= MAX_TOPIC_CHARS + 4 and not ANY_DIGIT.search(paragraph.text):
            heading = heading_topic(paragraph.text) or heading  # a short line (城市低保：) heads what follows
        before_by_unit: dict[str, str] = {}  # metric of each unit in the sentence before
        this_by_unit: dict[str, str] = {}
        for _, printed in split_sentences(paragraph.text):
            sentence = to_simplified(printed) if traditional else printed
            previous_metric: str | None = None
            inherited = before_by_unit if PARTS_OF_BEFORE.match(sentence) else {}
            before_by_unit, this_by_unit = {}, {}
            subject: str | None = None  # the last counted thing, for shares that follow it
            figures = list(find_figures(sentence))
            if not figures:
                continue
            ctx = sentence_context(sentence, until=figures[-1].start)
            respective = respective_places(ctx, figures)
            respective_scopes = urban_and_rural(sentence, figures) if "分别" in sentence else {}
            coded_phrases: tuple[str, ...] = ()
            for n, figure in enumerate(figures):
                shared = previous_metric
                adjacent = n > 0 and figures[n - 1].end == figure.start  # 3167户8112人: one thing counted twice
                if figure.unit in inherited and not adjacent:
                    # 其中保华镇2户10人,救助资金…;大河镇8户17人: each unit goes on as before 其中
                    shared = this_by_unit.get(figure.unit) or inherited[figure.unit]
                metric = metric_phrase(sentence, figure, figures[n - 1] if n else None, shared, subject)
                if not metric and figure.unit in inherited:
                    metric = inherited[figure.unit]
                before_by_unit.setdefault(figure.unit, metric)
                this_by_unit[figure.unit] = metric
                code, phrase = _code(
                    sentence,
                    figure,
                    figures[n - 1] if n else None,
                    metric,
                    vocabulary,
                    CodeContext(
                        heading,
                        coded_phrases or ((previous_metric,) if n and previous_metric else ()),
                        respective_scopes.get(figure.start),
                    ),
                )
                if code is not None:
                    coded_phrases = (phrase,)
                if code is None and figure.unit == "元" and GENERIC_MONEY.fullmatch(metric):
                    # 实施临时救助24户77人,发放救助资金15.2万元: the money of the programme just named
                    named = next((m for u, m in reversed(this_by_unit.items()) if u != "元"), None)
                    programme = named or next((m for u, m in inherited.items() if u != "元"), None)
                    if programme:
                        code = code_metric(PROGRAMME_VERB.sub("", programme) + "支出", "元", vocabulary)
                previous_metric = metric or previous_metric
                if figure.unit != "%":
                    subject = metric or subject
                if figure.start in respective:
                    place = respective[figure.start]
                    region_name, province = place.name, place.province
                else:
                    region_name, province = figure_region(ctx, figure, article_place, region)
                period = find_period(ctx, figure)
                start, end = resolve_period(period, published)
                ordinal = len(found)
                found.append(
                    Indicator(
                        indicator_id=stable_id(doc_id, "i", ordinal),
                        paragraph_id=paragraph.paragraph_id,
                        section_id=paragraph.section_id,
                        ordinal=ordinal,
                        metric=metric,
                        metric_code=code,
                        value=figure.value,
                        unit=figure.unit,
                        unit_implied=figure.unit_implied,
                        qualifier=figure.qualifier,
                        raw_text=printed[figure.start : figure.start + len(figure.raw_text)],
                        sentence=printed.strip(),
                        region=region_name,
                        region_province=province,
                        period=period,
                        period_start=start,
                        period_end=end,
                        figure_kind=RANGE_KIND
                        if figure.high is not None
                        else _target_or_value(ctx.text, figure, published),
                        value_high=figure.high,
                    )
                )
    return tuple(found)


VALUE_KIND, TARGET_KIND, RANGE_KIND = "value", "target", "range"


def _code(
    sentence: str,
    figure: Figure,
    previous: Figure | None,
    metric: str,
    vocabulary: dict[str, tuple[MetricRule, ...]],
    context: CodeContext | None = None,
) -> tuple[str | None, str]:
    """The metric's code and the thing it counts (the phrase that gave the code, or the parent it was joined to).

    A figure of what was added (新增/新建…养老床位) is looked up as 新增<thing>: a count of new beds is not the
    stock of beds, and only a rule written for additions gives it a code. Otherwise the phrase as worded is tried
    with the context that decides which quantity it is (see `code_candidates`)."""
    if figure.unit not in vocabulary:
        return None, metric
    clause_start = _clause_start(sentence, figure.start, previous)
    before = sentence[clause_start : figure.start]
    added = max(ADDED.finditer(before), key=lambda m: m.start(), default=None)  # the last one before the figure
    listed = before.startswith("、") or sentence[clause_start - 1 : clause_start] == "、"
    if added is None and listed and ADDED.search(sentence, _list_start(sentence, figure.start), clause_start):
        # 新建综合养老服务中心20个、老年助餐服务点300个: the verb before a list of figures governs all of them
        thing = _trim_metric(before.lstrip("、")) or _noun_after(sentence, figure)
        return code_metric("新增" + thing, figure.unit, vocabulary), metric
    if added is not None:
        thing = _trim_metric(before[added.end() :]) or _noun_after(sentence, figure)
        return code_metric("新增" + thing, figure.unit, vocabulary), metric
    phrases = []
    specific = specific_rules(vocabulary)
    for phrase, parent in code_candidates(sentence, figure, before, metric, context or CodeContext()):
        code = code_metric(phrase, figure.unit, specific)
        # a joined phrase must owe its code to the figure's own words, not to the parent's alone:
        # 查处非法社会组织27家，对156家未按规定参加年检的社会组织… is not 查处非法社会组织 again
        if code is not None and not (
            parent and not GENERIC_PART.match(metric) and code_metric(parent, figure.unit, specific) == code
        ):
            return code, parent or phrase
        if not parent:
            phrases.append(phrase)
    catch_alls = fallback_rules(vocabulary)
    return next(((c, p) for p in phrases if (c := code_metric(p, figure.unit, catch_alls))), (None, metric))


_SPLITS: dict[int, tuple[dict[str, tuple[MetricRule, ...]], ...]] = {}


def _split(vocabulary: dict[str, tuple[MetricRule, ...]]) -> tuple[dict[str, tuple[MetricRule, ...]], ...]:
    known = _SPLITS.get(id(vocabulary))
    if known is None or known[0] is not vocabulary:
        if len(_SPLITS) > 64:
            _SPLITS.clear()
        specific = {u: kept for u, rs in vocabulary.items() if (kept := tuple(r for r in rs if not r.fallback))}
        catch_alls = {u: kept for u, rs in vocabulary.items() if (kept := tuple(r for r in rs if r.fallback))}
        known = (vocabulary, specific, catch_alls)
        _SPLITS[id(vocabulary)] = known
    return known


def specific_rules(vocabulary: dict[str, tuple[MetricRule, ...]]) -> dict[str, tuple[MetricRule, ...]]:
    return _split(vocabulary)[1]


def fallback_rules(vocabulary: dict[str, tuple[MetricRule, ...]]) -> dict[str, tuple[MetricRule, ...]]:
    """The catch-all rules (投入资金, 受益人数): tried on every wording only once no specific rule fits."""
    return _split(vocabulary)[2]


@dataclass(frozen=True, slots=True)
class CodeContext:
    """What around a figure can decide its quantity: the heading above it and the thing counted just before."""

    heading: str | None = None  # a short heading (城市低保) above the paragraph
    previous_phrases: tuple[str, ...] = ()  # the phrases that coded figures before it in the sentence, nearest first
    respective: str | None = None  # 城乡X分别…: X of 城市 for the first figure, of 农村 for the second


def heading_topic(text: str) -> str | None:
    """A heading short enough to name a quantity's parent (一、城市低保 -> 城市低保), else None."""
    topic = HEADING_NUMBER.sub("", text).strip(" ：:。")
    if not topic or len(topic) > MAX_TOPIC_CHARS or TOPIC_STOP.search(topic):
        return None
    return topic


def code_candidates(
    sentence: str, figure: Figure, before: str, metric: str, context: CodeContext
) -> Iterator[tuple[str, str | None]]:
    """Phrases to look a figure up with, most specific first, each with the parent it was joined to (or None).

    The 城市/农村/城乡 named before the figure (in its sentence, else in the heading above) scopes a bare
    phrase (纳入低保812户 after 城市…); the clause's own words stand when the words after the figure are a verb
    phrase (事实无人抚养儿童1580名纳入保障范围); a phrase that names only a part (床位, 集中供养, 基本生活费)
    takes the thing counted just before it in the sentence, the sentence's lead (城市低保方面，…) or the heading.
    """
    parts = PARTS_OF_BEFORE.match(sentence) is not None  # 其中…: parts of a total, not the total's scope
    heading = None if parts else context.heading
    scope = None
    if not SCOPE.search(metric):
        clause = _list_start(sentence, figure.start)
        scopes = SCOPE.findall(sentence, clause, figure.start)
        if not scopes and not TOTAL_MARK.search(sentence, clause, figure.start) and not PROGRAMME_GROUP.search(metric):
            # 城市低保对象2.1万人，累计支出资金…: the scope goes on to a bare part, not to a programme named anew
            # (…农村低保标准提高到5400元，全年累计发放低保金4385.6万元 is the total's money)
            scopes = SCOPE.findall(sentence, 0, clause)
        scope = scopes[-1] if scopes else None
        if scope is None and heading:
            in_heading = SCOPE.search(heading)
            scope = in_heading.group() if in_heading else None
    if context.respective:
        yield context.respective, None  # 城乡低保标准分别提高到每人每月820元和650元: the 城市 one, then the 农村 one
    if metric and GENERIC_PART.match(metric) and context.previous_phrases:
        # 殡仪馆12个，职工860人: a bare measure word counts the thing just named before its general reading
        thing = SCOPE.sub("", context.previous_phrases[0])
        if scope:
            yield scope + thing + metric, scope + thing
        yield thing + metric, thing
    if scope:
        yield scope + canonical(metric), None
    yield metric, None
    per_person = PER_PERSON_BEFORE.search(sentence, max(0, figure.start - 6), figure.start)
    if figure.unit == "元" and per_person and "标准" not in metric:
        yield metric + "标准", None  # 集中养育孤儿每人每月1800元: a per-person amount is the standard
    head = VERB_INSIDE.split(metric, maxsplit=1)[0]
    if len(head) >= 2 and head != metric and PROGRAMME_GROUP.search(head):
        yield head, None  # 680名事实无人抚养儿童发放基本生活补贴: the persons are the words before the verb
    verb_after = JOINABLE.match(sentence, figure.end) is not None
    if verb_after and not before.endswith("的"):
        own = _trim_metric(before)
        if len(own) >= 2 and own != metric:
            if scope:
                yield scope + canonical(own), None
            yield own, None
    # (parent, whether it is a topic: a heading or a sentence's lead names what its bare figures count, while
    # a thing counted before may be a different quantity than the words after it)
    parents = [(p, False) for p in context.previous_phrases]
    lead = TOPIC_LEAD.match(sentence)
    if lead and lead.end() <= figure.start:
        parents.append((_trim_metric(lead.group(1)), True))
    if heading:
        parents.append((heading, True))
    for parent, topic in parents:
        parent = SCOPE.sub("", parent)  # the thing, without its 城市/农村: the figure's own scope decides
        if not parent or parent in metric:
            continue
        if scope:
            yield scope + parent + metric, None if topic else scope + parent
        yield parent + metric, None if topic else parent
    if scope is None and not parts and "低保" in metric:
        yield "城乡" + canonical(metric), None  # a bare 低保户 with no 城市/农村 anywhere counts both
    if metric in BARE_RATES:
        # 全市139个镇（街道）全部建成社会工作服务站，覆盖率达到100%: the facility just built is what is covered
        cut = _list_start(sentence, figure.start)
        built = BUILT.split(sentence[_list_start(sentence, cut - 1) : max(cut - 1, 0)])
        if len(built) > 1 and built[-1]:
            yield built[-1] + metric, None
    if not metric:
        # 其中杭州老年人口数量最多，为159.1万人: the clause before names what the bare 为… figure is
        cut = _list_start(sentence, figure.start)
        if cut and sentence[cut : figure.start].strip() in ("为", "达", "达到", "是", "共"):
            subject = sentence[_list_start(sentence, cut - 1) : cut - 1]
            yield _trim_metric(SUPERLATIVE.sub("", _trim_metric(subject))), None
    if not metric or (JOINABLE.match(metric) and len(metric) <= MAX_VERB_PHRASE) or verb_after:
        if context.previous_phrases:
            yield context.previous_phrases[0], None  # 低保边缘家庭1.2万户、3.1万人纳入救助范围
        tail = FIGURE_TAIL.match(sentence, figure.end)
        if tail:
            yield tail.group(1), None  # 为8.6万名80周岁以上老年人发放高龄津贴


def _target_or_value(sentence: str, figure: Figure, published: date | None) -> str:
    """`target` for a goal or forecast (力争到2025年达到100%; 到2030年 after the publish date), else `value`."""
    before = sentence[: figure.start]
    if TARGET_BEFORE.search(before):
        return TARGET_KIND
    year = TARGET_YEAR.search(before)
    return TARGET_KIND if year and published and int(year.group(1)) > published.year else VALUE_KIND
