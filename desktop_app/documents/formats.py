"""OpenDocument text (.odt), EPUB books and RTF, read with the standard library alone.

ODT and EPUB are zip files of XML: an ODT's content.xml holds its headings (with their
outline level), paragraphs, list items and tables; an EPUB's chapters are XHTML files in the
order its package file's spine gives. RTF is text with control words: the reader keeps the
text and paragraph breaks and skips fonts, colours, pictures and other destinations.
"""

from __future__ import annotations

import io
import posixpath
import re
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Callable

from desktop_app.documents.blocks import Block, ExtractionFailed

TEXT_NS = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
TABLE_NS = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
OPF_NS = "http://www.idpf.org/2007/opf"
CONTAINER_NS = "urn:oasis:names:tc:opendocument:xmlns:container"


MAX_UNPACKED = 512 * 1024 * 1024  # what a package may unpack to: more is a "zip bomb", not a document


def check_package(data: bytes, what: str) -> None:
    """ExtractionFailed unless `data` is a zip file that unpacks to a sane size."""
    _zip(data, what).close()


def _zip(data: bytes, what: str) -> zipfile.ZipFile:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise ExtractionFailed(f"The {what} cannot be read (it is not the zip file such files are).") from None
    if sum(info.file_size for info in archive.infolist()) > MAX_UNPACKED:
        raise ExtractionFailed(f"The {what} unpacks to more than {MAX_UNPACKED // (1024 * 1024)} MB.")
    return archive


def _xml(archive: zipfile.ZipFile, name: str, what: str) -> ET.Element:
    try:
        return ET.fromstring(archive.read(name))
    except KeyError:
        raise ExtractionFailed(f"The {what} cannot be read: it has no {name}.") from None
    except ET.ParseError as exc:
        raise ExtractionFailed(f"The {what} cannot be read ({name}: {exc}).") from None


def _text_of(element: ET.Element) -> str:
    """An ODT paragraph's text: spans joined, <text:s/> and tabs as spaces."""
    parts: list[str] = []

    def walk(node: ET.Element) -> None:
        if node.text:
            parts.append(node.text)
        for child in node:
            if child.tag in (f"{{{TEXT_NS}}}s", f"{{{TEXT_NS}}}tab", f"{{{TEXT_NS}}}line-break"):
                parts.append(" ")
            elif child.tag != f"{{{TEXT_NS}}}note":  # footnotes: not part of the sentence
                walk(child)
            if child.tail:
                parts.append(child.tail)

    walk(element)
    return " ".join("".join(parts).split())


def odt(data: bytes) -> list[Block]:
    root = _xml(_zip(data, "OpenDocument file"), "content.xml", "OpenDocument file")
    blocks: list[Block] = []
    path: list[tuple[int, str]] = []
    heading_tag, paragraph_tag, row_tag = f"{{{TEXT_NS}}}h", f"{{{TEXT_NS}}}p", f"{{{TABLE_NS}}}table-row"
    in_rows: set[ET.Element] = set()  # paragraphs inside table rows are read with their row
    for row in root.iter(row_tag):
        in_rows.update(row.iter(paragraph_tag))
    for element in root.iter():
        if element.tag == heading_tag:
            text = _text_of(element)
            if text:
                outline = element.get(f"{{{TEXT_NS}}}outline-level", "1")
                level = int(outline) if outline.isdigit() else 1
                path = [*(p for p in path if p[0] < level), (level, text)]
                blocks.append(Block(text, " › ".join(t for _, t in path), is_heading=True))
        elif element.tag == paragraph_tag and element not in in_rows:
            text = _text_of(element)
            if text:
                blocks.append(Block(text, " › ".join(t for _, t in path)))
        elif element.tag == row_tag:
            cells = [_text_of(p) for p in element.iter(paragraph_tag)]
            text = " | ".join(c for c in cells if c)
            if text:
                blocks.append(Block(text, " › ".join(t for _, t in path)))
    return blocks


def epub(data: bytes, html_blocks: Callable[[bytes], list[Block]]) -> list[Block]:
    """The chapters in reading order, each read by `html_blocks` (the HTML extractor)."""
    archive = _zip(data, "EPUB book")
    container = _xml(archive, "META-INF/container.xml", "EPUB book")
    rootfile = container.find(f".//{{{CONTAINER_NS}}}rootfile")
    if rootfile is None or not rootfile.get("full-path"):
        raise ExtractionFailed("The EPUB book cannot be read: its container names no package file.")
    package_path = str(rootfile.get("full-path"))
    package = _xml(archive, package_path, "EPUB book")
    if package.find(f".//{{{OPF_NS}}}encryption") is not None or "META-INF/encryption.xml" in archive.namelist():
        raise ExtractionFailed("The EPUB book is protected (DRM); Inkwell cannot read it.")
    base = posixpath.dirname(package_path)
    items = {
        item.get("id"): item.get("href", "")
        for item in package.iter(f"{{{OPF_NS}}}item")
        if "html" in (item.get("media-type") or "")
    }
    blocks: list[Block] = []
    for reference in package.iter(f"{{{OPF_NS}}}itemref"):
        href = items.get(reference.get("idref"))
        if not href:
            continue
        name = posixpath.normpath(posixpath.join(base, href.split("#", 1)[0]))
        try:
            chapter = archive.read(name)
        except KeyError:
            continue  # a chapter the book lists but lacks: the others are still read
        blocks += html_blocks(chapter)
    return blocks


# ---- RTF ----

_RTF_TOKEN = re.compile(rb"\\([a-zA-Z]+)(-?\d+)? ?|\\'([0-9a-fA-F]{2})|\\(.)|([{}])|([^\\{}\r\n]+)|[\r\n]+")
# Groups whose text is not the document's: fonts, colours, styles, metadata, pictures, fields' codes.
_SKIPPED = {
    b"fonttbl", b"colortbl", b"stylesheet", b"info", b"pict", b"object", b"header", b"footer",
    b"fldinst", b"themedata", b"colorschememapping", b"latentstyles", b"datastore", b"xmlnstbl",
    b"listtable", b"listoverridetable", b"rsidtbl", b"generator", b"mmathPr",
}  # fmt: skip


def rtf(data: bytes) -> list[Block]:
    if not data.lstrip().startswith(b"{\\rtf"):
        raise ExtractionFailed("It is not an RTF file, despite its name.")
    out: list[str] = []
    stack: list[tuple[bool, int]] = []  # (skipping, unicode fallback length) of the enclosing groups
    skipping, fallback, pending = False, 1, 0  # pending: fallback characters still to skip
    for match in _RTF_TOKEN.finditer(data):
        word, number, hex_byte, symbol, brace, text = match.groups()
        if brace is not None:
            if brace == b"{":
                stack.append((skipping, fallback))
            else:
                skipping, fallback = stack.pop() if stack else (False, 1)
            pending = 0
            continue
        if skipping:
            continue
        if symbol == b"*" or (word is not None and word in _SKIPPED):
            skipping = True  # to the end of this group
            continue
        if word is not None:
            if word in (b"par", b"sect", b"page", b"row"):
                out.append("\n\n")
            elif word in (b"line", b"tab", b"cell"):
                out.append(" ")
            elif word == b"uc":
                fallback = int(number or 1)
            elif word == b"u" and number is not None:
                out.append(chr(int(number) % 65536))  # RTF writes code points over 32767 as negatives
                pending = fallback
            continue
        if pending and hex_byte is not None:  # what \\uN stood in for, for readers without Unicode
            pending -= 1
            continue
        if pending and text is not None:
            text, pending = text[pending:], max(0, pending - len(text))
        if hex_byte is not None:
            out.append(bytes([int(hex_byte, 16)]).decode("cp1252", errors="replace"))
        elif symbol is not None:
            out.append("\u00a0" if symbol == b"~" else symbol.decode("latin-1") if symbol in b"\\{}" else "")
        elif text:
            out.append(text.decode("cp1252", errors="replace"))
    # \\uN gives UTF-16 code units: an emoji comes as a pair, joined here (a lone half is replaced).
    whole = "".join(out).encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    blocks = []
    for paragraph in re.split(r"\n\s*\n", whole):
        text = " ".join(paragraph.split())
        if text:
            blocks.append(Block(text))
    return blocks
