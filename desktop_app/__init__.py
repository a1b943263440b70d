"""Inkwell: a private AI assistant for chat and writing that runs on your own computer."""

__version__ = "0.1.0"
