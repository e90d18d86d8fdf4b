"""Files written by other tools (tests/data, sources in tests/data/SOURCES.md): each
class of input imports, or is refused with a message naming the file and the record;
nothing stored is made worse by a later import; compressed inputs stream; exports read
back; the CLI counts warnings and `--strict` fails on them."""

from __future__ import annotations

import bz2
import gzip
import io
import json
import lzma
import subprocess
import sys
import tracemalloc
import zipfile
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from paperwire.cli import cli
from paperwire.ingest import ParseError, RecordError, RecordWarning, detect_format, parse_any
from paperwire.ingest.hf_daily import DailyItem, parse_items
from paperwire.ingest.load import load
from paperwire.models import Paper

DATA = Path(__file__).parent / "data"


def _parse(name: str, data: bytes | None = None) -> list[object]:
    return list(parse_any(data if data is not None else (DATA / name).read_bytes(), name))


def _papers(items: list[object]) -> dict[str, Paper]:
    return {item.key: item for item in items if isinstance(item, Paper)}


def _messages(items: list[object], kind: type) -> list[str]:
    return [str(item) for item in items if isinstance(item, kind)]


# --- OAI-PMH ---------------------------------------------------------------------------


def test_oai_dc_with_namespaces_imports():
    items = _parse("oai_dc_getrecord.xml")
    assert not _messages(items, RecordError)
    paper = _papers(items)["acc-phys/9411001"]
    assert paper.title == "Symplectic Computation of Lyapunov Exponents"
    assert [a.name for a in paper.authors] == ["Salman Habib", "Robert D. Ryne"]
    assert paper.published == date(1994, 10, 31)
    assert paper.abstract.startswith("A recently developed method")
    assert paper.comments == "12 pages, uuencoded PostScript (figures included)"


def test_oai_dc_recorded_without_namespaces_imports_every_record():
    """A harvester's recording with the xmlns declarations stripped (prefixes unbound):
    it used to read as "0 records"."""
    items = _parse("oai_dc_no_namespaces.xml")
    papers = _papers(items)
    assert sorted(papers) == ["0802.3300", "0803.0966"]
    first = papers["0802.3300"]
    assert [a.name for a in first.authors] == ["Pierfrancesco La Mura"]
    assert first.doi == "10.1016/j.jmp.2009.02.001"
    assert first.journal_ref == "J. of Math. Psychology, 53:5 (2009)"
    assert first.comments == "7 pages, to appear in the Proceedings of Quantum Interaction 2008"
    assert first.published == date(2008, 2, 22)
    assert first.categories == []  # oai_dc subjects are names, not arXiv categories


def test_unknown_metadata_format_names_the_record():
    page = (DATA / "oai_dc_getrecord.xml").read_text().replace("oai_dc:dc", "mods:mods")
    items = _parse("mods.xml", page.encode())
    errors = _messages(items, RecordError)
    assert len(errors) == 1
    assert "mods.xml: record 1:" in errors[0] and "unsupported metadata format 'mods'" in errors[0]


# --- the arXiv snapshot ----------------------------------------------------------------


def test_snapshot_list_shape_reads_categories_and_dates():
    paper = _papers(_parse("snapshot_list_shape.jsonl"))["0704.0001"]
    assert paper.categories == ["hep-ph"]
    assert paper.published == date(2007, 4, 2) and paper.updated == date(2007, 7, 24)
    bare = _papers(_parse("snapshot_list_shape_no_dates.jsonl"))["0704.0001"]
    assert bare.categories == ["hep-ph"]
    assert bare.published is None  # update_date is not the first version's day
    assert bare.updated == date(2008, 11, 26)


def test_a_later_import_never_makes_a_stored_paper_worse(store):
    """The Kaggle line is stored first; the list shape without dates, and a record with
    a category that is not arXiv's, are merged in: categories and dates stay good."""
    load(store, parse_any((DATA / "snapshot_kaggle_line.jsonl").read_bytes(), "kaggle"))
    before = store.get_paper("0704.0001")
    assert before is not None and before.categories == ["hep-ph"]
    load(store, parse_any((DATA / "snapshot_list_shape_no_dates.jsonl").read_bytes(), "list"))
    broken = (DATA / "snapshot_kaggle_line.jsonl").read_text()
    record = json.loads(broken)
    record["categories"] = "hep-ph ['hep-ph']"
    record["versions"] = [{"version": "v1", "created": "Mon, 2 Apr 20007 19:18:42 GMT"}]
    report = load(store, parse_any(json.dumps(record).encode(), "broken.jsonl"))
    assert report.warning_count == 1 and "['hep-ph']" in report.warnings[0].message
    assert report.error_count == 0
    after = store.get_paper("0704.0001")
    assert after is not None
    assert after.categories == ["hep-ph"]
    assert after.published == date(2007, 4, 2)
    assert after.updated >= before.updated  # type: ignore[operator]
    assert len(after.abstract) >= len(before.abstract)
    assert len(after.authors) >= len(before.authors)


# --- compressed inputs -----------------------------------------------------------------


def _zip(name: str, data: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, data)
    return buffer.getvalue()


@pytest.mark.parametrize(
    "wrap",
    [gzip.compress, bz2.compress, lzma.compress, lambda d: _zip("arxiv-metadata.json", d)],
    ids=["gz", "bz2", "xz", "zip"],
)
@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("snapshot_kaggle_line.jsonl", "0704.0001"),
        ("bbt_460_arxiv.biblatex", "1401.2910"),
        ("oai_dc_no_namespaces.xml", "0802.3300"),
        (
            "bbt_1179.csl.json",
            "the-contested-terrain-of-alcohol-sponsorship-of-sport-in-new-zealand",
        ),
        ("hf_daily_papers.json", "2407.13168"),
    ],
)
def test_compressed_inputs_of_every_format_are_detected_inside(wrap, name, key):
    plain = (DATA / name).read_bytes()
    assert _papers(_parse(name, wrap(plain))) == _papers(_parse(name, plain))
    assert key in _papers(_parse(name, wrap(plain)))


def test_compressed_snapshot_with_a_named_format_imports():
    data = gzip.compress((DATA / "snapshot_kaggle_line.jsonl").read_bytes())
    assert "0704.0001" in _papers(list(parse_any(data, "s.json.gz", "arxiv-snapshot")))


def test_a_zip_with_several_files_is_refused_by_name():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a.json", b"{}")
        archive.writestr("b.json", b"{}")
    with pytest.raises(ParseError, match=r"many\.zip: zip archive: holds 2 files"):
        list(parse_any(buffer.getvalue(), "many.zip"))


def test_a_truncated_gzip_keeps_the_records_before_the_break():
    lines = (DATA / "snapshot_kaggle_line.jsonl").read_text()
    many = "".join(lines.replace("0704.0001", f"0704.{n:04d}") for n in range(1, 400))
    data = gzip.compress(many.encode())
    seen: list[object] = []
    with pytest.raises(ParseError, match=r"cut\.gz: gzip data: corrupt or truncated"):
        for item in parse_any(data[: len(data) // 2], "cut.gz"):
            seen.append(item)
    assert len(_papers(seen)) > 10


def test_compressed_input_is_read_in_constant_memory():
    """40 MB of snapshot lines in a gzip stream: parsing holds one line at a time."""
    line = (DATA / "snapshot_kaggle_line.jsonl").read_text()
    padded = json.loads(line)
    padded["abstract"] = padded["abstract"] * 40  # ~8 KB lines
    text = json.dumps(padded) + "\n"
    raw = io.BytesIO()
    with gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=1) as out:
        for n in range(5000):
            out.write(text.replace("0704.0001", f"0704.{n:04d}", 1).encode())
    size = 5000 * len(text)
    raw.seek(0)
    tracemalloc.start()
    count = sum(isinstance(item, Paper) for item in parse_any(raw, "big.json.gz"))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert count == 5000
    assert peak < size / 8, f"peak {peak:,} bytes for {size:,} bytes of input"


# --- CSL JSON and Hugging Face daily papers ----------------------------------------------


def test_csl_json_from_better_bibtex_imports():
    assert detect_format((DATA / "bbt_1179.csl.json").read_bytes(), "x") == "csl-json"
    papers = _papers(_parse("bbt_1179.csl.json"))
    paper = papers["the-contested-terrain-of-alcohol-sponsorship-of-sport-in-new-zealand"]
    assert [a.name for a in paper.authors] == ["Kieran Cody", "Steven J. Jackson"]
    assert paper.published == date(2016, 6, 1)
    assert paper.journal_ref == "International Review for the Sociology of Sport"
    assert paper.doi == "10/f8tz8t"


def test_csl_json_dates_of_every_shape():
    items = _parse("bbt_360_dates.csl.json")
    papers = _papers(items)
    assert papers["single-date-test-2014-12-31"].published == date(2014, 12, 31)
    assert papers["season-circa-2017-24"].published == date(2017, 1, 1)  # a season: the year
    # Years BC are not dates a paper has: left out, with a warning naming the record.
    warnings = _messages(items, RecordWarning)
    assert any("record 14 (line " in w and "'-334'" in w for w in warnings)
    assert papers["bc-tests-0333"].published is None


def test_hf_daily_papers_import_with_community_fields():
    assert detect_format((DATA / "hf_daily_papers.json").read_bytes(), "x") == "hf-daily"
    papers = _papers(_parse("hf_daily_papers.json"))
    scicode = papers["2407.13168"]
    assert scicode.upvotes == 17 and len(scicode.authors) == 30
    assert scicode.published == date(2024, 7, 18)
    assert scicode.abstract.startswith("Since language models (LMs) now outperform")
    items = [
        i
        for i in parse_items((DATA / "hf_daily_papers.json").read_bytes())
        if isinstance(i, DailyItem)
    ]
    assert items[0].submitted_by == "amber1120" and items[0].num_comments == 2
    assert "coding benchmark" in items[0].ai_keywords
    assert items[1].ai_summary and items[1].ai_summary.startswith("Language models produce")


# --- BibTeX and BibLaTeX ------------------------------------------------------------------


def test_bibtex_as_bibtex_reads_it():
    items = _parse("bbt_873_excerpt.bib")
    papers = _papers(items)
    assert not _messages(items, RecordError)  # "@Comment Len Schubert" is no error
    assert "total-order-planning-with-partially-ordered-subtasks" in papers  # key IJCAI01*425
    nau = papers["total-order-planning-with-partially-ordered-subtasks"]
    assert [a.name for a in nau.authors][:2] == ["Dana Nau", "Héctor Muñoz-Avila"]
    conniver = papers["the-conniver-reference-manual"]
    assert conniver.title == "The CONNIVER Reference Manual"
    names = {a.name.lower() for p in papers.values() for a in p.authors}
    assert "mcdermott" not in names  # an undefined macro is empty, not its own name
    hewitt = papers["open-information-system-semantics-for-distributed-artificial-intelligence"]
    assert hewitt.journal_ref is None  # JOURNAL = AIJ, undefined
    warnings = _messages(items, RecordWarning)
    assert (
        "bbt_873_excerpt.bib: line 16 (McDermott:72): undefined @string macro 'mcdermott'"
        in (warnings[0])
    )
    assert any("(Hewitt:91): undefined @string macro 'aij'" in w for w in warnings)
    assert papers[
        "flexibility-and-efficiency-in-a-computer-program-for-designing-circuits"
    ].published == date(1977, 1, 1)


def test_defined_string_macros_are_used():
    paper = _papers(_parse("bbt_154_strings.bib"))["sql-is-great"]
    assert [a.name for a in paper.authors] == ["R. A. Bert"]
    assert not _messages(_parse("bbt_154_strings.bib"), RecordWarning)


def test_latex_in_titles_is_text_as_a_reader_sees_it():
    papers = list(_papers(_parse("bbt_472_math.bib")).values())
    assert papers[0].title.startswith("Test Title With 100 μJ, 200 μJ Energy, and ±0.1% Accuracy")
    assert "\\" not in papers[0].title and "$" not in papers[0].title
    assert "mm^2" in papers[0].title
    biblatex = _papers(_parse("bbt_549_biblatex.bib"))
    assert "Blah mkbibemph and mkbibquote." in {p.title for p in biblatex.values()}


def test_biblatex_date_and_eprint_fields():
    papers = _papers(_parse("bbt_460_arxiv.biblatex"))
    assert papers["1401.2910"].published == date(2014, 7, 25)
    assert papers["1401.2910"].categories == ["quant-ph"]
    assert papers["1401.2910"].journal_ref == "Science"
    assert papers["1508.05387"].published == date(2016, 2, 1)
    assert papers["1401.2910"].authors[0].name == "Troels F. Rønnow"
    biblatex = _papers(_parse("bbt_549_biblatex.bib"))
    assert biblatex[
        "xenonika-medical-texts-associated-with-xenones-in-the-late-byzantine-period"
    ].published == date(2003, 1, 1)


# --- the command line ----------------------------------------------------------------------


@pytest.fixture
def run(tmp_path, monkeypatch):
    monkeypatch.setenv("PAPERWIRE_INLINE_EMBED_LIMIT", "0")
    runner = CliRunner()

    def invoke(db: str, *args: str):
        return runner.invoke(
            cli, ["--db", f"sqlite:///{tmp_path / db}", *args], catch_exceptions=False
        )

    return invoke


def test_import_reports_warnings_and_exits_zero_strict_fails(run, tmp_path):
    bib = str(DATA / "bbt_873_excerpt.bib")
    result = run("a.db", "import", "-q", bib)
    assert result.exit_code == 0, result.output
    assert "7 records read" in result.output and "0 errors, 6 warnings" in result.output
    assert "(IJCAI01*425): crossref 'IJCAI01' names no entry of this file" in result.output
    assert f"warning: {bib}: line 16 (McDermott:72): undefined @string macro" in result.output
    strict = run("b.db", "import", "-q", "--strict", bib)
    assert strict.exit_code == 1


def test_import_of_every_real_file_and_compressed_copies(run, tmp_path):
    gz = tmp_path / "snapshot.json.gz"
    gz.write_bytes(gzip.compress((DATA / "snapshot_kaggle_line.jsonl").read_bytes()))
    kaggle_zip = tmp_path / "arxiv.zip"
    kaggle_zip.write_bytes(
        _zip("arxiv-metadata-oai-snapshot.json", (DATA / "snapshot_list_shape.jsonl").read_bytes())
    )
    files = sorted(str(p) for p in DATA.iterdir() if p.name != "SOURCES.md")
    result = run("all.db", "import", "-q", *files, str(gz), str(kaggle_zip))
    assert result.exit_code == 0, result.output
    total = next(line for line in result.output.splitlines() if line.startswith("total:"))
    assert " 0 errors" in total, result.output
    shown = run("all.db", "show", "0704.0001")
    assert "hep-ph" in shown.output and "['hep-ph']" not in shown.output


def test_refused_input_names_file_and_place(run, tmp_path):
    bad = tmp_path / "broken.json"
    bad.write_bytes(b'[{"title": 1, "x": ')
    result = run("c.db", "import", "-q", str(bad))
    assert result.exit_code == 3
    assert f"error: {bad}: line 1:" in result.output


@pytest.mark.parametrize("fmt", ["jsonl", "bibtex", "csl-json"])
def test_export_reads_back_to_the_same_papers(run, tmp_path, fmt):
    sources = [
        "snapshot_kaggle_line.jsonl",
        "bbt_460_arxiv.biblatex",
        "bbt_472_math.bib",
        "bbt_873_excerpt.bib",
        "oai_dc_no_namespaces.xml",
        "bbt_1179.csl.json",
        "hf_daily_papers.json",
    ]
    assert run("src.db", "import", "-q", *(str(DATA / s) for s in sources)).exit_code == 0
    out = tmp_path / f"export.{fmt}"
    result = run("src.db", "export", "--format", fmt, "-o", str(out))
    assert result.exit_code == 0, result.output
    original = _papers(list(parse_any(_export_of(run, "src.db", tmp_path), "orig")))
    again = _papers(list(parse_any(out.read_bytes(), str(out))))
    assert set(again) == set(original)
    for key, paper in original.items():
        back = again[key]
        assert back.title == paper.title, key
        assert [a.name for a in back.authors] == [a.name for a in paper.authors], key
        assert back.arxiv_id == paper.arxiv_id
        assert back.published == paper.published, key
        assert back.doi == paper.doi and back.journal_ref == paper.journal_ref
        assert back.abstract == paper.abstract, key
        if fmt == "jsonl":
            assert back == paper
        elif fmt == "bibtex":
            assert back.categories == paper.categories[:1]


def _export_of(run, db: str, tmp_path: Path) -> bytes:
    target = tmp_path / "reference.jsonl"
    run(db, "export", "-o", str(target))
    return target.read_bytes()


def _big_library(path, entries: int) -> None:
    with path.open("w", encoding="utf-8") as out:
        out.write('@string{aij = "Artificial Intelligence"}\n\n')
        for n in range(entries):
            if n == entries - 3:
                out.write("@article{broken,\n  title = {never closed\n\n")
                continue
            out.write(
                f"@article{{key{n},\n  title = aij # {{: paper {n} on caf\\'e}},\n"
                f"  author = {{Doe, Jane and Roe, R.}},\n  year = 2001\n}}\n\n"
            )


def test_bibtex_is_read_in_pieces_with_the_same_result(tmp_path, monkeypatch):
    """A library is read piece by piece (constant memory): macros and line numbers carry
    across pieces, and the result equals reading it whole."""
    from paperwire.ingest import bibtex

    path = tmp_path / "big.bib"
    _big_library(path, 3000)

    def read(size: int) -> list:
        monkeypatch.setattr(bibtex, "PIECE_CHARS", size)
        with path.open("rb") as stream:
            return [
                (i.title, i.published) if hasattr(i, "title") else (type(i).__name__, str(i))
                for i in bibtex.parse(stream, "big.bib")
            ]

    whole = read(1 << 30)
    assert read(4096) == whole
    assert ("Artificial Intelligence: paper 2999 on café", date(2001, 1, 1)) in whole
    errors = [item for item in whole if item[0] == "RecordError"]
    assert len(errors) == 1 and "entry at line 17985" in errors[0][1], errors


def test_bibtex_memory_stays_flat(tmp_path):
    """Reading four times the entries takes no more memory: pieces, not the file. Measured
    in a fresh interpreter: threads other tests leave behind allocate meanwhile, and
    tracemalloc counts every thread."""
    script = (
        "import sys, tracemalloc\n"
        "from paperwire.ingest import bibtex\n"
        "bibtex.PIECE_CHARS = 8192\n"
        "tracemalloc.start()\n"
        "with open(sys.argv[1], 'rb') as stream:\n"
        "    count = sum(1 for _ in bibtex.parse(stream, 'lib.bib'))\n"
        "print(count, tracemalloc.get_traced_memory()[1])\n"
    )

    def peak(entries: int) -> int:
        path = tmp_path / f"{entries}.bib"
        _big_library(path, entries)
        done = subprocess.run(
            [sys.executable, "-c", script, str(path)], capture_output=True, text=True, check=True
        )
        count, top = map(int, done.stdout.split())
        assert count == entries
        return top

    small, large = peak(1000), peak(4000)
    assert large < 1.3 * small, (small, large)
