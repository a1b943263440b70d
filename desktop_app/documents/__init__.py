"""The user's documents as text: extraction with positions, and chunking by structure.

No SQL and no Qt: store/ keeps what this package makes, session/ runs it."""

from desktop_app.documents.blocks import Block, ExtractionFailed
from desktop_app.documents.chunking import Chunk, chunk_blocks
from desktop_app.documents.extract import SUPPORTED, extract, kind_of

__all__ = ["SUPPORTED", "Block", "Chunk", "ExtractionFailed", "chunk_blocks", "extract", "kind_of"]
