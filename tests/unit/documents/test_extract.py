"""Extraction keeps positions (heading path, lines, pages) and says why a file gives no text."""

from __future__ import annotations

import io
import itertools
import sys
import zipfile
from pathlib import Path
from typing import Any

import docx
import pytest

from desktop_app.documents import ExtractionFailed, chunk_blocks, extract, kind_of
from desktop_app.documents.extract import MAX_FILE_BYTES

MANUAL = """# Router manual

Welcome to the router.

## Setup

Plug it in.
Wait for the green light.

```sh
# not a heading: inside a code fence
reboot
```

### Wi-Fi

Hold reset for ten seconds.

## Warranty

Two years.
"""


def test_markdown_keeps_the_heading_path_and_line_ranges() -> None:
    blocks = extract(Path("manual.md"), MANUAL.encode())
    body = [(b.text.splitlines()[0], b.heading, b.line_start, b.line_end) for b in blocks if not b.is_heading]
    assert body == [
        ("Welcome to the router.", "Router manual", 3, 3),
        ("Plug it in.", "Router manual › Setup", 7, 8),
        ("```sh", "Router manual › Setup", 10, 13),
        ("Hold reset for ten seconds.", "Router manual › Setup › Wi-Fi", 17, 17),
        ("Two years.", "Router manual › Warranty", 21, 21),
    ]
    assert [b.heading for b in blocks if b.is_heading][-1] == "Router manual › Warranty"


def test_html_reads_blocks_under_their_headings_and_skips_scripts() -> None:
    page = b"""<html><head><title>T</title><style>p{}</style></head><body>
    <h1>Policies</h1><p>Be kind &amp; clear.</p><script>var secret = 1;</script>
    <h2>Refunds</h2><ul><li>Within 30 days.</li><li>With a receipt.</li></ul></body></html>"""
    blocks = extract(Path("policies.html"), page)
    assert [(b.text, b.heading) for b in blocks if not b.is_heading] == [
        ("Be kind & clear.", "Policies"),
        ("Within 30 days.", "Policies › Refunds"),
        ("With a receipt.", "Policies › Refunds"),
    ]
    assert all("secret" not in b.text for b in blocks)


def test_word_files_keep_headings_and_tables() -> None:
    document = docx.Document()
    document.add_heading("Staff handbook", level=1)
    document.add_paragraph("Holidays are booked in the calendar.")
    document.add_heading("Expenses", level=2)
    document.add_paragraph("Keep every receipt.")
    table = document.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text, table.rows[0].cells[1].text = "Taxi", "allowed"
    data = io.BytesIO()
    document.save(data)
    blocks = extract(Path("handbook.docx"), data.getvalue())
    assert [(b.text, b.heading) for b in blocks if not b.is_heading] == [
        ("Holidays are booked in the calendar.", "Staff handbook"),
        ("Keep every receipt.", "Staff handbook › Expenses"),
        ("Taxi | allowed", "Staff handbook › Expenses"),
    ]


def test_pdf_text_keeps_its_page(make_pdf: Any) -> None:
    data = make_pdf([["Returns policy", "Items may be returned within 30 days."], [], ["Shipping takes 3 days."]])
    blocks = extract(Path("policy.pdf"), data)
    assert [(b.text.replace("\n", " "), b.page) for b in blocks] == [
        ("Returns policy Items may be returned within 30 days.", 1),
        ("Shipping takes 3 days.", 3),
    ]


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("notes.txt", b"PK\x03\x04\x00\x00binary", "binary file"),
        ("empty.md", b"  \n\n", "holds no text"),
        ("photo.png", b"\x89PNG", "does not read .png"),
        ("broken.pdf", b"%PDF-1.4 not really", "cannot be read"),
        ("broken.docx", b"not a zip", "cannot be read"),
    ],
)
def test_a_file_without_text_says_why(name: str, data: bytes, reason: str) -> None:
    with pytest.raises(ExtractionFailed, match=reason):
        extract(Path(name), data)


def test_a_scan_without_a_text_layer_says_so(make_pdf: Any) -> None:
    with pytest.raises(ExtractionFailed, match="no text layer"):
        extract(Path("scan.pdf"), make_pdf([[], []]))


def test_a_file_over_the_cap_is_refused_unread(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys.modules["desktop_app.documents.extract"], "MAX_FILE_BYTES", 10)
    with pytest.raises(ExtractionFailed, match="larger than"):
        extract(Path("big.txt"), b"x" * 11)
    assert MAX_FILE_BYTES >= 100 * 1024 * 1024  # far above the 30 MB others cap at


def test_text_that_is_not_utf8_is_read_as_windows_text() -> None:
    [block] = extract(Path("old.txt"), "Café crème".encode("cp1252"))
    assert block.text == "Café crème"


def test_source_code_is_text_with_lines() -> None:
    assert kind_of(Path("x.PY")) == "code" and kind_of(Path("x.unknown")) is None
    blocks = extract(Path("tool.py"), b"import os\n\n\ndef main():\n    return 1\n")
    assert [(b.line_start, b.line_end) for b in blocks] == [(1, 1), (4, 5)]


def test_passages_start_at_headings_and_overlap_within_a_section() -> None:
    sentences = [f"Sentence {i} of the long section is here." for i in range(60)]
    text = "# Guide\n\nShort intro.\n\n## Long\n\n" + "\n\n".join(sentences) + "\n\n## Last\n\nThe end.\n"
    chunks = chunk_blocks(extract(Path("guide.md"), text.encode()), target=60, overlap=10)
    assert chunks[0].heading == "Guide" and chunks[0].text.endswith("Short intro.")
    long = [c for c in chunks if c.heading == "Guide › Long"]
    assert len(long) > 3 and all(len(c.text.split()) <= 60 + 10 for c in long)
    for before, after in itertools.pairwise(long):
        assert before.text.split("\n\n")[-1] == after.text.split("\n\n")[0]  # the overlap
        assert after.line_start is not None and before.line_end is not None and after.line_start <= before.line_end
    assert chunks[-1].heading == "Guide › Last" and "Sentence" not in chunks[-1].text  # no overlap across headings
    assert all(f"Sentence {i} " in " ".join(c.text for c in long) for i in range(60))


def zipped(files: dict[str, str]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return out.getvalue()


def test_opendocument_text_keeps_headings_lists_and_tables() -> None:
    content = """<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"
  xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"
  xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0">
 <office:body><office:text>
  <text:h text:outline-level="1">Staff handbook</text:h>
  <text:p>Holidays are <text:span>booked</text:span> in<text:s/>the calendar.</text:p>
  <text:h text:outline-level="2">Expenses</text:h>
  <text:list><text:list-item><text:p>Keep every receipt.</text:p></text:list-item></text:list>
  <table:table><table:table-row><table:table-cell><text:p>Taxi</text:p></table:table-cell>
   <table:table-cell><text:p>allowed</text:p></table:table-cell></table:table-row></table:table>
 </office:text></office:body></office:document-content>"""
    blocks = extract(
        Path("handbook.odt"), zipped({"mimetype": "application/vnd.oasis.opendocument.text", "content.xml": content})
    )
    assert [(b.text, b.heading) for b in blocks if not b.is_heading] == [
        ("Holidays are booked in the calendar.", "Staff handbook"),
        ("Keep every receipt.", "Staff handbook › Expenses"),
        ("Taxi | allowed", "Staff handbook › Expenses"),
    ]


def test_an_epub_is_read_chapter_by_chapter_in_spine_order() -> None:
    chapter = '<html xmlns="http://www.w3.org/1999/xhtml"><body><h1>{title}</h1><p>{text}</p></body></html>'
    book = zipped({
        "mimetype": "application/epub+zip",
        "META-INF/container.xml": '<container xmlns="urn:oasis:names:tc:opendocument:xmlns:container">'
        '<rootfiles><rootfile full-path="OEBPS/book.opf"/></rootfiles></container>',
        "OEBPS/book.opf": '<package xmlns="http://www.idpf.org/2007/opf"><manifest>'
        '<item id="b" href="text/two.xhtml" media-type="application/xhtml+xml"/>'
        '<item id="a" href="text/one.xhtml" media-type="application/xhtml+xml"/>'
        '<item id="css" href="style.css" media-type="text/css"/>'
        '</manifest><spine><itemref idref="a"/><itemref idref="b"/></spine></package>',
        "OEBPS/text/one.xhtml": chapter.format(title="Arrival", text="The ship came in at dawn."),
        "OEBPS/text/two.xhtml": chapter.format(title="Storm", text="By noon the sky was black."),
    })  # fmt: skip
    blocks = extract(Path("novel.epub"), book)
    assert [(b.text, b.heading) for b in blocks if not b.is_heading] == [
        ("The ship came in at dawn.", "Arrival"),
        ("By noon the sky was black.", "Storm"),
    ]
    with pytest.raises(ExtractionFailed, match=r"no META-INF/container\.xml"):
        extract(Path("broken.epub"), zipped({"mimetype": "application/epub+zip"}))


def test_rtf_keeps_the_text_and_paragraphs_and_skips_fonts_and_pictures() -> None:
    document = (
        rb"{\rtf1\ansi\ansicpg1252\deff0{\fonttbl{\f0 Calibri;}}{\colortbl;\red0\green0\blue0;}"
        rb"{\*\generator Writer;}\pard\b Returns\b0\par "
        rb"Caf\'e9 customers may return items within 45 days.\par "
        rb"Price: 5\u8364?\tab{\pict\pngblip 89504e47}net\par }"
    )
    blocks = extract(Path("policy.rtf"), document)
    assert [b.text for b in blocks] == [
        "Returns",
        "Café customers may return items within 45 days.",
        "Price: 5€ net",
    ]
    with pytest.raises(ExtractionFailed, match="not an RTF file"):
        extract(Path("fake.rtf"), b"plain text")


def test_a_package_that_unpacks_to_too_much_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys.modules["desktop_app.documents.formats"], "MAX_UNPACKED", 1000)
    bomb = zipped({"content.xml": "<a>" + " " * 5000 + "</a>"})
    for name in ("x.odt", "x.epub", "x.docx"):
        with pytest.raises(ExtractionFailed, match="unpacks to more than"):
            extract(Path(name), bomb)
