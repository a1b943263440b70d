"""Whose a streaming reply or a running evaluation is: a store opened beside another (the
window beside an `inkwell` command) leaves the other's work alone while it is open, and
marks it interrupted once its store is closed or its process is gone."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from desktop_app.store import open_store
from desktop_app.store.owners import Owner, owners_folder

SETTINGS = {"temperature": 0.0, "seed": 0, "max_new_tokens": 16, "stop_sequences": []}


def new_run(store):  # type: ignore[no-untyped-def]
    return store.evaluations.create_run(
        dataset_path="/sets/basics.jsonl",
        dataset_sha256="abc",
        item_count=3,
        model_id="tiny",
        provider="cpu",
        quantization="q4",
        seed=0,
        settings=SETTINGS,
    )


def streaming_reply(store) -> str:  # type: ignore[no-untyped-def]
    conversation = store.conversations.create()
    store.conversations.add_message(conversation.id, "user", "Write a story")
    reply = store.conversations.start_reply(conversation.id, model_id="m")
    reply.append("Once upon")
    reply.checkpoint()
    return reply.message_id


def test_an_owner_is_alive_while_it_holds_its_lock_and_its_file_goes_with_it(tmp_path: Path) -> None:
    database = tmp_path / "inkwell.db"
    first, second = Owner(database), Owner(database)
    assert first.token and second.token and first.token != second.token
    assert first.alive(second.token) and second.alive(first.token) and first.alive(first.token)
    assert first.alive(None) is False and first.alive("../../etc/passwd") is False and first.alive("0" * 32) is False
    second.release()
    assert not first.alive(second.token)
    assert sorted(p.name for p in owners_folder(database).iterdir()) == [f"{first.token}.lock"]
    first.release()
    assert not owners_folder(database).exists()  # the last one out takes the folder


def test_a_lock_file_swept_away_before_it_is_locked_is_made_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process sweeping the folder may take a file just made, not yet locked, for a
    dead owner's and remove it: the owner then makes another, so that its name is there."""
    from desktop_app.store import owners

    database, real, swept = tmp_path / "inkwell.db", owners._try_lock, []

    def swept_first(fd: int) -> bool:
        if not swept:
            [made] = owners_folder(database).iterdir()
            made.unlink()
            swept.append(made.name)
        return real(fd)

    monkeypatch.setattr(owners, "_try_lock", swept_first)
    owner = Owner(database)
    assert owner.token and swept and swept[0] != f"{owner.token}.lock"
    assert (owners_folder(database) / f"{owner.token}.lock").is_file()
    monkeypatch.setattr(owners, "_try_lock", real)
    other = Owner(database)
    assert other.alive(owner.token)
    other.release()
    owner.release()


@pytest.mark.skipif(os.name != "posix", reason="file modes")
def test_the_owners_folder_is_private(tmp_path: Path) -> None:
    owner = Owner(tmp_path / "inkwell.db")
    assert owners_folder(tmp_path / "inkwell.db").stat().st_mode & 0o777 == 0o700
    owner.release()


def test_a_reply_streaming_in_a_store_still_open_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "inkwell.db"
    window = open_store(path)
    message_id = streaming_reply(window)
    command = open_store(path)  # an `inkwell` command beside the window
    assert command.conversations.message(message_id).status == "streaming"
    command.close()
    assert window.conversations.message(message_id).status == "streaming"
    window.close()
    reopened = open_store(path)  # the window closed with the reply unfinished
    assert reopened.conversations.message(message_id).status == "interrupted"
    reopened.close()


def test_an_evaluation_running_in_a_store_still_open_is_left_running(tmp_path: Path) -> None:
    path = tmp_path / "inkwell.db"
    command = open_store(path)
    run = new_run(command)
    assert run.status == "running" and not command.evaluations.running_elsewhere(run.id)
    window = open_store(path)
    assert window.evaluations.get(run.id).status == "running"
    assert window.evaluations.running_elsewhere(run.id)
    command.close()
    assert not window.evaluations.running_elsewhere(run.id)
    window.close()
    reopened = open_store(path)
    assert reopened.evaluations.get(run.id).status == "interrupted"
    reopened.evaluations.set_status(run.id, "running")  # resumed here: this store's now
    assert not reopened.evaluations.running_elsewhere(run.id)
    reopened.close()


CHILD = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from desktop_app.store import open_store
    store = open_store(Path(sys.argv[1]))
    conversation = store.conversations.create()
    store.conversations.add_message(conversation.id, "user", "Write a story")
    reply = store.conversations.start_reply(conversation.id, model_id="fake")
    reply.append("Once upon")
    reply.checkpoint()
    run = store.evaluations.create_run(dataset_path="/d.jsonl", dataset_sha256="abc", item_count=3,
                                       model_id="tiny", settings={})
    print(reply.message_id, run.id, flush=True)
    time.sleep(600)
    """
)


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL")
def test_another_process_work_is_left_alone_until_it_is_killed(tmp_path: Path) -> None:
    path = tmp_path / "inkwell.db"
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(path)], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        message_id, run_id = child.stdout.readline().split()
        beside = open_store(path)
        assert beside.conversations.message(message_id).status == "streaming"
        assert beside.evaluations.get(run_id).status == "running" and beside.evaluations.running_elsewhere(run_id)
        beside.close()
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    after = open_store(path)
    assert after.conversations.message(message_id).status == "interrupted"
    assert after.evaluations.get(run_id).status == "interrupted"
    assert not after.evaluations.running_elsewhere(run_id)
    after.close()
    assert not owners_folder(path).exists()  # the killed process's lock file is gone too


def test_work_with_no_owner_is_taken_as_interrupted(tmp_path: Path) -> None:
    """Replies and runs written before owners were kept carry none: as before, interrupted."""
    path = tmp_path / "inkwell.db"
    store = open_store(path)
    message_id = streaming_reply(store)
    run = new_run(store)
    store.conn.execute("UPDATE messages SET owner = NULL")
    store.conn.execute("UPDATE eval_runs SET owner = NULL")
    beside = open_store(path)
    assert beside.conversations.message(message_id).status == "interrupted"
    assert beside.evaluations.get(run.id).status == "interrupted"
    beside.close()
    store.close()


def test_a_store_opens_where_no_lock_file_can_be_made(tmp_path: Path) -> None:
    path = tmp_path / "inkwell.db"
    owners_folder(path).write_text("not a folder")
    store = open_store(path)
    assert store.owner is not None and store.owner.token is None
    message_id = streaming_reply(store)
    store.close()
    reopened = open_store(path)  # its reply carries no owner: interrupted, as before owners
    assert reopened.conversations.message(message_id).status == "interrupted"
    reopened.close()
