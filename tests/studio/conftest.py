from tests.media_tools.conftest import fake_stock, llm, media, run_jobs  # noqa: F401  (shared fixtures)
