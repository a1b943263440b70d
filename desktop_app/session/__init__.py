"""The session layer: what a turn of chat, a co-writer request and the settings mean,
written once for the window, the command line and (soon) the API server. No Qt here.

- `scheduler`: owns the engine on one long-lived thread and hands out GenerationHandles.
- `chat`: ChatSession (begin a turn, regenerate, edit, the branch view).
- `cowriter`: the co-writer's requests.
- `settings`: the app's settings and their validation.
"""
