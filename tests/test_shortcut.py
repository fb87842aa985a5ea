"""The short way of a plain text note: taken only where PTB's handlers would capture it too."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from telegram import Update
from telegram.ext import Application

from bot.core.entities import Entity
from bot.emulator import FakeBotAPI
from bot.telegram.app import register
from bot.telegram.handlers import access, notes
from bot.telegram.shortcut import plain_text

USER = 1001
fake = FakeBotAPI()  # its message builder only: no server


def update(message: dict[str, Any], kind: str = "message") -> dict[str, Any]:
    return {"update_id": 5, kind: message}


def text(body: str = "a note", **kw: Any) -> dict[str, Any]:
    return fake.message(USER, body, **kw)


PLAIN = [
    update(text()),
    update(text("/not a command without its entity")),
    update(
        text(
            "#tag and a link https://example.org",
            entities=[
                {"type": "hashtag", "offset": 0, "length": 4},
                {"type": "url", "offset": 20, "length": 19},
            ],
        )
    ),
    update(
        text(
            "bold code",
            entities=[
                {"type": "bold", "offset": 0, "length": 4},
                {"type": "pre", "offset": 5, "length": 4, "language": "python"},
                {"type": "text_link", "offset": 0, "length": 4, "url": "https://example.org"},
            ],
        )
    ),
    update(
        dict(text(), **{"from": {"id": USER, "is_bot": False, "first_name": "A", "last_name": "B"}})
    ),
]

NOT_PLAIN = [
    update(text("/today", entities=[{"type": "bot_command", "offset": 0, "length": 6}])),
    update(text("see /today", entities=[{"type": "bot_command", "offset": 4, "length": 6}])),
    update(
        text(
            "hi @ada",
            entities=[
                {
                    "type": "text_mention",
                    "offset": 3,
                    "length": 4,
                    "user": {"id": 7, "is_bot": False, "first_name": "Ada"},
                },
            ],
        )
    ),
    update(text(reply_to=1)),
    update(
        text(extra={"forward_origin": {"type": "hidden_user", "date": 1, "sender_user_name": "X"}})
    ),
    update(text(extra={"media_group_id": "7"})),
    update(
        text(extra={"photo": [{"file_id": "f", "file_unique_id": "u", "width": 1, "height": 1}]})
    ),
    update(text(extra={"link_preview_options": {"is_disabled": True}})),
    update(text(), "edited_message"),
    update(dict(text(), edit_date=1)),
    update(text("")),
    update(fake.message(USER)),  # no text
    update(fake.message(USER, "in a group", chat_type="group", chat_id=-5)),
    update(fake.message(USER, "someone else's chat", chat_id=USER + 1)),
    update(dict(text(), **{"from": {"id": USER, "first_name": "A"}})),  # no is_bot: PTB refuses
    update(dict(text(), date="yesterday")),
    update(dict(text(), chat={"id": USER})),
    {"update_id": 5},
    {"update_id": "5", "message": text()},
    {"update_id": 5, "message": text(), "edited_message": text()},
]


def first_capturing_handler(app: Any, raw: dict[str, Any]) -> Any:
    """The callback PTB's dispatch gives the update to in the handlers' group 0."""
    parsed = Update.de_json(raw, app.bot)
    for handler in app.handlers[0]:
        check = handler.check_update(parsed)
        if check is not None and check is not False:
            return handler.callback
    return None


@pytest.fixture
def app() -> Any:
    built = Application.builder().token(fake.token).updater(None).build()
    register(built)
    return built


@pytest.mark.parametrize("raw", PLAIN)
def test_a_plain_text_goes_where_ptb_would_send_it(app: Any, raw: dict[str, Any]) -> None:
    note = plain_text(raw)
    assert note is not None
    assert [h.callback for h in app.handlers[-1]] == [access.gatekeeper]
    assert first_capturing_handler(app, raw) is notes.capture
    # and it reads what capture reads of PTB's objects
    message = Update.de_json(raw, app.bot).effective_message
    assert message is not None and message.from_user is not None
    facts = notes.facts_of(message, edit=False)
    assert (note.update_id, note.user_id, note.message_id) == (5, USER, message.message_id)
    assert (note.sent_at, note.text, note.entities) == (facts.sent_at, facts.text, facts.entities)
    assert note.full_name == message.from_user.full_name
    assert note.sent_at.tzinfo is UTC


@pytest.mark.parametrize("raw", NOT_PLAIN)
def test_anything_else_takes_ptbs_way(raw: dict[str, Any]) -> None:
    assert plain_text(raw) is None


def test_entities_keep_telegrams_utf16_offsets() -> None:
    raw = update(text("😀 bold", entities=[{"type": "bold", "offset": 3, "length": 4}]))
    note = plain_text(raw)
    assert note is not None
    assert note.entities == (Entity("bold", 3, 4),)
    assert note.sent_at == datetime.fromtimestamp(raw["message"]["date"], tz=UTC)


SCALAR = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=4)
JSON = (
    SCALAR | st.lists(SCALAR, max_size=2) | st.dictionaries(st.text(max_size=4), SCALAR, max_size=2)
)
FIELDS = {
    "message": ["message_id", "date", "chat", "from", "text", "entities"],
    "chat": ["id", "type"],
    "from": ["id", "is_bot", "first_name", "last_name"],
}


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)  # the app is only read
@given(
    data=st.data(),
    huge_date=st.sampled_from([None, 10**20, -(10**20), 2**63, 253402300800]),
)
def test_a_crafted_update_is_read_the_short_way_only_where_ptb_captures_it_too(
    app: Any, data: st.DataObject, huge_date: int | None
) -> None:
    # the Bot API server's JSON may be crafted: any field may hold any JSON value
    message = text("a note", entities=[{"type": "bold", "offset": 0, "length": 1}])
    message["from"] = {"id": USER, "is_bot": False, "first_name": "A", "last_name": "B"}
    for part, keys in FIELDS.items():
        target = message if part == "message" else message[part]
        for key in data.draw(st.lists(st.sampled_from(keys), unique=True, max_size=2)):
            if isinstance(target, dict):
                target[key] = data.draw(JSON)
    if huge_date is not None:
        message["date"] = huge_date
    raw = update(message)
    note = plain_text(raw)  # never raises
    if note is not None:
        assert first_capturing_handler(app, raw) is notes.capture
        parsed = Update.de_json(raw, app.bot).effective_message
        assert parsed is not None
        facts = notes.facts_of(parsed, edit=False)
        assert (note.sent_at, note.text, note.entities) == (
            facts.sent_at,
            facts.text,
            facts.entities,
        )
