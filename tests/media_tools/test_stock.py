"""Pexels and Pixabay video search and download, against a real HTTP fake on loopback."""

import pytest

from engines.ffmpeg import probe
from media_tools.stock import (
    StockDownloadError,
    StockNotFoundError,
    StockUnavailableError,
    StockVideo,
    choose_rendition,
    stock_download,
    stock_providers,
    stock_search_videos,
)


@pytest.fixture
def fake(fake_stock):
    return fake_stock


def test_without_keys_no_provider_is_configured_and_search_says_unavailable(settings):
    settings.PEXELS_API_KEY = settings.PIXABAY_API_KEY = ""
    assert stock_providers() == []
    with pytest.raises(StockUnavailableError) as caught:
        stock_search_videos("ocean")
    assert caught.value.code == "stock_unavailable"


def test_the_providers_are_those_with_a_key(settings):
    settings.PEXELS_API_KEY, settings.PIXABAY_API_KEY = "", "k"
    assert stock_providers() == ["pixabay"]
    settings.PEXELS_API_KEY = "k"
    assert stock_providers() == ["pexels", "pixabay"]


def test_pexels_gets_the_key_in_the_authorization_header_and_the_1080p_portrait_file(fake):
    videos = stock_search_videos("ocean", orientation="portrait", per_page=5,
                                 provider="pexels")
    assert [(v.provider, v.id, v.width, v.height) for v in videos] == [
        ("pexels", "101", 1080, 1920)]
    assert videos[0].url.endswith("w=1080")
    assert (videos[0].duration, videos[0].author) == (12.0, "Pexels Person")
    assert videos[0].page_url == "https://www.pexels.com/video/101/"
    request = fake.requests[-1]
    assert request["path"] == "/pexels/videos/search"
    assert request["headers"]["authorization"] == fake.pexels_key
    assert request["query"] == {"query": "ocean", "orientation": "portrait", "per_page": "5"}


def test_pixabay_results_are_filtered_by_orientation_here(fake):
    videos = stock_search_videos("ocean", orientation="landscape", provider="pixabay")
    # 1101 is portrait; 1104's empty "large" rendition is skipped, "medium" is 1080p.
    assert [(v.id, v.width, v.height, v.author) for v in videos] == [
        ("1104", 1920, 1080, "pixabay_person")]
    assert fake.requests[-1]["query"]["key"] == fake.pixabay_key
    assert fake.requests[-1]["query"]["per_page"] == "10"


def test_both_providers_are_searched_pexels_first(fake):
    videos = stock_search_videos("city", orientation="landscape")
    assert [(v.provider, v.id) for v in videos] == [("pexels", "102"), ("pixabay", "1102")]


def test_videos_shorter_than_the_scene_are_left_out(fake):
    assert [v.id for v in stock_search_videos("forest")] == ["103", "1103"]
    assert stock_search_videos("forest", min_duration=5) == []


def test_renditions_over_4k_are_never_picked():
    files = [(7680, 4320, "https://cdn/8k"), (3840, 2160, "https://cdn/4k"),
             (1080, 1920, "https://cdn/portrait")]
    assert choose_rendition(files, "landscape") == (3840, 2160, "https://cdn/4k")
    assert choose_rendition(files[:1], "landscape") is None
    assert choose_rendition([(1000, 1020, "https://cdn/sq")], "square") is not None


@pytest.mark.parametrize("provider", ["pexels", "pixabay"])
def test_a_search_result_downloads_as_a_probed_video(fake, provider, tmp_path):
    video = stock_search_videos("waves", orientation="portrait", provider=provider)[0]
    path = stock_download(video, tmp_path / "clip.mp4")
    info = probe(path)
    assert (info.width, info.height, info.has_video) == (320, 568, True)
    assert info.duration == pytest.approx(2.0, abs=0.2)
    if provider == "pexels":  # its links go through a redirect, as on the real CDN
        assert fake.fetched("/pexels-files/101-2.mp4") and fake.fetched("/files/portrait.mp4")


@pytest.mark.parametrize("provider", ["pexels", "pixabay"])
def test_a_wrong_key_is_stock_unavailable_and_the_key_is_not_in_the_error(
        fake, settings, provider):
    secret = "sk-wrong-secret-4242"
    setattr(settings, f"{provider.upper()}_API_KEY", secret)
    with pytest.raises(StockUnavailableError) as caught:
        stock_search_videos("ocean", provider=provider)
    error = caught.value
    assert error.code == "stock_unavailable"
    assert "refused the configured API key" in error.message
    assert secret not in f"{error} {error.message} {error.detail!r} {error.__cause__!r}"


def test_a_rate_limit_is_stock_unavailable(fake):
    fake.fail_next = [429]
    with pytest.raises(StockUnavailableError, match="rate limit"):
        stock_search_videos("ocean", provider="pexels")


def test_one_failing_provider_does_not_hide_the_others_results(fake):
    fake.fail_next = [500]  # Pexels is asked first
    videos = stock_search_videos("ocean", orientation="portrait")
    assert [(v.provider, v.id) for v in videos] == [("pixabay", "1101")]


def test_a_playlist_served_as_mp4_is_refused_and_its_segment_never_fetched(fake, tmp_path):
    video = stock_search_videos("waves", orientation="portrait", provider="pixabay")[0]
    fake.serve_playlist = True
    target = tmp_path / "clip.mp4"
    with pytest.raises(StockDownloadError) as caught:
        stock_download(video, target)
    assert caught.value.code == "stock_download_failed"
    assert caught.value.detail["reason"] == "unsupported_media"
    assert list(tmp_path.iterdir()) == []
    assert not fake.fetched("/files/secret-segment.ts")


def test_the_ssrf_guard_refuses_loopback_unless_private_addresses_are_allowed(
        fake, settings, tmp_path):
    video = stock_search_videos("waves", orientation="portrait", provider="pixabay")[0]
    settings.STOCK_ALLOW_PRIVATE = False
    asked = len(fake.requests)
    with pytest.raises(StockDownloadError) as caught:
        stock_download(video, tmp_path / "clip.mp4")
    assert caught.value.detail["reason"] == "unsafe_url"
    with pytest.raises(StockUnavailableError) as refused:
        stock_search_videos("waves", provider="pexels")
    assert refused.value.detail["reason"] == "unsafe_url"
    assert len(fake.requests) == asked  # nothing reached the server
    assert list(tmp_path.iterdir()) == []


def test_a_file_the_provider_no_longer_has_is_stock_not_found(fake, tmp_path):
    gone = StockVideo(provider="pixabay", id="9", url=f"{fake.url}/files/gone.mp4", width=1080,
                      height=1920, duration=5, page_url="", author="")
    with pytest.raises(StockNotFoundError) as caught:
        stock_download(gone, tmp_path / "clip.mp4")
    assert caught.value.code == "stock_not_found"


def test_a_download_over_the_size_cap_is_refused(fake, settings, tmp_path):
    settings.STOCK_DOWNLOAD_MAX_BYTES = 1000
    video = stock_search_videos("waves", orientation="portrait", provider="pixabay")[0]
    with pytest.raises(StockDownloadError) as caught:
        stock_download(video, tmp_path / "clip.mp4")
    assert caught.value.detail["reason"] == "response_too_large"
    assert list(tmp_path.iterdir()) == []
