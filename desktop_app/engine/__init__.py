"""The inference engine: ONNX Runtime, numpy and a tokenizer; no Qt, no torch.

`load_engine()` opens a prepared model on an explicitly chosen execution provider and
`Engine.generate()` streams events for one request.
"""

from desktop_app.engine.events import Event, Finished, PromptPrepared, ReasoningChunk, TextChunk
from desktop_app.engine.generate import Engine, GenerationRequest
from desktop_app.engine.loading import load_engine

# GenerationRequest.response_format (OpenAI's json_object / json_schema) is enforced by a
# grammar constraint on sampling; callers (the API server) may rely on it.
supports_response_format = True

__all__ = [
    "Engine",
    "Event",
    "Finished",
    "GenerationRequest",
    "PromptPrepared",
    "ReasoningChunk",
    "TextChunk",
    "load_engine",
    "supports_response_format",
]
