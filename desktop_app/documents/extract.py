"""The text of the user's files, as blocks that keep where they came from.

A block is a paragraph (or a heading, a list item, a table row) with its position: the page
of a PDF, the heading path above it, and for text files its line range. A file that cannot
be read gives an ExtractionFailed with a reason the library shows beside it (an encrypted
PDF, a scan without a text layer, a binary file with a text extension, one over the size
cap); the other files go on.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable, Iterator
from html.parser import HTMLParser
from pathlib import Path

from desktop_app.documents import formats
from desktop_app.documents.blocks import Block, ExtractionFailed

MAX_FILE_BYTES = 256 * 1024 * 1024

MARKDOWN = {".md", ".markdown", ".mdown", ".mkd"}
HTML = {".html", ".htm", ".xhtml"}
PLAIN = {".txt", ".text", ".rst", ".log", ".csv", ".tsv"}
CODE = {
    ".py", ".js", ".jsx", ".ts", ".tsx", ".java", ".kt", ".c", ".h", ".cc", ".cpp", ".hpp", ".cs", ".go",
    ".rs", ".rb", ".php", ".swift", ".scala", ".sh", ".bash", ".ps1", ".sql", ".r", ".m", ".lua", ".pl",
    ".css", ".scss", ".json", ".yaml", ".yml", ".toml", ".ini", ".cfg", ".xml", ".tex",
}  # fmt: skip
PACKAGES = {".pdf": "pdf", ".docx": "docx", ".odt": "odt", ".epub": "epub", ".rtf": "rtf"}
SUPPORTED = MARKDOWN | HTML | PLAIN | CODE | set(PACKAGES)


def kind_of(path: Path) -> str | None:
    """The extractor a file goes to, or None for a type the library does not read."""
    suffix = path.suffix.lower()
    if suffix in MARKDOWN:
        return "markdown"
    if suffix in HTML:
        return "html"
    if suffix in PLAIN:
        return "text"
    if suffix in CODE:
        return "code"
    return PACKAGES.get(suffix)


def extract(path: Path, data: bytes) -> list[Block]:
    """The blocks of `data`, the content of `path` (read by the caller, who also hashes it)."""
    kind = kind_of(path)
    if kind is None:
        raise ExtractionFailed(f"Inkwell does not read {path.suffix or 'extensionless'} files.")
    if len(data) > MAX_FILE_BYTES:
        raise ExtractionFailed(f"It is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB.")
    blocks = _EXTRACTORS[kind](data)
    if not any(b.text.strip() for b in blocks):
        if kind == "pdf":
            raise ExtractionFailed("The PDF has no text layer (a scan?); Inkwell does not read text in images.")
        raise ExtractionFailed("It holds no text.")
    return blocks


# ---- text, Markdown and code ----


def _decode(data: bytes) -> str:
    if b"\x00" in data[:8192]:
        raise ExtractionFailed("It is a binary file, not text, despite its name.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")  # older Windows text, the commonest other


def _paragraphs(lines: list[str], first_line: int, heading: str) -> Iterator[Block]:
    """Runs of non-blank lines as blocks, with their line ranges."""
    start: int | None = None
    for offset, line in enumerate([*lines, ""]):
        if line.strip() and start is None:
            start = offset
        elif not line.strip() and start is not None:
            text = "\n".join(lines[start:offset]).strip()
            yield Block(text, heading, None, first_line + start, first_line + offset - 1)
            start = None


def _text(data: bytes) -> list[Block]:
    return list(_paragraphs(_decode(data).splitlines(), 1, ""))


_ATX = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")


def _markdown(data: bytes) -> list[Block]:
    lines = _decode(data).splitlines()
    blocks: list[Block] = []
    path: list[tuple[int, str]] = []  # (level, title) of the headings above
    section_start, fenced = 0, False
    for number, line in enumerate([*lines, "# "]):
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
        match = None if fenced else _ATX.match(line)
        if match is None and number < len(lines):
            continue
        heading = " › ".join(title for _, title in path)
        blocks += _paragraphs(lines[section_start:number], section_start + 1, heading)
        if number == len(lines) or match is None:
            break
        level, title = len(match.group(1)), match.group(2).strip()
        path = [*(p for p in path if p[0] < level), (level, title)]
        blocks.append(Block(title, " › ".join(t for _, t in path), None, number + 1, number + 1, is_heading=True))
        section_start = number + 1
    return blocks


# ---- HTML ----

_BLOCK_TAGS = {"p", "li", "td", "th", "pre", "blockquote", "dd", "dt", "div", "section", "article", "tr", "br"}
_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
_SKIPPED = {"script", "style", "noscript", "template", "svg", "head"}


class _HtmlBlocks(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[Block] = []
        self._text: list[str] = []
        self._path: list[tuple[int, str]] = []
        self._heading_level = 0
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED:
            self._skipping += 1
        elif tag in _HEADINGS or tag in _BLOCK_TAGS:
            self._flush()
            self._heading_level = _HEADINGS.get(tag, 0)

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED:
            self._skipping = max(0, self._skipping - 1)
        elif tag in _HEADINGS or tag in _BLOCK_TAGS:
            self._flush()

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self._text.append(data)

    def _flush(self) -> None:
        text = " ".join(" ".join(self._text).split())
        self._text = []
        if not text:
            return
        if self._heading_level:
            level = self._heading_level
            self._path = [*(p for p in self._path if p[0] < level), (level, text)]
            self.blocks.append(Block(text, " › ".join(t for _, t in self._path), is_heading=True))
            self._heading_level = 0
        else:
            self.blocks.append(Block(text, " › ".join(t for _, t in self._path)))

    def close(self) -> None:
        super().close()
        self._flush()


def _html(data: bytes) -> list[Block]:
    parser = _HtmlBlocks()
    parser.feed(_decode(data))
    parser.close()
    return parser.blocks


# ---- PDF and Word ----


def _pdf(data: bytes) -> list[Block]:
    import pypdfium2  # only when a PDF is read: the library loads PDFium

    try:
        document = pypdfium2.PdfDocument(data)
    except pypdfium2.PdfiumError as exc:
        if "password" in str(exc).lower():
            raise ExtractionFailed("The PDF is protected by a password.") from None
        raise ExtractionFailed(f"The PDF cannot be read ({exc}).") from None
    blocks: list[Block] = []
    try:
        for index in range(len(document)):
            page = document[index]
            text = page.get_textpage().get_text_bounded()
            lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
            blocks += [Block(b.text, page=index + 1) for b in _paragraphs(lines, 1, "")]
    finally:
        document.close()
    return blocks


def _docx(data: bytes) -> list[Block]:
    import docx  # python-docx, already used to write .docx exports

    formats.check_package(data, "Word file")
    try:
        document = docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise ExtractionFailed(f"The Word file cannot be read ({exc}).") from None
    blocks: list[Block] = []
    path: list[tuple[int, str]] = []
    for paragraph in document.paragraphs:
        text = paragraph.text.strip()
        if not text:
            continue
        style = (paragraph.style.name if paragraph.style is not None else "") or ""
        level = int(style.split()[-1]) if style.startswith("Heading ") and style.split()[-1].isdigit() else 0
        if style == "Title":
            level = 1
        if level:
            path = [*(p for p in path if p[0] < level), (level, text)]
            blocks.append(Block(text, " › ".join(t for _, t in path), is_heading=True))
        else:
            blocks.append(Block(text, " › ".join(t for _, t in path)))
    for table in document.tables:
        for row in table.rows:
            text = " | ".join(cell.text.strip() for cell in row.cells if cell.text.strip())
            if text:
                blocks.append(Block(text, " › ".join(t for _, t in path)))
    return blocks


_EXTRACTORS: dict[str, Callable[[bytes], list[Block]]] = {
    "markdown": _markdown,
    "html": _html,
    "text": _text,
    "code": _text,
    "pdf": _pdf,
    "docx": _docx,
    "odt": formats.odt,
    "epub": lambda data: formats.epub(data, _html),
    "rtf": formats.rtf,
}
