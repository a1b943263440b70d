"""The local OpenAI-compatible API server: other programs ask Inkwell's model over HTTP.

It sits on the session layer like the window and the command line: requests go through
the app's one Scheduler as Source.API. No Qt here.

- `protocol`: OpenAI's request bodies read into GenerationRequests; the error shape.
- `responses`: OpenAI's response and chunk shapes.
- `api_server`: the HTTP server (ThreadingHTTPServer), its security and streaming.
- `serve`: `inkwell serve`, the headless server.
"""

from desktop_app.server.api_server import ApiServer, ServerConfig
from desktop_app.server.protocol import ApiError

__all__ = ["ApiError", "ApiServer", "ServerConfig"]
