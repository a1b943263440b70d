"""PLACE FOR THE SECOND REAL SERVER: Inkwell's own `inkwell serve` (desktop_app/server/).

Issue 17 asks the remote-model tests to run against two real servers started on loopback:
llama.cpp's (test_llama_cpp_server.py) and Inkwell's own. `inkwell serve` is being written
on another branch; its test goes here once it is merged: start `inkwell serve --port <free>`
on the tiny model, `inkwell servers add self http://127.0.0.1:<port> --api-key-env ...`,
then the same checks as test_llama_cpp_server.py (stream, raw prompt, stop, cancel, ask).
Nothing here is faked in the meantime.
"""
