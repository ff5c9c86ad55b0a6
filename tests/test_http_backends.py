"""The HTTP backends' transport against real local servers: retries, permanent failures, keys.

The OpenAI-compatible backend talks to a server speaking OpenAI's wire format;
the litellm backend talks to a server speaking Anthropic's Messages API, reached
by the registry's ``claude-sonnet-4`` entry through ANTHROPIC_BASE_URL.
"""

from __future__ import annotations

import json
import time
from collections import deque

import pytest
from pydantic import BaseModel, Field

from smolab.config import load_settings
from smolab.models import (
    MissingAPIKeyError,
    PermanentAPIError,
    ServerUnreachableError,
    load_model,
)

from .servers import AnthropicHandler, Behaviour, OpenAIHandler, serve


class Answer(BaseModel):
    answer: str = Field(max_length=50)


def _model(name: str, retries: int = 3):
    model = load_model(name, load_settings(retries=retries))
    model.defaults.retry = type(model.defaults.retry)(attempts=retries + 1, base_delay=0.01, max_delay=0.05)
    return model


def test_openai_compat_streams_and_reports_usage():
    b = Behaviour(reply="four is the answer")
    with serve(OpenAIHandler, behaviour=b) as url:
        model = _model(f"openai:{url}/v1")
        s = model.stream("2+2?")
        assert list(s) == ["four", " is", " the", " answer"]
        assert s.completion is not None
        assert (s.completion.usage.prompt_tokens, s.completion.usage.completion_tokens) == (11, 4)
    sent = [r for r in b.requests if r.path.endswith("/chat/completions")][0]
    assert sent.body["model"] == "test-model"  # learned from /v1/models
    assert sent.body["messages"] == [{"role": "user", "content": "2+2?"}]
    assert sent.body["stream"] is True


def test_openai_compat_retries_5xx_and_429_then_succeeds():
    b = Behaviour(failures=deque([(503, {}), (429, {"Retry-After": "0"}), (500, {})]), reply="ok")
    with serve(OpenAIHandler, behaviour=b) as url:
        assert _model(f"openai:{url}/v1").chat("x").text == "ok"
    assert sum(r.path.endswith("/chat/completions") for r in b.requests) == 4


def test_openai_compat_honours_retry_after():
    b = Behaviour(failures=deque([(429, {"Retry-After": "0.3"})]), reply="ok")
    with serve(OpenAIHandler, behaviour=b) as url:
        model = _model(f"openai:{url}/v1")
        model.defaults.retry = type(model.defaults.retry)(attempts=2, base_delay=0.0, max_delay=5)
        start = time.perf_counter()
        assert model.chat("x").text == "ok"
        assert time.perf_counter() - start >= 0.3


@pytest.mark.parametrize("status", [401, 404, 400])
def test_openai_compat_permanent_errors_fail_at_once(status):
    b = Behaviour(failures=deque([(status, {})] * 5))
    with serve(OpenAIHandler, behaviour=b) as url, pytest.raises(PermanentAPIError) as info:
        _model(f"openai:{url}/v1").chat("x")
    assert info.value.status == status
    assert sum(r.path.endswith("/chat/completions") for r in b.requests) == 1
    assert str(info.value).count("\n") == 0


def test_openai_compat_unreachable_names_the_url():
    with serve(OpenAIHandler, behaviour=Behaviour()) as url:
        pass  # the port is now closed
    with pytest.raises(ServerUnreachableError, match=f"cannot connect to {url}/v1"):
        _model(f"openai:{url}/v1", retries=1).chat("x")


def test_openai_compat_sends_the_schema_as_response_format():
    b = Behaviour(reply='{"answer": "4"}')
    with serve(OpenAIHandler, behaviour=b) as url:
        assert _model(f"openai:{url}/v1").chat("2+2?", schema=Answer).answer == "4"
    body = [r for r in b.requests if r.path.endswith("/chat/completions")][0].body
    assert body["response_format"]["type"] == "json_schema"
    assert body["response_format"]["json_schema"]["schema"]["properties"]["answer"]["maxLength"] == 50


@pytest.fixture
def anthropic(monkeypatch):
    b = Behaviour(reply="Claude says hi")
    with serve(AnthropicHandler, behaviour=b) as url:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", url)
        monkeypatch.setenv("ANTHROPIC_API_KEY", "test-key")
        yield b


def test_litellm_claude_streams_over_the_anthropic_protocol(anthropic):
    s = _model("claude-sonnet-4").stream("hi", max_tokens=50)
    assert "".join(s) == "Claude says hi"
    req = [r for r in anthropic.requests if r.path.startswith("/v1/messages")][0]
    assert req.headers["x-api-key"] == "test-key"
    assert req.body["model"] == "claude-sonnet-4-20250514"
    assert req.body["max_tokens"] == 50
    assert req.body["messages"][0]["role"] == "user"


def test_litellm_claude_streams_piece_by_piece_with_its_usage(anthropic):
    anthropic.reply = "one two three four five"
    stream = _model("claude-sonnet-4").stream("count to five", max_tokens=20)
    pieces = list(stream)
    assert pieces == ["one", " two", " three", " four", " five"]
    assert stream.completion is not None
    usage = stream.completion.usage
    assert (usage.prompt_tokens, usage.completion_tokens) == (9, 5)  # from message_start and message_delta
    assert usage.first_token_seconds is not None and usage.first_token_seconds <= usage.seconds


def test_litellm_claude_structured_output_through_a_forced_tool(anthropic):
    anthropic.script.extend(['{"answer": "four', '{"answer": "4"}'])  # the first is cut short
    model = _model("claude-sonnet-4")
    assert model.chat("2+2?", schema=Answer).answer == "4"
    asks = [r.body for r in anthropic.requests if r.path.startswith("/v1/messages")]
    assert len(asks) == 2  # the broken reply was asked again, with what was wrong
    tool = asks[0]["tools"][0]
    assert asks[0]["tool_choice"] == {"name": tool["name"], "type": "tool"}
    assert tool["input_schema"]["properties"]["answer"]["maxLength"] == 50
    assert asks[0]["stream"] is True
    retry = asks[1]["messages"][-1]
    retry_text = retry["content"] if isinstance(retry["content"], str) else json.dumps(retry["content"])
    assert "That reply is invalid" in retry_text and "Invalid JSON" in retry_text


def test_litellm_retries_overload_then_succeeds(anthropic):
    anthropic.failures.extend([(529, {}), (503, {})])
    assert _model("claude-sonnet-4").chat("hi").text == "Claude says hi"
    assert sum(r.path.startswith("/v1/messages") for r in anthropic.requests) == 3


def test_litellm_bad_key_fails_at_once(anthropic, monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "wrong")
    with pytest.raises(PermanentAPIError, match="refused the API key"):
        _model("claude-sonnet-4").chat("hi")
    assert sum(r.path.startswith("/v1/messages") for r in anthropic.requests) == 1


def test_hosted_model_without_key_names_the_variable():
    with pytest.raises(MissingAPIKeyError, match="set ANTHROPIC_API_KEY"):
        load_model("claude-sonnet-4", load_settings())
