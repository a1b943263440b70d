"""Tools a model may call: the user's MCP servers (through the official SDK) and the
built-in ones. No Qt and no store: which tools are on and what the user allowed is the
session layer's (session/tools.py), so the window, the command line and the server share
one rule."""
