import pytest

from engines.registry import configure
from tests.conftest import assert_error
from tests.fakes.openai_server import FakeOpenAI

pytestmark = pytest.mark.django_db


@pytest.fixture
def llm():
    with FakeOpenAI() as server:
        configure(openai={"base_url": server.base_url, "api_key": server.api_key,
                          "chat_model": "gpt-test", "timeout": 5})
        yield server
    configure(openai={})


def test_generate_prompt_through_the_configured_llm(owner_api, llm):
    llm.chat_json = lambda messages: {"prompt": "A red fox trots through fresh snow at dawn.",
                                      "negative_prompt": "blurry"}
    r = owner_api.post("/api/generate-prompt", {"idea": "fox in snow", "style": "cinematic"},
                       format="json")
    assert r.status_code == 200, r.content
    assert r.json() == {"prompt": "A red fox trots through fresh snow at dawn.",
                        "negative_prompt": "blurry", "engine": "openai_compatible"}
    sent = llm.requests[0]["body"].decode()
    assert "fox in snow" in sent and "cinematic" in sent


def test_generate_prompt_without_an_llm_is_503(owner_api):
    configure(openai={})
    body = assert_error(owner_api.post("/api/generate-prompt", {"idea": "x"}, format="json"),
                        503, "engine_unavailable")
    assert "OPENAI_BASE_URL" in body["error"]


def test_generate_prompt_when_the_llm_is_down_is_503(owner_api, llm):
    llm.fail_next = [503] * 10
    configure(openai={"base_url": llm.base_url, "api_key": llm.api_key, "chat_model": "m",
                      "timeout": 2, "max_retries": 0})
    assert_error(owner_api.post("/api/generate-prompt", {"idea": "x"}, format="json"), 503)


def test_generate_prompt_with_unusable_output_is_502(owner_api, llm):
    llm.chat_json = lambda messages: {"something": "else"}
    assert_error(owner_api.post("/api/generate-prompt", {"idea": "x"}, format="json"), 502,
                 "engine_bad_output")


def test_generate_prompt_validates_and_needs_credentials(owner_api, api):
    assert "idea" in assert_error(owner_api.post("/api/generate-prompt", {}, format="json"),
                                  400)["fields"]
    assert_error(api.post("/api/generate-prompt", {"idea": "x"}, format="json"), 401)
