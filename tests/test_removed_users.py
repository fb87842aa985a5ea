"""Someone removed from ALLOWED_USER_IDS gets no reminder, digest or auto-export any more."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.emulator import FakeBotAPI
from bot.telegram.autoexport import targets
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
