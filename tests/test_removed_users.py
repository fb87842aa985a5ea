"""Someone removed from ALLOWED_USER_IDS gets no reminder, digest or auto-export any more."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.emulator import FakeBotAPI
from bot.telegram.autoexport import refresh, targets
from tests.conftest import USER
from tests.test_e2e_reminders import at, evening, reminders

OTHER = 3003


async def test_a_removed_user_gets_no_jobs(
    fake: FakeBotAPI, start_bot: Any, tmp_path: Path
) -> None:
    clock, bot = await evening(start_bot, fake)
    fake.command(USER, "/digest thursday 21:30")
    await bot.until(lambda: any("digest" in t.lower() for t in fake.sent_texts()[-1:]))
    await bot.stop()
    clock.set(at(21, 31))  # back within the reminder's grace: it would be sent now
    bot = await start_bot(
        clock=clock,
        reminder_time="21:30",
        allowed_user_ids=str(OTHER),
        export_path=str(tmp_path / "{user}.md"),
    )
    fake.send(OTHER, "hi")
    await bot.reacted(2)
    jq = bot.exposed["app"].job_queue
    assert not [j for j in jq.jobs() if str(USER) in (j.name or "")]
    assert not reminders(fake)
    assert list(targets(bot.exposed["services"])) == [OTHER]  # no auto-export for USER


async def test_one_failing_user_does_not_stop_the_others_auto_export(
    fake: FakeBotAPI, start_bot: Any, tmp_path: Path
) -> None:
    bot = await start_bot(
        allowed_user_ids=f"{USER},{OTHER}", export_path=str(tmp_path / "out" / "{user}.md")
    )
    fake.send(USER, "mine")
    fake.send(OTHER, "theirs")
    await bot.reacted(2)
    (tmp_path / "out" / f"{USER}.md").mkdir(parents=True)  # the first user's file cannot be
    assert refresh(bot.exposed["services"]) == 1
    assert "* theirs" in (tmp_path / "out" / f"{OTHER}.md").read_text(encoding="utf-8")
