"""The OpenAI provider with the real `openai` client against a real OpenAI-compatible HTTP server:
replies read tolerantly, declines, and failures a chat can live with (short connect timeout, a
first-token deadline, the endpoint named by its host only)."""

from __future__ import annotations

import asyncio
import doctest
import time

import pytest

import nlq.ask.llm_client as llm_client_module
import nlq.ask.providers as providers_module
from nlq.ask.catalog import build_catalog
from nlq.ask.conventions import conventions_for
from nlq.ask.providers import LlmBadOutput, LlmDeclined, LlmUnavailable, OpenAIProvider
from prompts.render import render
from tests.fake_llm import Scripted


def prompt(question: str = "how many cranes?"):
    return render("sql", catalog=build_catalog(), conventions=conventions_for(1000), question=question)


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
    assert [m["role"] for m in sent["messages"]] == ["system", "user"] and sent["stream"] is True


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


async def test_a_model_that_does_not_start_answering_in_time_is_reported_and_hung_up_on(fake_llm):
    fake_llm.answer(Scripted(content='{"sql": "SELECT 1"}', delay=5.0))
    started = time.monotonic()
    with pytest.raises(LlmUnavailable) as raised:
        await provider(fake_llm, first_token_seconds=0.5, max_retries=0).generate(prompt())
    assert time.monotonic() - started < 2.5
    host = fake_llm.base_url.split("//")[1].split("/")[0]
    assert raised.value.message == f"The language model at {host} did not start answering within 0.5 s."
    assert raised.value.details == {"host": host, "reason": "first_token_timeout"}
    for _ in range(40):  # the server notices the closed connection within its polling interval
        if fake_llm.hung_up:
            break
        await asyncio.sleep(0.05)
    assert fake_llm.hung_up == [0]


async def test_a_model_that_started_in_time_may_take_longer_to_finish(fake_llm):
    pieces = ['{"sql": ', '"SELECT count(*) ', 'FROM pfa_merged"', "}"]
    fake_llm.answer(Scripted(chunks=pieces, chunk_delay=0.3))
    started = time.monotonic()
    reply = await provider(fake_llm, first_token_seconds=0.6, timeout_seconds=10).generate(prompt())
    assert reply.sql == "SELECT count(*) FROM pfa_merged" and time.monotonic() - started > 1.0
    assert fake_llm.requests[-1]["stream"] is True


async def test_a_model_that_never_finishes_is_cut_at_the_total_deadline(fake_llm):
    fake_llm.answer(Scripted(chunks=["x"] * 50, chunk_delay=0.2))
    with pytest.raises(LlmUnavailable, match=r"did not finish answering within 1 s\.$"):
        await provider(fake_llm, first_token_seconds=0.5, timeout_seconds=1).generate(prompt())


async def test_an_endpoint_that_never_accepts_is_named_by_host_without_its_secrets(unreachable_llm):
    host = unreachable_llm.split("//")[1].split("/")[0]
    secret_url = unreachable_llm.replace("//", "//planner:hunter2@").replace("/v1", "/deployments/tenant-s3cr3t/v1")
    llm = OpenAIProvider(secret_url, "sk-very-secret-key", "m", connect_timeout_seconds=0.3, first_token_seconds=10,
                         max_retries=1)
    started = time.monotonic()
    with pytest.raises(LlmUnavailable) as raised:
        await llm.generate(prompt())
    assert time.monotonic() - started < 5
    message = raised.value.message
    assert message == f"The language model at {host} cannot be reached: no connection within 0.3 s."
    for secret in ("hunter2", "planner", "s3cr3t", "deployments", "sk-very-secret-key"):
        assert secret not in message and secret not in repr(raised.value.details)
    assert raised.value.__cause__ is None and raised.value.__suppress_context__


async def test_a_refused_connection_and_a_refused_key_are_named_too(fake_llm):
    with pytest.raises(LlmUnavailable, match=r"^The language model at 127\.0\.0\.1:1 cannot be reached: "
                                             r"the connection failed\.$"):
        await OpenAIProvider("http://127.0.0.1:1/v1", "k", "m", max_retries=0).generate(prompt())
    fake_llm.answer(Scripted(status=401))
    with pytest.raises(LlmUnavailable, match=r"refused the API key \(HTTP 401\)\.$"):
        await provider(fake_llm).generate(prompt())


@pytest.mark.parametrize("content, reason", [
    ('{"sql": null, "decline": "The records hold no fuel use."}', "The records hold no fuel use."),
    ('```json\n{"sql": null, "decline": "No weather data.\\n\\nSorry."}\n```', "No weather data. Sorry."),
    ('{"sql": null, "decline": "' + "x" * 900 + '"}', "x" * 500),
])
async def test_a_decline_is_its_own_answer(fake_llm, content, reason):
    fake_llm.answer(content)
    with pytest.raises(LlmDeclined) as raised:
        await provider(fake_llm).generate(prompt())
    assert raised.value.code == "declined" and raised.value.details == {"reason": reason}
    assert raised.value.message == "This question cannot be answered from the equipment records."


async def test_servers_without_json_mode_get_a_plain_request(fake_llm):
    fake_llm.answer(Scripted(status=400), '```sql\nSELECT 4\n```')
    llm = provider(fake_llm)
    assert (await llm.generate(prompt())).sql == "SELECT 4"
    assert "response_format" in fake_llm.requests[0] and "response_format" not in fake_llm.requests[1]


async def test_explanations_stream_in_pieces(fake_llm):
    fake_llm.answer(Scripted(chunks=["This counts ", "the cranes ", "you rent."]))
    explain = render("explain", catalog=build_catalog(), sql="SELECT 1", used=())
    pieces = [p async for p in provider(fake_llm).stream_explanation(explain)]
    assert pieces == ["This counts ", "the cranes ", "you rent."]
    assert fake_llm.requests[-1]["stream"] is True


def test_doctests():
    assert doctest.testmod(providers_module).failed == 0
    assert doctest.testmod(llm_client_module).failed == 0
