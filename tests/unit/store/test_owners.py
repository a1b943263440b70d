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


@pytest.mark.skipif(os.name != "posix", reason="a file's name removed while it is open")
def test_a_sweep_lets_go_of_a_file_only_once_its_name_is_gone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A sweep may find a new owner's file before the owner locks it and take it for a dead
    owner's. Should the owner lock it between the sweep's unlock and its removal of the name,
    it would keep a nameless file, taken for dead by everyone: so the name goes first, and
    the owner, finding it gone, makes another (the test above)."""
    from desktop_app.store import owners

    database, real_lock, real_unlock = tmp_path / "inkwell.db", owners._try_lock, owners._unlock
    sweeper = Owner(database)
    token = "1" * 32
    path = owners_folder(database) / f"{token}.lock"
    newcomer = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)  # made, not yet locked
    seen: list[bool] = []

    def unlock_then_the_newcomer_locks(fd: int) -> None:
        real_unlock(fd)
        if not seen:
            seen.append(real_lock(newcomer) and owners._same_file(newcomer, path))

    monkeypatch.setattr(owners, "_unlock", unlock_then_the_newcomer_locks)
    try:
        assert sweeper.alive(token) is False
        assert seen == [False]  # locked, but its name was gone: it would make another
    finally:
        os.close(newcomer)
        monkeypatch.setattr(owners, "_unlock", real_unlock)
        sweeper.release()


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
    assert run.status == "running" and command.evaluations.claim(run.id)  # its own: claimed again
    window = open_store(path)
    assert window.evaluations.get(run.id).status == "running"
    assert not window.evaluations.claim(run.id)  # running elsewhere: refused, nothing changed
    command.close()
    assert window.evaluations.claim(run.id)  # its process is gone: the window takes it over
    window.close()
    reopened = open_store(path)
    assert reopened.evaluations.get(run.id).status == "interrupted"
    reopened.close()


def test_a_run_taken_over_from_a_dead_owner_is_the_new_owners(tmp_path: Path) -> None:
    """Resumed while still 'running' under a process that died after this one opened the
    store: the run carries this store's token, so a third store leaves it running."""
    path = tmp_path / "inkwell.db"
    dead, resuming = open_store(path), open_store(path)
    run = new_run(dead)
    dead.close()  # as a killed process: its lock is gone, its run still says running
    assert resuming.evaluations.get(run.id).status == "running"
    assert resuming.evaluations.claim(run.id)
    third = open_store(path)
    assert third.evaluations.get(run.id).status == "running" and not third.evaluations.claim(run.id)
    third.close()
    resuming.close()


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
        assert beside.evaluations.get(run_id).status == "running" and not beside.evaluations.claim(run_id)
        beside.close()
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    after = open_store(path)
    assert after.conversations.message(message_id).status == "interrupted"
    assert after.evaluations.get(run_id).status == "interrupted"
    assert after.evaluations.claim(run_id)  # resumable
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
