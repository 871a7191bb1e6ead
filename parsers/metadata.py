"""Title, publish date, outlet and author from metadata lines and page metadata."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date

from parsers.clean import DATE, META_LABEL

SOURCE_LABEL = re.compile(r"(?:本文来源于|来源于|文章来源|稿件来源|信息来源|来源|转自|原载|摘自)\s*[:：]?\s*")
AUTHOR_LABEL = re.compile(r"(?:作者|撰稿|文)\s*[:：/]\s*")
REPORTER_LABEL = re.compile(r"(?:记者|通讯员)\s*[:：]?\s*")
TRAILING_TIMESTAMP = re.compile(r"\s*(?:19|20)\d{2}\s*[-年/.]\s*\d{1,2}.*$")
ACCORDING_TO = re.compile(r"^[(（【]?\s*据\s*《(?P<outlet>[^》]{1,30})》")
BOOK_TITLE = re.compile(r"《(?P<name>[^》]{1,30})》")
# A value ends at the next label, a run of spaces, a separator or a closing bracket.
VALUE_END = re.compile(rf"\s{{2,}}|\s*(?:{META_LABEL})\s*[:：]|[|丨)）】\]]|$")
DATELINE_REPORTER = re.compile(
    r"[(（]\s*(?:本报|本刊)?(?:记者|通讯员)\s*(?P<names>[\u4e00-\u9fff·]{2,4}(?:[\s、，,]+[\u4e00-\u9fff·]{2,4})*)\s*[)）]"
)
NAME_SPLIT = re.compile(r"[、,，;；\s]+")
# A 【…】 tag before a title names its speaker or author when it is a short personal name,
# not a column label such as 【新闻】 or 【视频】.
TITLE_TAG = re.compile(r"^【(?P<tag>[\u4e00-\u9fff·]{2,4})】")
COLUMN_TAGS = frozenset(
    [
        "新闻",
        "要闻",
        "视频",
        "图文",
        "专题",
        "公告",
        "通知",
        "动态",
        "原创",
        "转载",
        "独家",
        "快讯",
        "关注",
        "聚焦",
        "热点",
        "评论",
        "访谈",
        "推荐",
        "头条",
        "民政",
        "社会组织",
        "基层",
        "地方",
        "工作",
        "政策",
        "解读",
        "图片",
        "直播",
        "聚焦民政",
        "民政要闻",
        "地方动态",
    ]
)
PUBLISHER_SUFFIX = re.compile(r"(?:杂志社?|报社|日报社|网站)?\s*(?:\d{4}年.*|第?\d+[期版].*|\d{1,2}月[上中下]?.*)?$")


def _value_after(label: re.Pattern[str], line: str) -> str | None:
    match = label.search(line)
    if not match:
        return None
    rest = line[match.end() :]
    end = VALUE_END.search(rest)
    value = rest[: end.start()] if end else rest
    return value.strip(" :：,，") or None


def parse_date(text: str) -> date | None:
    """First valid calendar date in the text (2023-09-22, 2023年9月22日, 2023/9/22)."""
    for match in DATE.finditer(text):
        try:
            return date(int(match["y"]), int(match["m"]), int(match["d"]))
        except ValueError:
            continue
    return None


def parse_outlet(line: str) -> str | None:
    """Outlet named by a source line: 来源:《中国民政》杂志2021年3月11日 -> 中国民政."""
    according = ACCORDING_TO.search(line)
    if according:
        return according["outlet"]
    value = _value_after(SOURCE_LABEL, line)
    if not value:
        return None
    book = BOOK_TITLE.search(value)
    if book:
        return book["name"]
    outlet = PUBLISHER_SUFFIX.sub("", TRAILING_TIMESTAMP.sub("", value)).strip()
    return outlet or None


def parse_authors(line: str) -> str | None:
    """Authors of a byline, joined with 、: 作者:冯雨、赵斐 -> 冯雨、赵斐."""
    value = _value_after(AUTHOR_LABEL, line) or _value_after(REPORTER_LABEL, line)
    if not value:
        return None
    names = [n for n in NAME_SPLIT.split(value) if n]
    return "、".join(names) or None


def author_from_title(title: str) -> str | None:
    """Speaker named in a 【name】 tag before the title, as on 基层民政大家谈 pages."""
    match = TITLE_TAG.match(title)
    if match and match["tag"] not in COLUMN_TAGS:
        return match["tag"]
    return None


def author_from_dateline(paragraph: str) -> str | None:
    """Reporters named in a news lead: 本报呼和浩特5月20日讯 (记者 其其格) … -> 其其格."""
    match = DATELINE_REPORTER.search(paragraph[:80])
    return "、".join(NAME_SPLIT.split(match["names"].strip())) if match else None


def first_of(values: Iterable[str | None]) -> str | None:
    return next((v for v in values if v), None)


def parse_metadata_lines(lines: Iterable[str]) -> tuple[date | None, str | None, str | None]:
    """(published date, outlet, author) from byline and credit lines, first found wins."""
    lines = list(lines)
    published = next((d for d in map(parse_date, lines) if d), None)
    outlet = first_of(parse_outlet(line) for line in lines)
    author = first_of(parse_authors(line) for line in lines)
    return published, outlet, author
