"""End to end: every kind of message (files, places, contacts, stickers, polls, forwards)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from bot import texts
from bot.emulator import FakeBotAPI
from tests.conftest import USER

DAY = date(2026, 3, 10)
NOON = int(datetime(2026, 3, 10, 12, tzinfo=UTC).timestamp())
M = "media/2026/03/"
OGG = b"OggS\x00\x02" + b"\x00" * 40
MP4 = b"\x00\x00\x00\x18ftypisom" + b"\x00" * 40
JPEG = b"\xff\xd8\xff\xe0thumb"


def send(fake: FakeBotAPI, caption: str | None = None, **kinds: Any) -> dict[str, Any]:
    extra: dict[str, Any] = dict(kinds)
    if caption is not None:
        extra["caption"] = caption
    return fake.send(USER, None, date=NOON, extra=extra)


def saved(tmp_path: Path) -> list[str]:
    media = tmp_path / "media"
    return sorted(
        str(p.relative_to(media))
        for p in media.rglob("*")
        if p.is_file() and ".incoming" not in p.parts
    )


async def test_a_voice_note_is_saved_and_linked_once(
    fake: FakeBotAPI, start_bot: Any, tmp_path: Path
) -> None:
    bot = await start_bot()
    msg = send(fake, "standup", voice=fake.file_fields("v1", OGG, duration=42))
    fake.push({"message": msg})  # redelivered: no second bullet, no second file
    await bot.reacted(2)
    assert await bot.markdown(USER, DAY) == f"* standup\n  * 🎤 [0:42]({M}uv1.ogg)"
    assert saved(tmp_path) == ["2026/03/uv1.ogg"]
    assert (tmp_path / "media" / "2026/03/uv1.ogg").read_bytes() == OGG
    # a new caption changes the bullet and keeps the one file
    fake.push({"edited_message": dict(msg, caption="standup, day 2", edit_date=NOON + 60)})
    assert await bot.markdown(USER, DAY) == f"* standup, day 2\n  * 🎤 [0:42]({M}uv1.ogg)"
    assert saved(tmp_path) == ["2026/03/uv1.ogg"]


async def test_audio_video_and_video_notes(
    fake: FakeBotAPI, start_bot: Any, tmp_path: Path
) -> None:
    bot = await start_bot()
    audio = fake.file_fields(
        "a1", b"ID3" + b"\x00" * 40, duration=185, performer="Nina", title="Song",
        file_name="song.mp3",
    )  # fmt: skip
    send(fake, audio=audio)
    thumb = fake.file_fields("t1", JPEG, width=90, height=160)
    video = fake.file_fields("w1", MP4, duration=12, width=9, height=16, thumbnail=thumb)
    send(fake, "the demo", video=video)
    send(fake, video_note=fake.file_fields("n1", MP4, duration=7, length=240))
    gif = fake.file_fields("g1", MP4, duration=2, width=9, height=9, file_name="cat.mp4")
    send(fake, animation=gif, document=gif)  # Telegram sends a GIF as both
    await bot.reacted(4)
    assert await bot.markdown(USER, DAY) == (
        f"* 🎵 [Nina – Song 3:05]({M}ua1-song.mp3)\n"
        f"* the demo\n  * 🎬 [0:12]({M}uw1.mp4)\n    * ![]({M}ut1.jpg)\n"
        f"* 📹 [0:07]({M}un1.mp4)\n"
        f"* 🎞 [cat.mp4]({M}ug1.mp4)"
    )
    names = ["ua1-song.mp3", "ug1.mp4", "un1.mp4", "ut1.jpg", "uw1.mp4"]
    assert saved(tmp_path) == [f"2026/03/{n}" for n in names]


async def test_documents_are_saved_under_safe_names(
    fake: FakeBotAPI, start_bot: Any, tmp_path: Path
) -> None:
    bot = await start_bot()
    pdf = fake.file_fields("d1", b"%PDF-1.7 report", file_name="Q3 report (final).pdf",
                           mime_type="application/pdf")  # fmt: skip
    send(fake, "read this", document=pdf, caption_entities=[
        {"type": "italic", "offset": 0, "length": 4}])  # fmt: skip
    page = b"<!doctype html><script>alert(1)</script>"
    send(fake, document=fake.file_fields("d2", page, file_name="page.html",
                                         mime_type="text/html"))  # fmt: skip
    send(fake, document=fake.file_fields("d3", b"<svg onload=x>", file_name="data.csv"))
    await bot.reacted(3)
    assert await bot.markdown(USER, DAY) == (
        f"* *read* this\n  * 📎 [Q3 report (final).pdf]({M}ud1-Q3-report-final.pdf) (15 B)\n"
        f"* 📎 [page.html]({M}ud2-page.bin) (40 B)\n"
        f"* 📎 [data.csv]({M}ud3-data.txt) (14 B)"
    )
    assert saved(tmp_path) == ["2026/03/ud1-Q3-report-final.pdf", "2026/03/ud2-page.bin",
                               "2026/03/ud3-data.txt"]  # fmt: skip


async def test_places_contacts_stickers_polls_and_dice(fake: FakeBotAPI, start_bot: Any) -> None:
    bot = await start_bot()
    send(fake, location={"latitude": 52.520008, "longitude": 13.404954})
    venue = {"location": {"latitude": 48.8584, "longitude": 2.2945}, "title": "Tour Eiffel",
             "address": "Champ de Mars, Paris"}  # fmt: skip
    send(fake, venue=venue, location=venue["location"])
    send(fake, contact={"phone_number": "+4912345", "first_name": "Ada", "last_name": "Lovelace"})
    sticker = {"file_id": "st1", "file_unique_id": "ust1", "type": "regular", "width": 512,
               "height": 512, "is_animated": False, "is_video": False, "emoji": "🦉"}  # fmt: skip
    send(fake, sticker=sticker)
    poll = fake.poll_fields("Lunch?", ["ramen", "*salad*"])
    send(fake, poll=poll)
    send(fake, dice={"emoji": "🎲", "value": 5})
    await bot.reacted(6)
    osm = "https://www.openstreetmap.org/?mlat={0}&mlon={1}#map=17/{0}/{1}"
    assert await bot.markdown(USER, DAY) == (
        f"* 📍 [52.52001, 13.40495]({osm.format('52.52001', '13.40495')})\n"
        f"* 📍 [Tour Eiffel]({osm.format('48.85840', '2.29450')}), Champ de Mars, Paris\n"
        "* 👤 Ada Lovelace\n"
        "* 🦉\n"
        "* 📊 Lunch? — ramen / \\*salad\\*\n"
        "* 🎲 5"
    )


async def test_a_file_over_the_download_limit_keeps_its_caption(
    fake: FakeBotAPI, start_bot: Any, tmp_path: Path
) -> None:
    bot = await start_bot()
    video = fake.file_fields("big", size=25 * 1024 * 1024, duration=600, width=9, height=16)
    send(fake, "the whole talk", video=video)
    doc = fake.file_fields("bigdoc", size=21 * 1024 * 1024, file_name="data.zip")
    send(fake, document=doc)
    await bot.reacted(2)
    too_large = texts.FILE_TOO_LARGE
    assert await bot.markdown(USER, DAY) == (
        f"* the whole talk\n  * 🎬 10:00 ({too_large.format(size=' 25.0 MB')})\n"
        f"* 📎 data.zip ({too_large.format(size=' 21.0 MB')})"
    )
    assert not fake.calls_to("getFile") and saved(tmp_path) == []


async def test_the_media_quota_keeps_the_note_without_its_file(
    fake: FakeBotAPI, start_bot: Any, tmp_path: Path
) -> None:
    bot = await start_bot(media_quota_mb=1)
    send(fake, "first", voice=fake.file_fields("q1", OGG + b"\x00" * 700_000, duration=60))
    second = send(fake, "second", voice=fake.file_fields("q2", OGG + b"\x00" * 700_000,
                                                         duration=61))  # fmt: skip
    await bot.reacted(2)
    replies = await bot.replies(1)
    assert replies == [texts.QUOTA_FULL.format(quota=1)]
    fake.push({"message": second})  # a redelivery says nothing more
    assert await bot.markdown(USER, DAY) == (
        f"* first\n  * 🎤 [1:00]({M}uq1.ogg)\n"
        f"* second\n  * 🎤 1:01 ({texts.FILE_OVER_QUOTA.format(size=' 684 KB')})"
    )
    assert saved(tmp_path) == ["2026/03/uq1.ogg"]
    assert fake.sent_texts().count(texts.QUOTA_FULL.format(quota=1)) == 1


async def test_forwards_keep_their_origin(fake: FakeBotAPI, start_bot: Any) -> None:
    bot = await start_bot()
    then = int(datetime(2021, 4, 8, 9, tzinfo=UTC).timestamp())
    person = {"type": "user", "date": then,
              "sender_user": {"id": 77, "is_bot": False, "first_name": "Grace", "last_name": "H"}}  # fmt: skip
    channel = {"type": "channel", "date": then, "message_id": 42, "chat": {
        "id": -1001, "type": "channel", "title": "Papers [daily]", "username": "papers_daily"}}  # fmt: skip
    hidden = {"type": "hidden_user", "date": then, "sender_user_name": "Someone"}
    group = {"type": "chat", "date": then,
             "sender_chat": {"id": -1003, "type": "supergroup", "title": "Reading group"}}  # fmt: skip
    fake.push({"message": fake.forwarded(fake.message(USER, "read this", date=NOON), person)})
    fake.push({"message": fake.forwarded(fake.message(USER, "new survey", date=NOON), channel)})
    fake.push({"message": fake.forwarded(fake.message(USER, "psst", date=NOON), hidden)})
    fake.push({"message": fake.forwarded(fake.message(USER, "agenda", date=NOON), group)})
    await bot.reacted(4)
    assert await bot.markdown(USER, DAY) == (
        "* ↪ Grace H, 2021-04-08: read this\n"
        "* ↪ [Papers \\[daily\\]](https://t.me/papers_daily/42), 2021-04-08: new survey\n"
        "* ↪ hidden, 2021-04-08: psst\n"
        "* ↪ Reading group, 2021-04-08: agenda"
    )


async def test_a_forwarded_album_stays_separate_bullets_in_order(
    fake: FakeBotAPI, start_bot: Any
) -> None:
    bot = await start_bot()
    then = int(datetime(2021, 4, 8, 9, tzinfo=UTC).timestamp())
    origin = {"type": "channel", "date": then, "message_id": 7,
              "chat": {"id": -1002, "type": "channel", "title": "Lab"}}  # fmt: skip
    for i, name in enumerate(["f1", "f2", "f3"]):
        fake.add_file(name, b"\xff\xd8" + name.encode())
        photo = [{"file_id": name, "file_unique_id": "u" + name, "width": 9, "height": 9}]
        extra: dict[str, Any] = {"photo": photo, "media_group_id": "FWD"}
        if i == 0:
            extra["caption"] = "poster"
        fake.push({"message": fake.forwarded(fake.message(USER, date=NOON, extra=extra), origin)})
    fake.push({"message": fake.forwarded(fake.message(USER, "and a note", date=NOON), origin)})
    await bot.reacted(4)
    assert await bot.markdown(USER, DAY) == (
        f"* ↪ Lab, 2021-04-08: poster\n  * ![]({M}uf1.jpg)\n"
        f"* ↪ Lab, 2021-04-08: ![]({M}uf2.jpg)\n"
        f"* ↪ Lab, 2021-04-08: ![]({M}uf3.jpg)\n"
        "* ↪ Lab, 2021-04-08: and a note"
    )
