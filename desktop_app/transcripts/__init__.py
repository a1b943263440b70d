"""Exports and imports: Markdown, text, HTML, PDF, ODT, .docx, our JSON, ChatGPT's export.

PDF and ODT come from Qt's document engine; that code lives in desktop_app.qt_documents
and is handed in by the caller, so this package never imports Qt.
"""

CONVERSATION_FORMATS = ("md", "txt", "html", "pdf", "json")
DRAFT_FORMATS = ("md", "txt", "html", "pdf", "odt", "docx")
