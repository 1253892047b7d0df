"""The OpenAI provider with the real `openai` client against a real OpenAI-compatible HTTP server."""

from __future__ import annotations

import doctest

import pytest

import nlq.ask.providers as providers_module
from nlq.ask.catalog import build_catalog
from nlq.ask.providers import LlmBadOutput, LlmUnavailable, OpenAIProvider
from prompts.render import render
from tests.fake_llm import Scripted


def prompt(question: str = "how many cranes?"):
    return render("sql", catalog=build_catalog(), question=question)


def provider(llm, **kw) -> OpenAIProvider:
    return OpenAIProvider(llm.base_url, "test-key", "test-model", **{"timeout_seconds": 5, "max_retries": 2, **kw})


@pytest.mark.parametrize("content, sql, explanation", [
    ('{"sql": "SELECT count(*) FROM pfa_merged", "explanation": "Counts records."}',
     "SELECT count(*) FROM pfa_merged", "Counts records."),
    ('Here is the query:\n```json\n{"sql": "SELECT 1", "explanation": "one"}\n```\nHope it helps!', "SELECT 1", "one"),
    ('Sure. {"sql": "SELECT 2"} -- done', "SELECT 2", ""),
    ("```sql\nSELECT 3 FROM pfa_merged\n```", "SELECT 3 FROM pfa_merged", ""),
])
async def test_replies_are_read_however_they_are_wrapped(fake_llm, content, sql, explanation):
    fake_llm.answer(content)
    reply = await provider(fake_llm).generate(prompt())
    assert (reply.sql, reply.explanation, reply.raw) == (sql, explanation, content)
    sent = fake_llm.requests[-1]
    assert sent["model"] == "test-model" and sent["temperature"] == 0
    assert sent["response_format"] == {"type": "json_object"}
    assert [m["role"] for m in sent["messages"]] == ["system", "user"]


@pytest.mark.parametrize("content", ["I cannot help with that.", '{"sql": ""}', '{"query": "SELECT 1"}', "",
                                     '{"sql": "' + "x" * 20_001 + '"}'])
async def test_unreadable_replies_are_bad_output(fake_llm, content):
    fake_llm.answer(content)
    with pytest.raises(LlmBadOutput):
        await provider(fake_llm).generate(prompt())


async def test_server_errors_are_retried_then_reported(fake_llm):
    fake_llm.answer(Scripted(status=503), Scripted(status=429), '{"sql": "SELECT 1"}')
    reply = await provider(fake_llm).generate(prompt())
    assert reply.sql == "SELECT 1" and len(fake_llm.requests) == 3
    fake_llm.answer(*[Scripted(status=500)] * 3)
    with pytest.raises(LlmUnavailable):
        await provider(fake_llm).generate(prompt())


async def test_a_slow_model_times_out(fake_llm):
    fake_llm.answer(Scripted(content='{"sql": "SELECT 1"}', delay=2.0))
    with pytest.raises(LlmUnavailable, match="Timeout"):
        await provider(fake_llm, timeout_seconds=0.3, max_retries=0).generate(prompt())


async def test_an_unreachable_endpoint_is_unavailable():
    with pytest.raises(LlmUnavailable):
        await OpenAIProvider("http://127.0.0.1:1/v1", "k", "m", timeout_seconds=1, max_retries=0).generate(prompt())


async def test_servers_without_json_mode_get_a_plain_request(fake_llm):
    fake_llm.answer(Scripted(status=400), '```sql\nSELECT 4\n```')
    llm = provider(fake_llm)
    assert (await llm.generate(prompt())).sql == "SELECT 4"
    assert "response_format" in fake_llm.requests[0] and "response_format" not in fake_llm.requests[1]


async def test_explanations_stream_in_pieces(fake_llm):
    fake_llm.answer(Scripted(chunks=["This counts ", "the cranes ", "you rent."]))
    explain = render("explain", catalog=build_catalog(), question="q", sql="SELECT 1")
    pieces = [p async for p in provider(fake_llm).stream_explanation(explain)]
    assert pieces == ["This counts ", "the cranes ", "you rent."]
    assert fake_llm.requests[-1]["stream"] is True


def test_doctests():
    assert doctest.testmod(providers_module).failed == 0
