"""A journal sent to the bot as a .md file: preview, problems, import on a button."""

from __future__ import annotations

from typing import Any

from bot.emulator import FakeBotAPI
from bot.worker import IMPORT_BATCH
from tests.conftest import USER
from tests.test_export_import import sample_text


def send_file(fake: FakeBotAPI, file_id: str, name: str, data: bytes, size: int = 0) -> None:
    fake.add_file(file_id, data)
    doc = {"file_id": file_id, "file_unique_id": f"u{file_id}", "file_name": name,
           "mime_type": "text/markdown", "file_size": size or len(data)}  # fmt: skip
    fake.send(USER, None, extra={"document": doc})


def preview(fake: FakeBotAPI) -> dict[str, Any]:
    return [m for m in fake.sent_messages if "reply_markup" in m][-1]


def labels(message: dict[str, Any]) -> list[str]:
    return [b["text"] for row in message["reply_markup"]["inline_keyboard"] for b in row]


async def test_import_a_journal_file(fake: FakeBotAPI, start_bot: Any) -> None:
    bot = await start_bot()
    send_file(fake, "j1", "journal.md", sample_text().encode())
    await bot.until(lambda: any("reply_markup" in m for m in fake.sent_messages))
    shown = preview(fake)
    assert shown["text"].startswith("journal.md: 59 days, 577 notes (577 new).")
    assert "line 193" in shown["text"] and "2021-3-7" in shown["text"]
    assert labels(shown)[0] == "Import" and labels(shown)[1].startswith("Import, fixing")
    assert labels(shown)[-1] == "Cancel"
    fake.press(USER, shown, "im:fix")
    await bot.until(lambda: bool(fake.calls_to("editMessageText")))
    done = fake.calls_to("editMessageText")[-1].params["text"]
    assert done.startswith("Imported journal.md: 59 new days,") and "new notes" in done
    assert "ScanNet" in await bot.ask(USER, "/day 2021-4-8")
    assert "Nothing logged" not in await bot.ask(USER, "/day 2021-3-7")  # the fixed date
    fake.press(USER, shown, "im:go")  # a second tap: the import is no longer pending
    await bot.until(lambda: len(fake.calls_to("answerCallbackQuery")) == 2)
    assert "no longer pending" in fake.calls_to("answerCallbackQuery")[-1].params["text"]

    # the same file again: nothing new; cancel it
    send_file(fake, "j2", "journal.md", sample_text().encode())
    await bot.until(lambda: preview(fake) is not shown)
    again = preview(fake)
    assert again["text"].startswith("journal.md: 59 days, 577 notes (0 new).")
    fake.press(USER, again, "im:no")
    await bot.until(lambda: fake.calls_to("editMessageText")[-1].params["text"] != done)
    assert fake.calls_to("editMessageText")[-1].params["text"] == "Nothing was imported."


async def test_files_that_are_not_journals(fake: FakeBotAPI, start_bot: Any) -> None:
    bot = await start_bot()
    send_file(fake, "b1", "latin1.md", "caf\xe9 ## 2021-4-8".encode("latin-1"))
    assert "could not read latin1.md as UTF-8" in (await bot.replies(1))[-1]
    send_file(fake, "b2", "notes.txt", b"# Just a title\n\nsome text\n")
    assert "no date headings" in (await bot.replies(2))[-1]
    # neither is lost: each is kept in today's notes as a file, as any document is
    assert "kept in today's notes as a file" in fake.sent_messages[-1]["text"]
    await bot.reacted(2)
    day = await bot.markdown(USER)
    assert "latin1.md" in day and "notes.txt" in day, day
    send_file(fake, "b3", "huge.md", b"## 2021-4-8\n", size=30 * 1024 * 1024)
    assert "20 MB" in (await bot.replies(4))[-1]
    fake.send(USER, "still capturing")
    await bot.reacted(3)


async def test_a_big_import_shows_its_progress(fake: FakeBotAPI, start_bot: Any) -> None:
    bot = await start_bot()
    # no pause between its six batches (as long as each took, on PostgreSQL ~1 s in all):
    # nothing else writes meanwhile
    bot.exposed["services"].import_turn = 0.0
    days = [f"## 2020-{m}-{d}\n\n" + "".join(f"* note {m}.{d}.{i}\n" for i in range(50))
            for m in range(12, 0, -1) for d in range(10, 0, -1)]  # fmt: skip
    send_file(fake, "big", "journal.md", "\n".join(days).encode())
    await bot.until(lambda: any("reply_markup" in m for m in fake.sent_messages))
    assert preview(fake)["text"].startswith("journal.md: 120 days, 6000 notes (6000 new).")
    fake.press(USER, preview(fake), "im:go")

    def edits() -> list[str]:
        return [str(c.params["text"]) for c in fake.calls_to("editMessageText")]

    await bot.until(lambda: any(t.startswith("Imported") for t in edits()))
    *progress, done = edits()
    # the first batch is always shown; the result is the last word
    assert progress[0] == f"Importing journal.md: {IMPORT_BATCH:,} of 6,000 notes stored…"
    assert done.startswith("Imported journal.md: 120 new days, 6000 new notes")
    assert "note 3.7.49" in await bot.ask(USER, "/day 2020-3-7")
