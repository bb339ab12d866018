"""Question sets written blind (#18), kept as regression data: each scores at least what it did.

The sets were written from the documents alone by people who never saw the engine; their
first scores, before any tuning, are in bench/README.md. Here each is scored the way the
project measures it, by ../shared/eval/score.py's rules over `python -m bot ask --json` (and
`import-doc` for a real document), and fails when its score falls below the one reached.
"""

from __future__ import annotations

import importlib.util
import io
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from bot.cli import main
from bot.documents.plan import SHIPPED_DATA
from tests.test_import_layouts import SHARED

HERE = Path(__file__).resolve().parent
SETS = HERE / "data" / "blind"
SCORE = SHARED.parent / "eval" / "score.py"

pytestmark = pytest.mark.skipif(not SCORE.is_file(), reason="../shared is not beside the clone")

# set -> the rows answered right when it was kept (bench/README.md, "later score").
REACHED = {
    "notice-everyday": 120,
    "notice-dialog": 50,
    "guangzhou2012_rencai_jiju_633": 23,
    "guobanfa2018-117_zhenzhua_shigan": 23,  # 23 after branch roles6 (not blind)
    "guobanfa2018-128_wufei_chengshi": 23,
    "guofa2018-39_cujin_jiuye": 22,
    "guofa2018-42_nongye_jixiehua": 23,
    "guofa2019-3_zonghe_baoshuiqu": 23,
    "gz2023_jiatingyisheng_fengongbiao": 24,
    "gz2023_jiatingyisheng_fengongbiao_xlsx": 24,
    # Round 2, scored blind on the engine above (never tuned to): first score = later score.
    "notice-round2": 60,  # 59 blind; 60 after branch none5's "not found" rules (not blind)
    "guobanfa2018-121_tiyu_jingsai": 23,
    "guobanfa2018-129_xiaofei_fupin": 22,  # 19 blind; 22 after none6 and roles6 (not blind)
    # Round 3: first scores on main at 2460313 in bench/README.md; kept at the later score
    # (the reference and dialog work was written from these sets' categories: not blind).
    "notice-round3": 79,  # 78; 79 after branch topic8 (not blind)
    "notice-dialog3": 30,  # 27; 30 after branch roles6 (not blind)
    # Three documents no other set had, found by the writer (texts/, with its SOURCES.md).
    "gz2012_minzhu_fazhi": 23,  # 22; 23 after branch topic8 (not blind)
    "gz2012_minsheng_xingfu": 25,  # 25 after branch roles6 (not blind)
    "gz2012_keji_chuangxin": 24,
    # Round 4: first scores on main at 8ad3710, blind scores after the importer and concept
    # map (which never saw them) and the later, not blind ones of branch misses4, all in
    # bench/README.md; kept at the last.
    "notice-round4": 80,
    "notice-dialog4": 30,
    "gz2012_dangjian_chuangxin": 25,  # 24; 25 after branch topic8 (not blind)
    "gd2025_shuzi_guangdong": 25,
    "zj2026_rengongzhineng_renwu": 25,
    # Round 5 (the notice only): first scores on main at 989b0d9 in bench/README.md.
    "notice-round5": 80,  # 71 blind; 76 after none5, 79 after topic6, 80 after roles6
    "notice-dialog5": 30,  # 27 blind; 30 after topic6 and roles6 (not blind)
    # Round 6: first scores on main at 38afdc4 in bench/README.md; fresh questions on every
    # document of ../shared/docs (suffix -r6) and two documents new to the sets.
    "notice-round6": 80,  # 66 blind; 76 none6/topic6, 79 roles6, 80 notice11 (not blind)
    "notice-dialog6": 30,  # 21 blind; 23 after none6/topic6, 30 after roles6 (not blind)
    "guangzhou2012_rencai_jiju_633-r6": 20,  # 16 blind; 19 after topic6, 20 after roles6
    "guobanfa2018-117_zhenzhua_shigan-r6": 20,  # 19 blind; 20 after branch none6 (not blind)
    "guobanfa2018-121_tiyu_jingsai-r6": 20,  # 18 blind; 19 after branch none6 (not blind)
    "guobanfa2018-128_wufei_chengshi-r6": 20,  # 17 blind; 18 none6, 20 none9 (not blind)
    "guobanfa2018-129_xiaofei_fupin-r6": 20,  # 17 blind; 20 after topic6 and roles6 (not blind)
    "guofa2018-39_cujin_jiuye-r6": 25,  # 20 blind; 22 after branch none6 (not blind)
    "guofa2018-42_nongye_jixiehua-r6": 25,  # 23 blind; 25 after branch none6 (not blind)
    "guofa2019-3_zonghe_baoshuiqu-r6": 25,  # 24; 25 after branch topic8 (not blind)
    "gz2023_jiatingyisheng_fengongbiao-r6": 25,  # 20 blind; 23 after branch none6 (not blind)
    "gz2023_jiatingyisheng_fengongbiao_xlsx-r6": 25,  # 20 blind; 23 after branch none6 (not blind)
    "xianan2023_zhengfu_gongzuo_baogao-r6": 25,  # 20 blind; 23 topic6, 24 roles6, 25 none9
    "changshu2018_zhengfu_gongzuo_renwu-r6": 21,  # 0 blind (not imported); 17 after importer6
    # Round 7: written while the round-6 work went on, never opened; scored blind on main
    # before it (b1e1689) and after it (b9988c6), both in bench/README.md; kept at the second.
    "notice-round7": 78,  # 71 blind; 75 notice7, 76 concepts9, 77 topic8, 78 notice11
    "notice-dialog7": 30,  # 25 blind; 30 after notice7 (not blind)
    "guangzhou2012_rencai_jiju_633-r7": 20,  # 18 blind; 20 after branch docs7 (not blind)
    "guobanfa2018-117_zhenzhua_shigan-r7": 20,  # 17 blind; 18 docs7, 19 concepts9, 20 topic8
    "guobanfa2018-121_tiyu_jingsai-r7": 20,  # 17 blind; 18 docs7, 19 topic8 (not blind)
    "guobanfa2018-128_wufei_chengshi-r7": 20,
    "guobanfa2018-129_xiaofei_fupin-r7": 19,  # 16 blind; 19 after branch docs7 (not blind)
    "guofa2018-39_cujin_jiuye-r7": 24,  # 19 blind; 21 docs7, 22 topic8, 23 none8, 24 none9
    "guofa2018-42_nongye_jixiehua-r7": 25,  # 19 blind; 20 docs7, 21 concepts9, 24 topic8, 25 none8
    "guofa2019-3_zonghe_baoshuiqu-r7": 24,  # 23 blind; 24 after branch docs7 (not blind)
    "gz2023_jiatingyisheng_fengongbiao-r7": 24,  # 18; 21 topic8, 22 none8, 23 none9 (not blind)
    "gz2023_jiatingyisheng_fengongbiao_xlsx-r7": 24,  # 18; 21 topic8, 22 none8, 23 none9
    "jinxiang2025_zhongyao_gongzuo_fengong-r7": 20,  # 19 blind; 20 after branch docs7 (not blind)
    "wuhan2023_zhengfu_gongzuo_baogao_p9-r7": 20,  # 14 blind; 16 docs7, 17 topic8, 20 none9
    # Round 8: written while branches docs7 and notice7 worked from round 7's misses, never
    # opened; scored blind before (00de2fc) and after them (553234b); kept at the second.
    "notice-round8": 80,  # 75; 77 after branch topic8, 80 none8 (not blind)
    "notice-dialog8": 30,  # 28 blind; 30 after branch dialog8 (not blind)
    "guangzhou2012_rencai_jiju_633-r8": 20,  # 18; 19 after branch none8, 20 none9 (not blind)
    "guobanfa2018-117_zhenzhua_shigan-r8": 20,
    "guobanfa2018-121_tiyu_jingsai-r8": 19,  # 17; 19 after branch topic8 (not blind)
    "guobanfa2018-128_wufei_chengshi-r8": 20,  # 18 blind; 19 after concepts9 or topic8, 20 none8
    "guobanfa2018-129_xiaofei_fupin-r8": 20,  # 17; 18 after dialog8, 20 none8 (not blind)
    "guofa2018-39_cujin_jiuye-r8": 25,  # 22; 24 after branch topic8, 25 none8 (not blind)
    "guofa2018-42_nongye_jixiehua-r8": 25,  # 21; 23 after branch topic8, 25 none8 (not blind)
    "guofa2019-3_zonghe_baoshuiqu-r8": 25,  # 23; 24 after branch topic8 (not blind); 25 docs11
    "gz2023_jiatingyisheng_fengongbiao-r8": 23,  # 19 blind; 20 concepts9, 22 topic8, 23 none8
    "gz2023_jiatingyisheng_fengongbiao_xlsx-r8": 23,  # 19 blind; 20 concepts9, 22 topic8, 23 none8
    # Round 9: three documents new to the sets (texts/SOURCES.md), scored blind on main at
    # 74e898c; kept after branch importer9's layouts and unit names (not blind).
    "sanmenxia2023_zhongdian_gongzuo_zeren-r9": 19,  # 0 blind; 16, 17 topic8, 18 concepts10,
    # 20 none12, 19 without its rule on common words (bench/README.md, "Round 12, after")
    "liangshan_minsheng_fenjie_p5-r9": 20,  # 7 blind; 13 importer9, 14 concepts9, 15 concepts10,
    # 18 none9
    "henan2023_yuzheng5_zhongdian_gongzuo-r9": 11,  # 9 blind
    # Round 9 on the notice and ../shared/docs: written at the start of the next session, never
    # opened by a branch; scored blind before that session's work (74e898c) and after it
    # (ae5db46); kept at the second (two rows, 妇联 and 国合署, were named in a README summary
    # branches read before the second score: not blind).
    "notice-round9": 80,  # 73 blind before and after; 74 里头, 75 concepts10, 77 none9 (not blind)
    "notice-dialog9": 30,
    "guangzhou2012_rencai_jiju_633-r9": 20,  # 18; 20 after branch none9 (not blind)
    "guobanfa2018-117_zhenzhua_shigan-r9": 20,  # 16 blind before; 18 concepts10, 20 none9
    "guobanfa2018-121_tiyu_jingsai-r9": 19,  # 15; 16 concepts10, 17 none9 (not blind)
    "guobanfa2018-128_wufei_chengshi-r9": 20,  # 17; 18 concepts10, 19 none9 (not blind); 20 docs11
    "guobanfa2018-129_xiaofei_fupin-r9": 20,  # 17 blind before; 20 docs11 (not blind)
    "guofa2018-39_cujin_jiuye-r9": 25,  # 23 blind before; 25 none9
    "guofa2018-42_nongye_jixiehua-r9": 24,  # 21 blind before
    "guofa2019-3_zonghe_baoshuiqu-r9": 24,  # 22 blind before
    "gz2023_jiatingyisheng_fengongbiao-r9": 25,  # 19 blind before; 22 none9
    "gz2023_jiatingyisheng_fengongbiao_xlsx-r9": 25,  # 19 blind before; 22 none9
    # Round 10: two documents new to the sets (texts/SOURCES.md), scored blind on main at
    # 2a40bcb; kept after branch importer10's layouts (not blind).
    "luan2021_zhongdian_gongzuo_zeren-r10": 19,  # 4 blind (labelled lines not read); 19 docs11
    "jiayu2021_zhongdian_gongzuo_zeren-r10": 19,  # 16 blind
    # Branch topic9 (round 9's misses by general rules, not blind) raised the round-9 and
    # round-7 sets it gained rows on (bench/README.md, "Round 9 misses: topic9").
    # Round 10b (the notice as people who never read it ask: concrete cases), scored blind on
    # main at c355fbc; kept after branch cases10b worked from its misses (not blind).
    "notice-round10b": 80,  # 61 blind; 79 cases10b, 80 notice11 (not blind)
    "notice-dialog10b": 30,  # 28 blind
    # Round 10 (bench/README.md, "Round 10, blind" and "Round 10, after"): scored blind on main
    # at 2a40bcb (10c at 94a757a), and again after this session's branches, which never saw
    # them (10c: written after 10b, unopened until then); kept at the second score.
    "notice-round10": 80,  # 69 blind before; 76 after the lead's fixes, 80 notice11
    "notice-dialog10": 30,  # 27 blind before; 30 after branch notice11 (not blind)
    "notice-round10c": 80,  # 67 blind before; 76 rs as 人社, 77 concepts11, 80 notice11
    "notice-dialog10c": 30,  # 28 blind before; 29 concepts11, 30 notice11 (not blind)
    "guangzhou2012_rencai_jiju_633-r10": 20,  # 17 blind before; 20 docs11 (not blind)
    "guobanfa2018-117_zhenzhua_shigan-r10": 20,  # 19 blind before; 20 docs11 (not blind)
    "guobanfa2018-121_tiyu_jingsai-r10": 20,  # 20 blind before
    "guobanfa2018-128_wufei_chengshi-r10": 20,  # 18 blind before; 20 docs11 (not blind)
    "guobanfa2018-129_xiaofei_fupin-r10": 20,  # 19 blind before; 20 docs11 (not blind)
    "guofa2018-39_cujin_jiuye-r10": 25,  # 24 blind before
    "guofa2018-42_nongye_jixiehua-r10": 24,  # 23 blind before; 24 省政府 (not blind)
    "guofa2019-3_zonghe_baoshuiqu-r10": 25,  # 22 blind before; 25 docs11 (not blind)
    "gz2023_jiatingyisheng_fengongbiao-r10": 25,  # 22 blind before; 25 docs11 (not blind)
    "gz2023_jiatingyisheng_fengongbiao_xlsx-r10": 25,  # 22 blind before; 25 docs11 (not blind)
    # Round 11 (bench/README.md, "Round 11, blind" and "Round 11, after"): scored blind on main
    # at 0b73be4 and after this session's branches, which never saw them (importer11 read the
    # two new documents' texts, not their questions); kept after the lead's fixes (not blind).
    "notice-round11": 75,  # 68 blind; 70 after the branches; 74 the lead's fixes; 75 concepts12
    "notice-dialog11": 29,  # 29 blind before
    "notice-round11b": 77,  # 75 blind before and after; 77 几时, 几月份 (not blind); 78
    # concepts12; 77 without its line 公交集团 = 国有企业 (公交公司的车太挤 found items)
    "notice-dialog11b": 29,  # 29 blind before
    "guangzhou2012_rencai_jiju_633-r11": 19,  # 17 blind; 18 牵头还是配合, 19 concepts12: not blind
    "guobanfa2018-117_zhenzhua_shigan-r11": 19,  # 19 blind before; 20 none12, 19 without its
    # rule on common words
    "guobanfa2018-121_tiyu_jingsai-r11": 20,  # 20 blind before
    "guobanfa2018-128_wufei_chengshi-r11": 19,  # 19 blind before
    "guobanfa2018-129_xiaofei_fupin-r11": 18,  # 18 blind before
    "guofa2018-39_cujin_jiuye-r11": 25,  # 22 blind before; 23 concepts11 (blind); 24 lead,
    # 25 none12
    "guofa2018-42_nongye_jixiehua-r11": 24,  # 24 blind before
    "guofa2019-3_zonghe_baoshuiqu-r11": 23,  # 23 blind before
    "gz2023_jiatingyisheng_fengongbiao-r11": 23,  # 23 blind before
    "gz2023_jiatingyisheng_fengongbiao_xlsx-r11": 23,  # 23 blind before
    "changzhou_zhonglou2021_minsheng_shishi-r11": 18,  # 0 blind (not imported); 18 importer11
    "sichuan2022_xiandai_liutong-r11": 11,  # 0 blind (not imported); 8 importer11; 11 lead
    # Round 12 (bench/README.md, "Round 12, blind" and "Round 12, after"): first blind on main
    # (ac772d2; the new documents at 59c4458 and 2ea4437), after the branches (blind; the lead
    # read the new documents' layouts, not their questions), then the lead's fixes (not blind).
    "notice-round12": 80,  # 76 blind; 77 after the branches; 80 the lead
    "notice-dialog12": 30,  # 29 blind; 30 执照咋办 (not blind)
    "notice-round12b": 77,  # 76 blind and after; 77 the lead
    "notice-dialog12b": 29,  # 25 blind and after; 29 the lead
    "guangzhou2012_rencai_jiju_633-r12": 20,  # 20 blind
    "guobanfa2018-117_zhenzhua_shigan-r12": 19,  # 19 blind
    "guobanfa2018-121_tiyu_jingsai-r12": 19,  # 19 blind; 18 after none12; 19 the lead
    "guobanfa2018-128_wufei_chengshi-r12": 18,  # 17 blind; 18 the lead
    "guobanfa2018-129_xiaofei_fupin-r12": 19,  # 19 blind
    "guofa2018-39_cujin_jiuye-r12": 23,  # 22 blind; 23 none12 (blind)
    "guofa2018-42_nongye_jixiehua-r12": 23,  # 23 blind
    "guofa2019-3_zonghe_baoshuiqu-r12": 24,  # 24 blind
    "gz2023_jiatingyisheng_fengongbiao-r12": 23,  # 23 blind
    "gz2023_jiatingyisheng_fengongbiao_xlsx-r12": 23,  # 23 blind
    "cangnan2022_minsheng_shishi_jindu-r12": 20,  # 0 blind (not imported); 18 layout; 20 lead
    "hebei2026_minsheng_gongcheng-r12": 18,  # 18 blind; 16 after none12; 18 the lead
    "heilongjiang2013_zhengfu_gongzuo_fengong-r12": 17,  # 14 blind; 16 layout; 17 the lead
    "shanxi2008_mubiao_zeren_fenjie-r12": 14,  # 9 blind; 14 layout; 13 after none12; 14 lead
    "jianli2022_zhengfu_gongzuo_baogao_fenjie-r12": 19,  # 17 blind; 19 the lead
    "shapingba2022_yuqi_mubiao_fenjie-r12": 20,  # 0 blind (not imported); 15 layout; 20 lead
    "tongzhou2021_shiwuwu_renwu_fengong-r12": 20,  # 15 blind; 20 the lead
    "tongchuan2025_zhengfu_gongzuo_baogao_fengong-r12": 19,  # 18 blind; 19 the lead
    "wujiang2024_zhongdian_gongzuo_fenjie-r12": 20,  # 11 blind; 16 layout; 15 none12; 20 lead
    "lianjiang2021_wei_min_ban_shishi-r12": 17,  # 15 blind; 17 the lead
    "fengyang2023_minsheng_shishi_50xiang-r12": 16,  # 15 blind; 16 the lead
}
# Sets kept before round 4 were raised by the concept map and branch misses4 (bench/README.md,
# "Everyday descriptions" and "What round 4 still missed"), and twelve sets by branch none6's
# "not found" rules ("Before round 6: none6"): not blind figures.
TEXTS = SETS / "texts"  # documents of the sets that are not in ../shared/docs


def _load_score() -> ModuleType:
    spec = importlib.util.spec_from_file_location("score", SCORE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.open = _read  # type: ignore[attr-defined]  # it leaves its files to the collector
    return module


def _read(path: str, *args: Any, **kwargs: Any) -> io.StringIO:
    with open(path, *args, **kwargs) as file:
        return io.StringIO(file.read())


def _score(
    path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    data: Path = SHIPPED_DATA,
) -> tuple[int, int]:
    """Score a set as ../shared/eval/score.py does, its rules and lines, in this process.

    score.py runs `python -m bot ask --json [--chat]` on the set's lines; here the same command
    line runs through `bot.cli.main` with those lines on standard input (two processes less
    per set), and score.py's own `resolve` and `judge` read the answers.
    """
    score = _load_score()
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    if any("measure_texts" in row for row in rows):  # named by text: the imported plan's ids
        rows = score.resolve(rows, str(data / "plan.yaml"))
    chat = any("context" in row for row in rows)
    lines: list[str] = []
    at: list[int] = []
    for row in rows:  # each row of a conversation set is a chat: its context, its question, ""
        lines += row.get("context", []) if chat else []
        at.append(len(lines))
        lines += [row["q"], ""] if chat else [row["q"]]
    monkeypatch.setattr(sys, "stdin", io.StringIO("\n".join(lines) + "\n"))
    capsys.readouterr()
    assert main(["--data", str(data), "ask", "--json", *(["--chat"] if chat else [])]) == 0
    answers = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line]
    assert len(answers) == len(lines)
    right = sum(bool(score.judge(row, answers[i])) for row, i in zip(rows, at, strict=True))
    return right, len(rows)


def _env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in os.environ:
        if name.startswith(("TELEGRAM_", "FENGONG_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("FENGONG_DB", str(tmp_path / "bot.sqlite3"))


NOTICE_SETS = [
    "notice-everyday",
    "notice-dialog",
    "notice-round2",
    "notice-round3",
    "notice-dialog3",
    "notice-round4",
    "notice-dialog4",
    "notice-round5",
    "notice-dialog5",
    "notice-round6",
    "notice-dialog6",
    "notice-round7",
    "notice-dialog7",
    "notice-round8",
    "notice-dialog8",
    "notice-round9",
    "notice-dialog9",
    "notice-round10b",
    "notice-dialog10b",
    "notice-round10",
    "notice-dialog10",
    "notice-round10c",
    "notice-dialog10c",
    "notice-round11",
    "notice-dialog11",
    "notice-round11b",
    "notice-dialog11b",
    "notice-round12",
    "notice-dialog12",
    "notice-round12b",
    "notice-dialog12b",
]


@pytest.mark.parametrize("name", NOTICE_SETS)
def test_the_notice_sets_keep_their_score(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    _env(tmp_path, monkeypatch)
    right, rows = _score(SETS / f"{name}.jsonl", monkeypatch, capsys)
    assert rows == len((SETS / f"{name}.jsonl").read_text(encoding="utf-8").splitlines())
    assert right >= REACHED[name], f"{name}: {right}/{rows}, was {REACHED[name]}"


@pytest.fixture(scope="session")
def imported(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """Return a function giving a document's data folder, imported by `import-doc` once per
    session: the sets of one document (first set, -r6, -r7 …) share it."""
    folders: dict[str, Path] = {}

    def folder(doc: str) -> Path:
        if doc not in folders:
            out = tmp_path_factory.mktemp("doc") / "doc"
            source = TEXTS / doc if (TEXTS / doc).is_file() else SHARED / doc
            assert main(["import-doc", str(source), "--out", str(out)]) == 0
            folders[doc] = out
        return folders[doc]

    return folder


@pytest.mark.parametrize("path", sorted((SETS / "docs").glob("*.jsonl")), ids=lambda p: p.stem)
def test_each_document_set_keeps_its_score(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    imported: Callable[[str], Path],
    path: Path,
) -> None:
    first = json.loads(path.read_text(encoding="utf-8").splitlines()[0])
    out = imported(first["doc"])
    _env(tmp_path, monkeypatch)
    right, rows = _score(path, monkeypatch, capsys, out)
    assert right >= REACHED[path.stem], f"{path.stem}: {right}/{rows}, was {REACHED[path.stem]}"
