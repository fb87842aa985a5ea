"""Uploads judged by their bytes: only real images are kept, under the canonical extension."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot import texts
from bot.core.capture import image_extension
from bot.emulator import FakeBotAPI
from tests.conftest import USER, on_a_fixed_day

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
HEADS = {
    b"\xff\xd8\xff\xe0\x00\x10JFIF": ".jpg",
    PNG: ".png",
    b"GIF89a\x01\x00": ".gif",
    b"GIF87a\x01\x00": ".gif",
    b"RIFF\x24\x00\x00\x00WEBPVP8 ": ".webp",
    b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00": ".heic",
    b"\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00": ".heif",
}
NOT_IMAGES = [
    b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
    b"<!doctype html><script>alert(1)</script>",
    b"",
    b"RIFF\x24\x00\x00\x00WAVEfmt ",
    b"\x00\x00\x00\x18ftypisom",  # an MP4 video
]


@pytest.mark.parametrize(("head", "extension"), HEADS.items())
def test_images_are_known_by_their_bytes(head: bytes, extension: str) -> None:
    assert image_extension(head) == extension


@pytest.mark.parametrize("head", NOT_IMAGES)
def test_other_bytes_are_not_images(head: bytes) -> None:
    assert image_extension(head) is None


def send_document(fake: FakeBotAPI, file_id: str, name: str, mime: str, data: bytes) -> None:
    fake.add_file(file_id, data)
    doc = {"file_id": file_id, "file_unique_id": f"u{file_id}", "file_name": name,
           "mime_type": mime, "file_size": len(data)}  # fmt: skip
    fake.send(USER, None, extra={"document": doc, "caption": "look"})


async def test_an_image_document_gets_the_extension_of_its_bytes(
    fake: FakeBotAPI, start_bot: Any, tmp_path: Path
) -> None:
    bot = await start_bot(clock=on_a_fixed_day(fake))
    send_document(fake, "d1", "drawing.svg", "image/svg+xml", PNG)  # a PNG named .svg
    await bot.reacted(1)
    assert (await bot.markdown(USER)).endswith("* look\n  * ![](media/2021/04/ud1.png)")
    media = tmp_path / "media"
    assert [p.name for p in media.rglob("*") if p.is_file()] == ["ud1.png"]


@pytest.mark.parametrize(
    ("name", "mime", "data"),
    [
        ("x.svg", "image/svg+xml", NOT_IMAGES[0]),
        ("x.html", "image/png", NOT_IMAGES[1]),
        ("x.png", "image/png", NOT_IMAGES[1]),
    ],
)
async def test_a_file_that_is_not_an_image_is_refused(
    fake: FakeBotAPI, start_bot: Any, tmp_path: Path, name: str, mime: str, data: bytes
) -> None:
    bot = await start_bot()
    send_document(fake, "d1", name, mime, data)
    assert (await bot.replies(1))[0] == texts.NOT_AN_IMAGE
    assert await bot.markdown(USER) == ""
    media = tmp_path / "media"
    assert not [p for p in media.rglob("*") if p.is_file()]
    assert not fake.calls_to("setMessageReaction")
