"""A reply streaming when the process is killed keeps its text up to the last checkpoint."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from desktop_app.store import open_store

CHILD = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from desktop_app.store import open_store
    store = open_store(Path(sys.argv[1]))
    conversation = store.conversations.create()
    store.conversations.add_message(conversation.id, "user", "Write a long story")
    reply = store.conversations.start_reply(conversation.id, model_id="fake")
    reply.interval_s = 0.2
    for i in range(100000):
        reply.append(f"word{i} ")
        if reply._dirty is False:
            print(f"saved {len(reply.text)}", flush=True)
        time.sleep(0.01)
    """
)


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL")
def test_sigkill_mid_reply_keeps_the_text_up_to_the_last_checkpoint(tmp_path: Path) -> None:
    path = tmp_path / "inkwell.db"
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(path)], stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    saved = 0
    for line in child.stdout:
        saved = int(line.split()[1])
        if saved > 200:
            break
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL

    store = open_store(path)
    [conversation] = store.conversations.all()
    reply = store.conversations.path(conversation.id)[-1]
    assert reply.status == "interrupted"
    assert len(reply.content) >= saved  # at least what was reported saved
    assert reply.content.startswith("word0 word1 ")
    store.close()
