"""Text lines or typed blocks -> body blocks + removals: the page furniture trafilatura cannot see.

Two entry points. `clean_blocks` takes the typed blocks of an HTML page (parsers.structure): their
paragraph boundaries, headings, list items, table rows and captions come from the markup and are kept;
only furniture, metadata lines and the printed title are taken out, each with the evidence its reason
names. `clean_lines` takes lines of plain text (a .txt copy of a page), where the shape of the text is
all there is. Every line that is dropped or merged comes back as a `Removal` with its reason; nothing is
discarded silently.

Order of work for plain text:
1. furniture lines (breadcrumbs, tool bars, share links, contact banners, footers, video placeholders)
   and metadata lines (date / source / author) are taken out;
2. the title is recognised at the top;
3. paragraphs broken by a page break or an interrupting image caption are rejoined;
4. headings are told apart from paragraphs (numbered, standalone, or printed over two lines).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence

from parsers.records import CAPTION as CAPTION_KIND
from parsers.records import HEADING, PARAGRAPH, QR_LABEL, TABLE_ROW, Block, CleanText, Removal
from parsers.records import LIST_ITEM as LIST_ITEM_KIND

# --- character classes -------------------------------------------------------------------------
# A sentence is complete when it ends with one of these, optionally followed by closing quotes/brackets.
TERMINAL = "。！？!?；;…:："
CLOSERS = "”’\"'）)】」』》>"
COMPLETE_END = re.compile(f"[{re.escape(TERMINAL)}][{re.escape(CLOSERS)}]*$")
# Lines whose last character cannot end a heading: a clause or word was cut off.
DANGLING_PUNCTUATION = re.compile(r"[、，,“‘\"《（(【\-—]$")
# Function words that leave a clause open. Short headings may end with them (多方参与, 坚持正确方向),
# so they count as cut off only in lines longer than DANGLING_WORD_MIN_CHARS.
DANGLING_WORD = re.compile(r"[的和与及或在对把将从向以被为于等并且而]$")
DANGLING_WORD_MIN_CHARS = 12
# A standalone heading may hold a comma (强化党建引领，推动高质量发展) but not a list of clauses.
MAX_HEADING_WITH_COMMA = 20
REPORTER_BYLINE = re.compile(
    r"^(?:\S{0,12}?)(?:记者|通讯员)\s*[\u4e00-\u9fff·]{2,4}(?:[\s、，,]+[\u4e00-\u9fff·]{2,4})*$"
)
# U+FFFD: a character the page's encoding could not carry (an emoji in a GBK page) is no text either
WHITESPACE = re.compile(r"[\s\u3000\u00a0\u200b\ufeff\ufffd]+")

# --- furniture -----------------------------------------------------------------------------------
BREADCRUMB = re.compile(
    r"^(?:您?(?:当前|现在)?(?:的|所在的?)?位置|当前位置|所在位置|你的位置)\s*[:：]|^首页\s*(?:>|»|＞|>>|/)"
)
VIDEO_PLACEHOLDER = re.compile(
    r"^(?:点击播放视频|点击播放|播放视频|视频加载中.*|您的浏览器不支持.*(?:视频|video).*|\[?视频\]?|video)$",
    re.IGNORECASE,
)
SHARE_LINKS = re.compile(
    r"^(?:分享到|分享至|一键分享)|(?:\S*分享\s*){2,}$|^(?:微信|微博|QQ空间|QQ|朋友圈)(?:\s|$)"
    r"|^(?:分享|收藏|点赞|在看|转发|赞)(?:\s+(?:分享|收藏|点赞|在看|转发|赞))+$"
)
# Tool-bar words: a line made only of these (and brackets/separators) is furniture.
TOOL_WORDS = re.compile(
    r"字体|字号|大|中|小|默认|超大|放大|缩小|打印本页|打印本稿|打印|关闭窗口|关闭|收藏|返回顶部|返回|"
    r"立即咨询|在线咨询|免费咨询|咨询|发表评论|我要评论|评论|扫一扫|分享|下载|纠错|繁体|简体|无障碍|长者模式|微信|微博|A\+|A-|【|】|\[|\]|"
    r"登录|注册|退出|表情|发布|加载更多|更多|图集|"
    r"[:：|/·\s]"
)
PAGE_FURNITURE = re.compile(
    r"主办单位|承办单位|协办单位|版权所有|ICP备|ICP证|公网安备|网站标识码|网站地图|联系我们|技术支持|"
    r"扫一扫在手机打开|在手机上打开|手机扫一扫|Copyright|©|浏览次数|浏览量|阅读量|点击数|点击量|访问量|"
    r"^上一篇|^下一篇|^点击进入专题|^相关(?:新闻|链接|稿件|阅读|文章)|^责任编辑|^【责任编辑|^\(责编|^（责编|^[一二三]审|"
    r"点击蓝字|关注我们|关注(?:该|本|我们的)?公众号|长按(?:识别)?二维码|扫描\S{0,4}二维码|扫码关注|不良信息举报|举报邮箱|举报电话|^阅读原文|^往期(?:推荐|回顾|精选)|^推荐阅读"
)
PHONE = re.compile(r"(?<!\d)(?:1[3-9]\d{9}|400-?\d{3}-?\d{4}|0\d{2,3}-\d{7,8}|\d{3,4}-\d{7,8})(?!\d)")
CONTACT_LABEL = re.compile(
    r"(?:咨询热线|服务热线|联系电话|联系方式|电话|热线|手机|微信号|邮箱|E-?mail|传真)[:：]?", re.IGNORECASE
)
MID_SENTENCE_START = re.compile(
    r"^(?:[，,、。；;：:）)”’]|\d[\d.,]*\s*(?:万|亿|余|多)*\s*(?:个|家|人|名|元|项|次|场|件|处|所|%|％)(?![\u4e00-\u9fff]{0,2}[:：]))"
)
CONTACT_FIELD = re.compile(r"(?:地址|邮编|邮政编码|电话|传真|邮箱|E-?mail|热线|QQ|微信)\s*[:：]", re.IGNORECASE)
CAPTION = re.compile(
    r"^(?:图为|图[:：]|图片[:：]|图片来源|▲|△|（图|\(图)"
    r"|(?:记者|通讯员|摄影|摄)\s*[:：]?\s*[\u4e00-\u9fff·]{2,4}\s*摄?$"
    r"|\s[\u4e00-\u9fff·]{2,4}\s*摄$"
    r"|[(（][^()（）]*摄[)）]$"
)

# --- metadata lines ------------------------------------------------------------------------------
DATE = re.compile(r"(?P<y>(?:19|20)\d{2})\s*[-年/.]\s*(?P<m>\d{1,2})\s*[-月/.]\s*(?P<d>\d{1,2})\s*日?")
META_LABEL = (
    r"发布时间|发布日期|发稿时间|发表时间|公开日期|更新时间|时间|日期|来源于|本文来源于|文章来源|稿件来源|信息来源|"
    r"来源|作者|记者|撰稿|供稿|通讯员|编辑|责任编辑|责编|选稿|审核|校对|发布者|发布人|发布机构|浏览次数|点击数|字体"
)
META_FIELD = re.compile(rf"(?:{META_LABEL})\s*[:：]?")
EMPTY_LABEL_END = re.compile(rf"(?:{META_LABEL})\s*[:：]$")
LONE_LABEL = re.compile(rf"[^\w]*(?:{META_LABEL})\s*[:：]")  # ") 稿件来源：" — a label whose line holds nothing else
MAX_HEADER_SCRAP = 25
MAX_SCRAP_WALK = 3
OPEN_END = re.compile(r"[(（\[【:：|]\s*$")
MAX_HEADER_LINES = 6  # scraps of a split byline are only looked for near the top of the page
META_LINE_START = re.compile(rf"^[(（【\[]?\s*(?:{META_LABEL}|据)\s*[:：《]")
DATED_HEADER = re.compile(rf"^{DATE.pattern}\s*(?:\d{{1,2}}:\d{{2}}(?::\d{{2}})?)?\s*(?:$|{META_LABEL}|\||丨)")
ORIGINAL_TITLE = re.compile(r"^[(（【\[]?\s*原标题\s*[:：]")  # （原标题：…） of a reposted article
CLOSING_SOURCE = re.compile(r"^[(（【]\s*(?:据|来源|转自|原载|摘自|本文来源)\s*[:：]?.{1,60}[)）】]$")
MAX_META_LINE = 120
MAX_SHORT_META = 40
CLOCK_TIME = re.compile(r"(?<!\d)[0-2]?\d[:：][0-5]\d(?!\d)")
# A list of links to other articles starts with one of these headers; its short lines are furniture.
RELATED_LIST_HEADER = re.compile(
    r"^(?:往期(?:推荐|回顾|精选)|推荐(?:阅读|新闻|文章|视频)|延伸阅读|相关(?:新闻|阅读|链接|稿件|文章|推荐|专题)|为您推荐|为你推荐|猜你喜欢|"
    r"热门(?:推荐|文章|新闻|阅读|资讯)|精彩推荐|今日推荐|热点推荐|大家都在看|更多(?:精彩|新闻|推荐|阅读))[:：]?$"
)
MAX_LINK_TITLE = 50
LIST_ITEM = re.compile(r"^[-•·▪●◆■]\s")
MIN_LINK_RUN = 3
LINK_SHARE = 0.75  # a list with this share of its items links is a menu
TRAILING_DATE = re.compile(r"(?:19|20)\d{2}[-/.年]\d{1,2}[-/.月]\d{1,2}日?\s*$")

# --- headings ------------------------------------------------------------------------------------
CN_DIGITS = "一二三四五六七八九十百零〇"
NUMBERED_HEADING = re.compile(
    rf"^(?P<marker>"
    rf"(?P<part>第[{CN_DIGITS}\d]+(?:部分|章|节|篇|编))|"
    rf"(?P<cn>[{CN_DIGITS}]+[、．.])|"
    rf"(?P<paren_cn>[(（][{CN_DIGITS}]+[)）])|"
    rf"(?P<arabic>\d{{1,2}}[、．.](?!\d))|"
    rf"(?P<paren_arabic>[(（]\d{{1,2}}[)）])|"
    rf"(?P<circled>[①-⑳])"
    rf")\s*[,，:：]?"
)
# 成人票原价:279元 — a label with its figure is data, never a heading.
LABEL_VALUE = re.compile(r"[:：]\s*\S*\d")
MAX_HEADING_CHARS = 40  # standalone (unnumbered) headings in this genre are short
MAX_NUMBERED_LEAD_IN = 60  # a numbered point's lead-in sentence longer than this is a list item, not a heading
MAX_CAPTION_CHARS = 60


def normalize_line(line: str) -> str:
    """Trim a line and collapse runs of whitespace (full-width and no-break spaces included)."""
    return WHITESPACE.sub(" ", line).strip()


# All but letters and digits: \w is exactly str.isalnum() plus "_" (re docs); one regex pass, not a loop per character.
NOT_ALNUM = re.compile(r"[\W_]+")


def match_key(text: str) -> str:
    """Text reduced for matching and hashing: NFKC, no whitespace, no punctuation."""
    return NOT_ALNUM.sub("", unicodedata.normalize("NFKC", text))


def is_complete(line: str) -> bool:
    return bool(COMPLETE_END.search(line))


def furniture_reason(line: str) -> str | None:
    """Why this line is page furniture, or None for article text."""
    if BREADCRUMB.search(line):
        return "breadcrumb"
    if VIDEO_PLACEHOLDER.match(line):
        return "video_placeholder"
    if len(line) <= 80 and SHARE_LINKS.search(line):
        return "share_links"
    if len(line) <= 40 and not TOOL_WORDS.sub("", line):
        return "button"
    if len(line) <= 150 and PAGE_FURNITURE.search(line):
        return "page_furniture"
    if _is_contact(line):
        return "contact"
    return None


def _is_contact(line: str) -> bool:
    """Phone numbers alone, or a contact banner (地址/邮编/电话 fields) with a phone number."""
    phones = PHONE.findall(line)
    if not phones:
        return False
    if len(line) <= 120 and len(CONTACT_FIELD.findall(line)) >= 2:
        return True
    rest = CONTACT_LABEL.sub("", PHONE.sub("", line))
    rest = re.sub(r"[\s:：,，;；/|、()（）-]", "", rest)
    return len(rest) <= 12 and len(line) <= 120


def is_metadata_line(line: str) -> bool:
    """A date / source / author line (header byline or closing credit), not body text."""
    if ORIGINAL_TITLE.match(line) and len(line) <= MAX_META_LINE:
        return True  # 原标题：… ends like its title, often with a question mark
    if len(line) > MAX_META_LINE or line[-1] in "。？！?!":
        return False  # 记者：今年还有哪些打算？ is an interview question, not a byline
    if len(line) <= MAX_SHORT_META and DATE.search(line) and CLOCK_TIME.search(line):
        return True  # 儋州民政 2025年04月18日 17:30 海南: account, date and time of a repost
    if (
        META_LINE_START.match(line)
        or DATED_HEADER.match(line)
        or CLOSING_SOURCE.match(line)
        or ORIGINAL_TITLE.match(line)
    ):
        return True
    if len(line) <= 40 and (REPORTER_BYLINE.match(line) or EMPTY_LABEL_END.search(line)):
        return True
    return len(META_FIELD.findall(line)) >= 2 and not is_complete(line)


def heading_marker(line: str) -> tuple[str, str] | None:
    """(kind, marker) when the line opens with list numbering used for headings."""
    match = NUMBERED_HEADING.match(line)
    if not match:
        return None
    kind = next(k for k in ("part", "cn", "paren_cn", "arabic", "paren_arabic", "circled") if match.group(k))
    return kind, match.group("marker")


def is_heading_candidate(line: str) -> bool:
    """Short unnumbered line that could be a standalone heading (no final punctuation, nothing cut off)."""
    return (
        2 <= len(line) <= MAX_HEADING_CHARS
        and not is_complete(line)
        and not DANGLING_PUNCTUATION.search(line)
        and not (len(line) > DANGLING_WORD_MIN_CHARS and DANGLING_WORD.search(line))
        and not (len(line) > MAX_HEADING_WITH_COMMA and re.search(r"[，,、；;]", line))
        and not CAPTION.search(line)
        and not (line[0] in "(（" and line[-1] in ")）")  # a parenthetical note, not a heading
        and not LABEL_VALUE.search(line)  # 成人票原价:279元 is a figure with its label
        and line.count("“") == line.count("”")
        and line.count("(") + line.count("（") == line.count(")") + line.count("）")
    )


def is_fragment(line: str) -> bool:
    """A line that stops mid-sentence: the rest of it follows after a break (成人票原价:279元 is whole)."""
    return (
        not is_complete(line)
        and heading_marker(line) is None
        and not is_heading_candidate(line)
        and not LABEL_VALUE.search(line)
    )


def _boundary(left: str, right: str, width: int = 24) -> str:
    return f"{left[-width:]}⏎{right[:width]}"


def _is_header_scrap(line: str) -> bool:
    """A short piece of a byline split over lines: 新华网河北频道 (, ), 河北日报 — not a sentence."""
    return len(line) <= MAX_HEADER_SCRAP and not is_complete(line) and not re.search(r"[，,。；;]", line)


def strip_furniture(lines: Iterable[str]) -> tuple[list[str], list[str], list[Removal]]:
    """Split lines into (body lines, metadata lines, removals); empty lines are dropped.

    Bylines are often split over several lines by the page's markup: a label left without its value
    (稿件来源： / 河北日报, 编辑： / 王华军) takes the next short line as its value, and short scraps just
    before a byline (新华网河北频道 () are part of it.
    """
    kept = [line for line in map(normalize_line, lines) if line]
    kinds: list[str | None] = []
    in_related_list = False
    for n, line in enumerate(kept):
        in_related_list = (
            in_related_list
            and len(line) <= MAX_LINK_TITLE
            and not line.endswith(("。", "；", ";"))
            and furniture_reason(line) is None
        )
        if in_related_list:
            kinds.append("related_links")
            continue
        in_related_list = bool(RELATED_LIST_HEADER.match(line))
        # metadata before furniture: a date line often carries 字体/打印/浏览次数 too
        value_of_label = n > 0 and kinds[n - 1] == "metadata_line" and bool(EMPTY_LABEL_END.search(kept[n - 1]))
        if is_metadata_line(line) or (value_of_label and _is_header_scrap(line)):
            kinds.append("metadata_line")
        else:
            kinds.append(furniture_reason(line))
    for n in range(min(len(kept), MAX_HEADER_LINES)):
        if kinds[n] == "metadata_line" and LONE_LABEL.fullmatch(kept[n]):
            # walk back over the byline's other pieces; line 0 is the title unless it is an open scrap
            j = n - 1
            while j >= 0 and n - j <= MAX_SCRAP_WALK:
                if kinds[j] is None and _is_header_scrap(kept[j]) and (j > 0 or OPEN_END.search(kept[j])):
                    kinds[j] = "metadata_line"
                elif kinds[j] != "metadata_line":
                    break
                j -= 1
    _mark_link_lists(kept, kinds)
    _keep_article_contacts(kept, kinds)
    body = [line for line, kind in zip(kept, kinds, strict=True) if kind is None]
    metadata = _join_label_values([line for line, kind in zip(kept, kinds, strict=True) if kind == "metadata_line"])
    removals = [Removal(kind, line) for line, kind in zip(kept, kinds, strict=True) if kind]
    return body, metadata, removals


MIN_SENTENCE_LINE = 20


def _keep_article_contacts(lines: Sequence[str], kinds: list[str | None]) -> None:
    """A phone line before the article's last paragraph of prose is the article's (游客咨询电话:58792888 in a
    list of ticket prices): only after it, in the page's tail, is a lone phone line a contact banner."""
    prose = [
        n for n, line in enumerate(lines) if kinds[n] is None and is_complete(line) and len(line) >= MIN_SENTENCE_LINE
    ]
    for n, line in enumerate(lines):
        if kinds[n] == "contact" and prose and n < prose[-1] and len(CONTACT_FIELD.findall(line)) < 2:
            kinds[n] = None


def _is_link_item(line: str) -> bool:
    """A list item that reads like a link to another article: short, unfinished, often dated."""
    return bool(LIST_ITEM.match(line)) and len(line) <= MAX_LINK_TITLE and not is_complete(line)


def _mark_link_lists(lines: Sequence[str], kinds: list[str | None]) -> None:
    """Runs of MIN_LINK_RUN+ link-like list items (trafilatura's "- title 2024-01-07"), or a dated one: related links."""
    n = 0
    while n < len(lines):
        end = n
        while end < len(lines) and kinds[end] is None and _is_link_item(lines[end]):
            end += 1
        run = range(n, end)
        if len(run) >= MIN_LINK_RUN or any(TRAILING_DATE.search(lines[i]) for i in run):
            for i in run:
                kinds[i] = "related_links"
        n = max(end, n + 1)


def _join_label_values(lines: list[str]) -> list[str]:
    """稿件来源： + 河北日报 -> 稿件来源：河北日报, so the value is parsed with its label."""
    joined: list[str] = []
    for line in lines:
        if joined and EMPTY_LABEL_END.search(joined[-1]) and not META_FIELD.match(line):
            joined[-1] += line
        else:
            joined.append(line)
    return joined


MAX_TITLE_LINES = 4  # a title printed over several lines at the top of the body (公报 pages)


def take_title(lines: list[str], known_title: str | None = None) -> tuple[str | None, int]:
    """(title, number of leading lines that print it): the page's known title, or the first line."""
    if not lines:
        return known_title, 0
    if known_title:
        wanted, printed = match_key(known_title), ""
        for n, line in enumerate(lines[:MAX_TITLE_LINES], start=1):
            printed += match_key(line)
            if printed == wanted:
                return known_title, n
            if not wanted.startswith(printed):
                break
        return known_title, 0
    first = lines[0]
    looks_like_title = (
        len(first) <= 80
        and not (is_complete(first) and first[-1] in "。；;")
        and heading_marker(first) is None
        and len(lines) > 1
    )
    return (first, 1) if looks_like_title else (None, 0)


def is_caption(line: str) -> bool:
    """An image caption line (图为…, …摄): never body text, never a heading."""
    return bool(CAPTION.search(line)) and len(line) <= 2 * MAX_CAPTION_CHARS


def starts_mid_sentence(line: str | None) -> bool:
    """A line that can only be the second half of a sentence: ，… or 261个… at its start."""
    return line is not None and bool(MID_SENTENCE_START.match(line))


def is_cut_off(line: str, nxt: str | None, after: str | None) -> bool:
    """A line whose sentence goes on in a later line (after a page break, maybe past a caption)."""
    if is_complete(line) or heading_marker(line) or is_caption(line) or nxt is None or heading_marker(nxt):
        return False
    return is_fragment(line) or starts_mid_sentence(nxt) or (is_caption(nxt) and starts_mid_sentence(after))


def rejoin_breaks(lines: Sequence[str]) -> tuple[list[str], list[Removal]]:
    """Rejoin paragraphs broken mid-sentence by a page break or an interrupting caption.

    What follows a cut-off line is its continuation when it completes the sentence; a short
    unfinished line between the two halves is an image caption (a double page break is rarer).
    """
    out: list[str] = []
    removals: list[Removal] = []
    pending = list(lines)
    i = 0
    while i < len(pending):
        line = pending[i]
        nxt = pending[i + 1] if i + 1 < len(pending) else None
        after = pending[i + 2] if i + 2 < len(pending) else None
        if nxt is None or not is_cut_off(line, nxt, after):
            out.append(line)
            i += 1
            continue
        if not is_caption(nxt) and is_complete(nxt):
            pending[i + 1] = line + nxt
            removals.append(Removal("rejoined_break", _boundary(line, nxt)))
            i += 1
            continue
        short = is_caption(nxt) or len(nxt) <= MAX_CAPTION_CHARS
        if after is not None and short and heading_marker(after) is None:
            removals.append(Removal("image_caption", nxt))
            pending[i + 2] = line + after
            removals.append(Removal("rejoined_break", _boundary(line, after)))
            i += 2
            continue
        if is_fragment(nxt):
            pending[i + 1] = line + nxt
            removals.append(Removal("rejoined_break", _boundary(line, nxt)))
            i += 1
            continue
        out.append(line)
        i += 1
    return out, removals


def split_lead_in(line: str) -> tuple[str, str]:
    """(lead-in sentence, rest) of a numbered line: '(一)做好X。今年…' -> ('(一)做好X', '今年…')."""
    match = re.search(r"[。！？!?；;:：]", line)
    if not match:
        return line, ""
    return line[: match.start()], line[match.end() :].strip()


def classify_blocks(lines: Sequence[str]) -> tuple[list[Block], list[Removal]]:
    """Tell headings from paragraphs; a heading over two lines becomes one heading."""
    blocks: list[Block] = []
    removals: list[Removal] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        has_next = i + 1 < len(lines)
        if heading_marker(line):
            lead_in, rest = split_lead_in(line)
            if not rest and (not is_complete(line) or line[-1] in ":："):
                blocks.append(Block(line.rstrip(":："), HEADING))
            elif rest and len(lead_in) <= MAX_NUMBERED_LEAD_IN:
                blocks.append(Block(lead_in, HEADING))
                blocks.append(Block(line))
            else:
                blocks.append(Block(line))
            i += 1
            continue
        if is_caption(line) and not is_complete(line):
            removals.append(Removal("image_caption", line))
            i += 1
            continue
        if is_heading_candidate(line) and has_next:
            nxt = lines[i + 1]
            if is_heading_candidate(nxt) and i + 2 < len(lines) and not is_heading_candidate(lines[i + 2]):
                blocks.append(Block(f"{line} {nxt}", HEADING))
                removals.append(Removal("joined_heading", _boundary(line, nxt)))
                i += 2
                continue
            blocks.append(Block(line, HEADING))
            i += 1
            continue
        if not has_next and blocks and is_heading_candidate(line) and not re.search(r"[，,、；;：:]", line):
            removals.append(Removal("trailing_tag", line))  # a topic tag or column name after the article
            i += 1
            continue
        blocks.append(Block(line))
        i += 1
    return blocks, removals


def clean_lines(lines: Iterable[str], *, known_title: str | None = None) -> CleanText:
    """Body blocks of an article from its text lines, with metadata lines and removals."""
    body, metadata, removals = strip_furniture(lines)
    title, title_lines = take_title(body, known_title)
    removals += [Removal("title", line) for line in body[:title_lines]]
    body = body[title_lines:]
    body, joins = rejoin_breaks(body)
    blocks, more = classify_blocks(body)
    return CleanText(tuple(blocks), title, tuple(metadata), tuple(removals + joins + more))


# --- typed blocks of an HTML page ----------------------------------------------------------------------


# Furniture words that stay furniture in a full sentence: a site's copyright, licence, QR-code or account notice.
SITE_NOTICE = re.compile(r"版权所有|ICP备|公网安备|二维码|公众号|关注我们|Copyright|©|主办单位|承办单位|不良信息举报")
# A site's disclaimer: 免责声明：…, or 声明：… with a disclaimer's words.
DISCLAIMER = re.compile(
    r"^[【\[(（]?(?:免责声明|特别声明|版权声明)[】\])）]?|^[【\[(（]?声明[】\])）]?\s*[:：].*(?:仅供参考|不构成|不代表|版权|转载|观点)"
)
MAX_DISCLAIMER = 300
CALL_TO_ACTION = re.compile(
    r"[【\[](?:点击|立即|马上)(?:投票|报名|参与|领取|下载|购买|抢购|预约|订阅)[】\]]|[【\[]下载(?:地址|链接)?[】\]]"
)
# An app's download banner: 安装××客户端…【下载地址】, 下载××APP — an advertisement, never a sentence of the article.
APP_DOWNLOAD = re.compile(r"(?:安装|下载)\S{0,12}(?:客户端|APP|App|app)")
MAX_BANNER = 60
# A comment box's own lines: its counters, tabs and input hints (258条评论|2万人参与, 评论（191）, 最热评论, 已输入0字).
COMMENT_BAR = re.compile(
    r"^\d[\d,]*\s*条(?:评论|跟帖)|^(?:评论|跟帖)\s*[（(]\d[\d,]*[)）]$|^\d[\d,]*\s*人参与|^已输入\s*\d+\s*字"
    r"|^(?:查看|更多)(?:全部)?\s*\d*\s*条?(?:精彩)?(?:评论|跟帖)|^(?:最热|最新|热门|精彩|新闻|网友|热|新|全部)评论$|^我要跟帖$"
)
# The link that closes a comment box: 查看全部258条评论, 更多精彩评论>>.
COMMENT_BOX_END = re.compile(r"^(?:查看|更多)(?:全部)?\s*\d*\s*条?(?:精彩)?(?:评论|跟帖)")
# A site's contact block: one field a line (地 址：…, 邮政编码：…, 电 话：…).
CONTACT_FIELD_LINE = re.compile(
    r"^(?:地\s*址|邮\s*编|邮政编码|电\s*话|传\s*真|电子信箱|电子邮箱|邮\s*箱|E-?mail|网\s*址)\s*[:：]", re.IGNORECASE
)
SITE_ADDRESS = re.compile(r"^(?:地\s*址|邮\s*编|邮政编码)")
MIN_CONTACT_RUN = 3
MAX_CONTACT_FIELD = 80


def block_furniture_reason(line: str) -> str | None:
    """Why a line of an HTML page's body is furniture: a known furniture line, never merely a short one.

    Unlike plain text, a line with a phone number is kept unless it is a contact banner (two or more of
    地址/电话/邮编… fields): the article may be about that number. Furniture lines are not sentences.
    """
    reason = furniture_reason(line)
    if reason == "contact":
        return "contact" if len(line) <= 120 and len(CONTACT_FIELD.findall(line)) >= 2 else None
    if reason == "page_furniture" and line[-1] in "。！？!?" and not SITE_NOTICE.search(line):
        return None  # 该文章阅读量超过10万。 is a sentence; a site's notice may be one too
    if reason is None and DISCLAIMER.match(line) and len(line) <= MAX_DISCLAIMER:
        return "page_furniture"
    return reason


MIN_PROSE_CHARS = 80
MIN_MENU_LINKS = 4
PHOTO_CREDIT = re.compile(
    r"^(?:图片来源|图片[:：]|图为|图[:：]|摄影[:：]|▲)"
)  # a photo's credit or caption by its wording
TEASER_END = re.compile(
    r"(?:[【\[](?:详细|详情|全文|更多)[】\]]|(?:更多|详细|详情|全文)\s*(?:>>|»|＞＞)|阅读全文|查看全文|点击查看)\s*$"
)


def is_prose(line: str) -> bool:
    """A paragraph of running text: long and ending a sentence (a related-links zone ends at one)."""
    return len(line) >= MIN_PROSE_CHARS and line[-1] in "。！？!?”」"


def _block_kinds(blocks: Sequence[Block]) -> list[str | None]:
    """Removal reason of each block (None: body)."""
    reasons: list[str | None] = []
    in_related_list = False
    for n, block in enumerate(blocks):
        line = block.text
        # after a 为您推荐 / 相关阅读 header: everything up to the next paragraph of prose
        in_related_list = in_related_list and not is_prose(line)
        if in_related_list:
            # a footer line keeps its own reason; a line that links nowhere is told by where it stands
            own = "page_furniture" if block.kind == QR_LABEL else block_furniture_reason(line) or _box_reason(line)
            reasons.append(own or ("related_links" if _links(block) else UNLINKED))
            continue
        in_related_list = bool(RELATED_LIST_HEADER.match(line))
        if in_related_list:
            reasons.append("related_links")  # the list's header: 为您推荐, 相关阅读 …
            continue
        value_of_label = (
            n > 0 and reasons[n - 1] == "metadata_line" and bool(EMPTY_LABEL_END.search(blocks[n - 1].text))
        )
        if PHOTO_CREDIT.match(line) and len(line) <= MAX_CAPTION_CHARS:
            reasons.append("image_caption")
        elif not block.is_link and (is_metadata_line(line) or (value_of_label and _is_header_scrap(line))):
            # before captions: 责任编辑：… under the last photo is a byline; a linked title with its date is
            # an entry of a list of other pages, and its date is not this article's
            reasons.append("metadata_line")
        elif block.kind == QR_LABEL:
            reasons.append("page_furniture")  # the label of a QR code: an app or account to follow
        elif block.kind == CAPTION_KIND:
            reasons.append("image_caption")
        elif block.links >= MIN_MENU_LINKS or (block.kind == TABLE_ROW and block.is_link and " | " in line):
            reasons.append("navigation_links")  # a line or table row made of links: a menu
        elif TEASER_END.search(line):
            reasons.append("related_links")  # a teaser of another page: title, summary and its 【详细】 link
        elif CALL_TO_ACTION.search(line) and len(line) <= MAX_DISCLAIMER:
            reasons.append("promotion")  # 【点击投票】, 【点击报名】: a campaign's box, not the article
        elif reason := _box_reason(line):
            reasons.append(reason)
        else:
            reasons.append(block_furniture_reason(line))
    _mark_link_runs(blocks, reasons)
    _place_unlinked(blocks, reasons)
    _mark_contact_blocks(blocks, reasons)
    _mark_page_tail(blocks, reasons)
    return reasons


def _mark_contact_blocks(blocks: Sequence[Block], reasons: list[str | None]) -> None:
    """After the article's last paragraph of prose, a run of MIN_CONTACT_RUN+ contact-field lines naming an
    address or postcode (地 址：…, 邮政编码：…, 电 话：…) is the site's contact block, not the article."""
    prose = [i for i, b in enumerate(blocks) if reasons[i] is None and is_prose(b.text)]
    if not prose:
        return
    n = prose[-1] + 1
    while n < len(blocks):
        end = n
        while (
            end < len(blocks)
            and reasons[end] is None
            and len(blocks[end].text) <= MAX_CONTACT_FIELD
            and CONTACT_FIELD_LINE.match(blocks[end].text)
        ):
            end += 1
        run = range(n, end)
        if len(run) >= MIN_CONTACT_RUN and any(SITE_ADDRESS.match(blocks[i].text) for i in run):
            for i in run:
                reasons[i] = "contact"
        n = max(end, n + 1)


UNLINKED = "unlinked"  # a line of a related-links zone that is not a link: placed by _place_unlinked


def _box_reason(line: str) -> str | None:
    """An app's download banner (安装××客户端第一时间…→【下载地址】) or a comment box's counter or tab."""
    if APP_DOWNLOAD.search(line) and len(line) <= MAX_BANNER and not is_complete(line) and line[0] not in "(（":
        return "promotion"
    if COMMENT_BAR.search(line) and len(line) <= MAX_BANNER:
        return "comments"
    return None


def _links(block: Block) -> bool:
    return block.is_link or block.links > 0


def _place_unlinked(blocks: Sequence[Block], reasons: list[str | None]) -> None:
    """Lines of a related-links zone that link nowhere (a box's own heading, 微信号：…): after the article's
    last paragraph of prose they are the page's tail (_mark_page_tail), before it (or on a page without
    prose to tell) they belong to the list they stand in."""
    prose = [i for i, b in enumerate(blocks) if reasons[i] is None and is_prose(b.text)]
    for i, reason in enumerate(reasons):
        if reason == UNLINKED:
            reasons[i] = None if prose and i > prose[-1] else "related_links"


# A line holding only a date (and time): in a list of links it is the date of the entry above it.
BARE_STAMP = re.compile(rf"^{DATE.pattern}\s*(?:\d{{1,2}}:\d{{2}}(?::\d{{2}})?)?$")


def _is_list_stamp(blocks: Sequence[Block], reasons: Sequence[str | None], n: int) -> bool:
    """A bare date line right after a link and before the next one (or the list's end): the listed page's date,
    not this article's."""
    return (
        reasons[n] in (None, "metadata_line", UNLINKED)
        and bool(BARE_STAMP.match(blocks[n].text))
        and blocks[n - 1].is_link
        and (n + 1 >= len(blocks) or blocks[n + 1].is_link or not blocks[n + 1].text)
    )


def _mark_link_runs(blocks: Sequence[Block], reasons: list[str | None]) -> None:
    """Runs of MIN_LINK_RUN+ short lines that are each one whole link (a list of links to other pages), and
    lists whose short items are nearly all links (a menu: 推荐 娱乐 体育 …)."""
    n = 0
    while n < len(blocks):
        end = n
        while end < len(blocks) and (
            (reasons[end] is None and blocks[end].is_link and len(blocks[end].text) <= MAX_LINK_TITLE)
            or (end > n and _is_list_stamp(blocks, reasons, end))
        ):
            end += 1
        linked = sum(blocks[i].is_link for i in range(n, end))
        if linked < MIN_LINK_RUN:
            end = n
        if end - n < MIN_LINK_RUN and blocks[n].kind == LIST_ITEM_KIND:
            end = n
            while (
                end < len(blocks)
                and reasons[end] is None
                and blocks[end].kind == LIST_ITEM_KIND
                and len(blocks[end].text) <= MAX_LINK_TITLE
            ):
                end += 1
            if sum(blocks[i].is_link for i in range(n, end)) < LINK_SHARE * (end - n):
                end = n
        if end - n >= MIN_LINK_RUN:
            for i in range(n, end):
                reasons[i] = "related_links"
        n = max(end, n + 1)


# Marks that the article is over: after the last paragraph of prose, a closing byline (责任编辑…), a share
# bar, a related-links list or a footer line; what follows them is the page's tail (feeds, rankings).
CLOSING_REASONS = frozenset(
    {"metadata_line", "share_links", "related_links", "navigation_links", "page_furniture", "button", "comments"}
)
# Zone marks that end a comment box's tail: what follows them is the page's feeds, not comments.
LEAVES_COMMENTS = frozenset({"related_links", "navigation_links", "page_furniture"})


def _mark_page_tail(blocks: Sequence[Block], reasons: list[str | None]) -> None:
    """Blocks after a closing mark that itself follows the article's last prose paragraph: the page's tail.

    A tail opened by a comment box's counter or tab is the comments, up to the box's 查看全部…评论 link or a
    related list, menu or footer."""
    prose = [i for i, b in enumerate(blocks) if reasons[i] is None and is_prose(b.text)]
    if not prose:
        return
    closing = next((i for i in range(prose[-1] + 1, len(blocks)) if reasons[i] in CLOSING_REASONS), None)
    if closing is None:
        return
    zone = "page_tail"
    for i in range(closing, len(blocks)):
        if reasons[i] == "comments":
            zone = "page_tail" if COMMENT_BOX_END.match(blocks[i].text) else "comments"
        elif reasons[i] in LEAVES_COMMENTS:
            zone = "page_tail"
        elif reasons[i] is None:
            reasons[i] = zone


def block_heading(block: Block) -> Block:
    """A paragraph the markup leaves unmarked becomes a heading only when numbered as one: 一、总体要求."""
    line = block.text
    if block.kind != PARAGRAPH or not heading_marker(line) or LABEL_VALUE.search(line):
        return block
    _, rest = split_lead_in(line)
    if not rest and len(line) <= MAX_HEADING_CHARS and (not is_complete(line) or line[-1] in ":："):
        return Block(line.rstrip(":："), HEADING)
    return block


def clean_blocks(blocks: Iterable[Block], *, known_title: str | None = None) -> CleanText:
    """Body blocks of an HTML article from its typed blocks, with metadata lines and removals."""
    items = [Block(normalize_line(b.text), b.kind, b.is_link, b.links) for b in blocks]
    items = [b for b in items if b.text]
    reasons = _block_kinds(items)
    removals = [Removal(reason, b.text) for b, reason in zip(items, reasons, strict=True) if reason]
    metadata = _join_label_values([b.text for b, r in zip(items, reasons, strict=True) if r == "metadata_line"])
    body = [b for b, reason in zip(items, reasons, strict=True) if reason is None]
    title, title_lines = take_title([b.text for b in body], known_title)
    removals += [Removal("title", b.text) for b in body[:title_lines]]
    body = body[title_lines:]
    if title:
        # the title printed again with its byline beside it (a table cell: title + 来源于：…)
        key = match_key(title)
        repeats = [
            n
            for n, b in enumerate(body[:MAX_HEADER_LINES])
            if match_key(b.text).startswith(key) and len(b.text) - len(title) <= MAX_HEADER_SCRAP
        ]
        removals += [Removal("title", body[n].text) for n in repeats]
        body = [b for n, b in enumerate(body) if n not in repeats]
    body = [block_heading(b) for b in body]
    return CleanText(tuple(body), title, tuple(metadata), tuple(removals))
