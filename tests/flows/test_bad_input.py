"""Bad input (issue 2): the good files load, readable encodings decode, every other file is a reject a person
can act on, the command exits non-zero, and a fixed file loads on the next run."""

from __future__ import annotations

import shutil
import struct
import subprocess
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest

from warehouse.schema import connect

INBOX = "inbox"  # given to the command as a relative path: uris are "inbox/<file>"
DB = "warehouse.duckdb"

# Realistic body text with GBK-only characters (镕, 喆) that gb2312 cannot encode.
GBK_TITLE = "省民政厅召开社会救助工作推进会"
GBK_BODY = (
    "记者从省民政厅获悉,截至今年6月底,全省共有城乡低保对象52.3万人,全年累计发放低保资金38.6亿元。"
    "会上,退休干部代表回忆了朱镕基同志任内推动建立城市居民最低生活保障制度的历程。"
    "社区社工张喆说:“社会救助兜底保障网越织越密,困难群众的获得感明显增强。”"
    "下一步,省民政厅将持续推进社会救助综合改革,健全分层分类的社会救助体系,加强低收入人口动态监测,"
    "确保应保尽保、应救尽救,推动救助方式由被动受理向主动发现转变,让困难群众感受到党和政府的温暖。"
)
UTF16_TITLE = "养老服务体系建设取得新进展"
UTF16_BODY = (
    "今年以来,市民政局聚焦老年人急难愁盼问题,新建社区嵌入式养老服务机构18家,改造提升农村互助幸福院46个,"
    "为1.2万户特殊困难老年人家庭实施适老化改造。市民政局有关负责人表示,将继续完善居家社区机构相协调、"
    "医养康养相结合的养老服务体系,推动养老服务从“有没有”向“好不好”转变,让老年人安享幸福晚年。"
)
NAV_ONLY_PAGE = """<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>某市民政局</title></head>
<body>
<nav><a href="/">首页</a> | <a href="/col/col1/">机构概况</a> | <a href="/col/col2/">政务公开</a> |
<a href="/col/col3/">办事服务</a> | <a href="/col/col4/">互动交流</a></nav>
<footer><p>主办单位:某市民政局 地址:人民路1号 联系电话:0571-88888888</p>
<p>浙ICP备12345678号 网站标识码3301000001</p></footer>
</body></html>
"""
EXPECTED_REJECTS = {  # file -> words its reason must contain
    "empty.txt": "empty",
    "scan.txt": "binary",
    "nav.html": "no article",
}


def png_bytes() -> bytes:
    """A real 1x1 PNG, as when an image is saved with the wrong extension."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0\0\0\0")) + chunk(b"IEND", b"")
    )


def build_inbox(inbox: Path, seeds_dir: Path) -> None:
    shutil.copytree(seeds_dir, inbox)
    (inbox / "empty.txt").write_bytes(b"")
    (inbox / "scan.txt").write_bytes(png_bytes())
    (inbox / "gbk.txt").write_bytes(f"{GBK_TITLE}\n\n{GBK_BODY}\n".encode("gbk"))
    (inbox / "utf16.txt").write_bytes(f"{UTF16_TITLE}\n\n{UTF16_BODY}\n".encode("utf-16"))  # with BOM
    (inbox / "nav.html").write_text(NAV_ONLY_PAGE, encoding="utf-8")


@pytest.fixture(scope="module")
def bad_run(
    tmp_path_factory: pytest.TempPathFactory, seeds_dir: Path, run_cli: Callable[..., subprocess.CompletedProcess[str]]
) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """(working folder, finished process) of `civic-ingest ingest inbox --db warehouse.duckdb`, run once."""
    root = tmp_path_factory.mktemp("bad-input")
    build_inbox(root / INBOX, seeds_dir)
    assert len(GBK_BODY) >= 200 and "镕" in GBK_BODY and "喆" in GBK_BODY
    return root, run_cli("ingest", INBOX, "--db", DB, cwd=root, timeout=300)


def rows(db: Path, sql: str) -> list[tuple]:
    con = connect(db, read_only=True, wait_seconds=5)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_command_exits_non_zero_and_lists_the_rejects(bad_run) -> None:
    _, done = bad_run
    assert done.returncode == 1, f"1 = finished with rejects (2 would be an error)\n{done.stdout}\n{done.stderr}"
    assert "Traceback" not in done.stderr
    assert "7 new" in done.stdout
    rejected = [line.strip() for line in done.stdout.splitlines() if line.strip().startswith(f"- {INBOX}/")]
    assert len(rejected) == len(EXPECTED_REJECTS), done.stdout
    for name, words in EXPECTED_REJECTS.items():
        assert any(line.startswith(f"- {INBOX}/{name}") and words in line for line in rejected), done.stdout


def test_good_files_load_with_correctly_decoded_text(bad_run) -> None:
    root, _ = bad_run
    docs = dict(rows(root / DB, "SELECT uri, title FROM documents"))
    assert sorted(docs) == sorted(
        [f"{INBOX}/{p.name}" for p in (root / INBOX).glob("0*.txt")] + [f"{INBOX}/gbk.txt", f"{INBOX}/utf16.txt"]
    )
    assert docs[f"{INBOX}/gbk.txt"] == GBK_TITLE
    assert docs[f"{INBOX}/utf16.txt"] == UTF16_TITLE
    body = {
        uri: "".join(texts)
        for uri, texts in rows(
            root / DB,
            "SELECT d.uri, list(p.text ORDER BY p.ordinal) FROM paragraphs p JOIN documents d USING (doc_id) GROUP BY 1",
        )
    }
    assert body[f"{INBOX}/gbk.txt"] == GBK_BODY
    assert body[f"{INBOX}/utf16.txt"] == UTF16_BODY
    assert not [uri for uri, text in body.items() if "\ufffd" in text or "\x00" in text], "no mojibake anywhere"


def test_each_unprocessable_file_has_a_readable_reject(bad_run) -> None:
    root, _ = bad_run
    rejects = {uri: (stage, reason) for uri, stage, reason in rows(root / DB, "SELECT uri, stage, reason FROM rejects")}
    assert set(rejects) == {f"{INBOX}/{name}" for name in EXPECTED_REJECTS}
    for name, words in EXPECTED_REJECTS.items():
        stage, reason = rejects[f"{INBOX}/{name}"]
        assert words in reason.lower(), reason
        assert stage in {"read", "decode", "extract", "clean"}
        assert "Traceback" not in reason and "Error:" not in reason and len(reason) < 200
    loaded = rows(root / DB, "SELECT uri FROM documents WHERE uri IN ('inbox/empty.txt', 'inbox/scan.txt')")
    assert loaded == []


@pytest.mark.usefixtures("prefect_harness")
def test_a_fixed_file_loads_and_loses_its_reject(bad_run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from flows.ingest_files import ingest_files

    work = Path(shutil.copytree(bad_run[0], tmp_path / "rerun"))
    monkeypatch.chdir(work)
    (work / INBOX / "empty.txt").write_bytes(f"{GBK_TITLE}(续)\n\n{GBK_BODY}\n".encode())

    summary = ingest_files(paths=[INBOX], db=DB)

    assert (summary.articles_new, summary.articles_updated, summary.articles_unchanged) == (1, 0, 7)
    assert sorted(r.uri for r in summary.rejects) == [f"{INBOX}/nav.html", f"{INBOX}/scan.txt"]
    assert rows(work / DB, "SELECT uri, attempts FROM rejects ORDER BY uri") == [
        (f"{INBOX}/nav.html", 2),
        (f"{INBOX}/scan.txt", 2),
    ]
    assert rows(work / DB, "SELECT count(*) FROM documents WHERE uri = 'inbox/empty.txt'") == [(1,)]
