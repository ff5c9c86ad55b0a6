"""ChatModel's logic with a scripted backend: streaming, usage, context checks, retries, repair."""

from __future__ import annotations

from typing import Annotated

import pytest
from pydantic import BaseModel, Field

from smolab.models import (
    CallRecord,
    ChatDefaults,
    ChatModel,
    ContextLengthError,
    Message,
    PermanentAPIError,
    ScriptedBackend,
    StructuredOutputError,
    TransientAPIError,
)
from smolab.models.structured import max_reply_chars, schema_for


class Item(BaseModel):
    name: str = Field(max_length=20)
    value: int


class Plan(BaseModel):
    title: str = Field(max_length=40)
    items: list[Item] = Field(max_length=3)


class Loose(BaseModel):
    notes: list[str]


def test_chat_returns_text_and_usage(scripted):
    model, backend = scripted
    backend.enqueue("hello there friend")
    seen: list[CallRecord] = []
    model.observe(seen.append)
    c = model.chat([Message("system", "be brief"), {"role": "user", "content": "hi"}])
    assert c.text == "hello there friend"
    assert c.usage.completion_tokens == 3
    assert c.usage.prompt_tokens == backend.count_tokens(
        [Message("system", "be brief"), Message("user", "hi")]
    )
    assert [m.role for m in backend.history[0][0]] == ["system", "user"]
    assert len(seen) == 1 and seen[0].completion is c
    assert model.usage.completion_tokens == 3


def test_stream_yields_pieces_then_completion(scripted):
    model, backend = scripted
    backend.enqueue("one two three")
    s = model.stream("go")
    pieces = list(s)
    assert pieces == ["one", " two", " three"]
    assert s.completion is not None and s.completion.text == "one two three"


def test_max_tokens_cuts_and_reports_length(scripted):
    model, backend = scripted
    backend.enqueue("a b c d e f")
    c = model.chat("go", max_tokens=2)
    assert c.text == "a b"
    assert backend.history[0][1].max_tokens == 2


def test_prompt_too_long_fails_before_any_call(scripted):
    model, backend = scripted
    backend.context_window = 50
    with pytest.raises(ContextLengthError) as info:
        model.chat("word " * 100, max_tokens=10)
    assert info.value.prompt_tokens == 104 and info.value.context_window == 50
    assert "104 tokens" in str(info.value) and "50-token context window" in str(info.value)
    assert backend.history == []


def test_transient_errors_are_retried_until_success(scripted):
    model, backend = scripted
    backend.enqueue(TransientAPIError("503", 503), TransientAPIError("429", 429, retry_after=0), "fine")
    assert model.chat("x").text == "fine"
    assert len(backend.history) == 3


def test_transient_errors_give_up_after_the_policy(scripted):
    model, backend = scripted
    backend.enqueue(*[TransientAPIError("down", 503)] * 3)
    with pytest.raises(TransientAPIError):
        model.chat("x")
    assert len(backend.history) == 3


def test_permanent_errors_are_not_retried(scripted):
    model, backend = scripted
    backend.enqueue(PermanentAPIError("bad key", 401), "never")
    with pytest.raises(PermanentAPIError):
        model.chat("x")
    assert len(backend.history) == 1


def test_structured_valid_first_time(scripted):
    model, backend = scripted
    backend.enqueue('{"title": "t", "items": [{"name": "lr", "value": 3}]}')
    plan = model.chat("plan it", schema=Plan)
    assert plan == Plan(title="t", items=[Item(name="lr", value=3)])
    sent, params = backend.history[0]
    assert params.json_schema is not None and params.json_schema["properties"]["items"]["maxItems"] == 3
    assert "JSON schema" in sent[-1].content and "plan it" in sent[-1].content


def test_structured_repairs_an_invalid_reply(scripted):
    model, backend = scripted
    backend.enqueue(
        '{"title": "t", "items": [{"name": "lr", "value": "three"}]}', '{"title": "t", "items": []}'
    )
    plan = model.chat("plan it", schema=Plan)
    assert plan.items == []
    repair_prompt = backend.history[1][0]
    assert repair_prompt[-2].role == "assistant" and "three" in repair_prompt[-2].content
    assert "items.0.value" in repair_prompt[-1].content


def test_structured_gives_up_with_a_clear_error(scripted):
    model, backend = scripted
    backend.enqueue("not json", "still not", "nope")
    with pytest.raises(StructuredOutputError) as info:
        model.chat("plan it", schema=Plan)
    assert "no valid Plan in 3 attempts" in str(info.value)
    assert info.value.last_reply == "nope"
    assert len(backend.history) == 3


def test_structured_reply_in_prose_is_accepted(scripted):
    model, backend = scripted
    backend.enqueue('Sure! ```json\n{"title": "t", "items": []}\n```')
    assert model.chat("p", schema=Plan).title == "t"


def test_unbounded_schema_is_refused(scripted):
    model, _ = scripted
    with pytest.raises(ValueError, match=r"\$\.notes"):
        model.chat("p", schema=Loose)


def test_structured_calls_get_room_for_the_largest_object(scripted):
    model, backend = scripted
    backend.enqueue('{"title": "t", "items": []}')
    model.chat("p", schema=Plan, max_tokens=4)
    largest = max_reply_chars(schema_for(Plan))
    assert backend.history[0][1].max_tokens == largest > 4


def test_reply_cut_by_a_small_window_tells_the_model(scripted):
    model, backend = scripted
    backend.context_window = 300
    backend.enqueue('{"title": "' + "word " * 400, '{"title": "t", "items": []}')
    model.chat("p", schema=Plan, max_tokens=4)
    first_limit = backend.history[0][1].max_tokens
    assert 4 < first_limit < max_reply_chars(schema_for(Plan))  # what the window had room for
    retry = backend.history[1][0]
    assert f"cut off at {first_limit} tokens" in retry[-1].content
    assert [m.role for m in retry] == ["user"]  # the useless cut-off text is not sent back


def test_until_ends_a_reply_early_and_still_records_it(scripted):
    model, backend = scripted
    seen = []
    model.observe(seen.append)
    backend.enqueue("one two three four five six seven eight")
    reply = model.chat("count", max_tokens=50, until=lambda text: "four" in text)
    assert reply.text == "one two three four"
    assert len(seen) == 1 and seen[0].completion.usage.completion_tokens == 4
    assert seen[0].completion.usage.prompt_tokens == model.count_tokens("count")


def test_grammar_strings_admit_no_raw_control_character():
    """JSON allows a newline in a string only escaped; the schema grammar must not let a local
    model write a bare one (seen at a length cap, and no parser takes it)."""
    import json as _json

    from smolab.models.llamacpp import schema_gbnf

    schema = {"type": "object", "properties": {"s": {"type": "string", "maxLength": 8}}, "required": ["s"]}
    [char] = [r for r in schema_gbnf(_json.dumps(schema)).splitlines() if r.startswith("char ::=")]
    assert char.startswith('char ::= [^"\\\\\\x7F\\x00-\\x1F] | "\\\\" (')  # escapes still allowed


def test_a_raw_newline_inside_a_string_is_read_not_asked_again():
    class Summary(BaseModel):
        summary: str = Field(max_length=80)
        parts: list[Annotated[str, Field(max_length=10)]] = Field(max_length=3)

    raw = '{"summary": "It computes the mean and\n", "parts": ["a", "b"]}'
    backend = ScriptedBackend([raw])
    got = ChatModel(backend, ChatDefaults(max_repairs=2)).chat("Sum up.", schema=Summary)
    assert got.summary == "It computes the mean and\n" and got.parts == ["a", "b"]
    assert len(backend.history) == 1  # no re-ask
