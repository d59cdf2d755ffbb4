"""Stock video search and download: Pexels and Pixabay, each switched on by its API key.

Every request, to the APIs and to the files they point at, goes through core.netguard's
safe_request: addresses are checked when connecting, redirects re-checked, bytes and time
capped. A downloaded file is kept only once it has passed the same validation as an upload
(magic bytes, then ffprobe behind the format whitelist), so a playlist served as `.mp4` never
reaches an encoder. Error messages never carry the API key nor a URL that holds it.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from django.conf import settings

from core.netguard import UnsafeUrl, safe_request
from engines import validation
from engines.base import EngineError, EngineUnavailableError

PROVIDERS = ("pexels", "pixabay")
ORIENTATIONS = ("portrait", "landscape", "square")
TARGET_SHORT_SIDE = 1080  # renditions nearest to 1080p are picked
MAX_LONG_SIDE, MAX_SHORT_SIDE = 4096, 2160  # anything larger is "over 4K" and skipped
API_MAX_BYTES = 5 * 1024 * 1024
_SQUARE_TOLERANCE = 0.05  # |w - h| / max(w, h) under this counts as square


class StockUnavailableError(EngineUnavailableError):
    """No provider is configured, or the provider refused the key, rate-limited us, failed or
    could not be reached."""

    code = "stock_unavailable"


class StockNotFoundError(EngineError):
    """The provider no longer has the file (HTTP 404 or 410 on download)."""

    code = "stock_not_found"


class StockDownloadError(EngineError):
    """The file could not be fetched safely, or is not a video we accept."""

    code = "stock_download_failed"


@dataclass(frozen=True)
class StockVideo:
    provider: str
    id: str
    url: str  # the chosen rendition's file
    width: int
    height: int
    duration: float
    page_url: str
    author: str


# --- configuration ----------------------------------------------------------------------------

def _keys() -> dict[str, str]:
    return {"pexels": settings.PEXELS_API_KEY, "pixabay": settings.PIXABAY_API_KEY}


def stock_providers() -> list[str]:
    """The providers whose API key is configured, in the order they are searched."""
    keys = _keys()
    return [name for name in PROVIDERS if keys[name]]


# --- search -----------------------------------------------------------------------------------

def stock_search_videos(query: str, *, orientation: str = "portrait", min_duration: float = 0,
                        per_page: int = 10, provider: str | None = None) -> list[StockVideo]:
    """Videos for `query` from every configured provider (or only `provider`), Pexels first.

    Each result carries one rendition: the one of the wanted orientation whose short side is
    nearest to 1080 pixels, never one over 4K; a video without such a rendition, or shorter
    than `min_duration` seconds, is left out. An empty list means the providers found
    nothing. StockUnavailableError when no provider is configured, or when every provider
    asked failed (the first failure is raised).
    """
    if orientation not in ORIENTATIONS:
        raise ValueError(f"orientation must be one of {ORIENTATIONS}")
    names = stock_providers()
    if provider is not None:
        names = [name for name in names if name == provider]
    if not names:
        raise StockUnavailableError("No stock video provider is configured.",
                                    detail={"provider": provider})
    results: list[StockVideo] = []
    failures: list[StockUnavailableError] = []
    for name in names:
        search = _search_pexels if name == "pexels" else _search_pixabay
        try:
            results += search(query, orientation=orientation, per_page=per_page)
        except StockUnavailableError as exc:
            failures.append(exc)
    if failures and len(failures) == len(names):
        raise failures[0]
    return [video for video in results if video.duration >= min_duration]


def _get_json(provider: str, url: str, headers: dict | None = None) -> dict:
    """GET an API URL and decode its JSON; StockUnavailableError on any failure. Neither the
    URL (Pixabay's holds the key) nor the body ever reaches the message. Redirects are not
    followed: the Authorization header would go along to wherever they point."""
    try:
        response = safe_request("GET", url, headers={"Accept": "application/json",
                                                     **(headers or {})},
                                timeout=settings.STOCK_TIMEOUT, max_bytes=API_MAX_BYTES,
                                allow_private=settings.STOCK_ALLOW_PRIVATE)
    except UnsafeUrl as exc:
        raise StockUnavailableError(f"The {provider} API address was refused: {exc.message}",
                                    detail={"provider": provider, "reason": exc.code}) from None
    except (OSError, TimeoutError):
        raise StockUnavailableError(f"The {provider} API could not be reached.",
                                    detail={"provider": provider}) from None
    if response.status in (401, 403) or (provider == "pixabay" and response.status == 400
                                         and b"key" in response.body.lower()):
        raise StockUnavailableError(f"The {provider} API refused the configured API key.",
                                    detail={"provider": provider, "status": response.status})
    if response.status == 429:
        raise StockUnavailableError(f"The {provider} API rate limit was reached.",
                                    detail={"provider": provider, "status": 429})
    if response.status != 200:
        raise StockUnavailableError(f"The {provider} API answered HTTP {response.status}.",
                                    detail={"provider": provider, "status": response.status})
    try:
        data = json.loads(response.body)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise StockUnavailableError(f"The {provider} API answered something other than JSON.",
                                    detail={"provider": provider})
    return data


def _search_pexels(query: str, *, orientation: str, per_page: int) -> list[StockVideo]:
    params = urlencode({"query": query, "orientation": orientation,
                        "per_page": min(max(per_page, 1), 80)})
    url = f"{settings.PEXELS_API_URL.rstrip('/')}/videos/search?{params}"
    data = _get_json("pexels", url, headers={"Authorization": settings.PEXELS_API_KEY})
    videos = []
    for hit in _list(data.get("videos")):
        files = [(_int(f.get("width")), _int(f.get("height")), str(f.get("link") or ""))
                 for f in _list(hit.get("video_files"))
                 if str(f.get("file_type") or "video/mp4") == "video/mp4"
                 and str(f.get("quality") or "") != "hls"]
        chosen = choose_rendition(files, orientation)
        if chosen is not None:
            user = hit.get("user") if isinstance(hit.get("user"), dict) else {}
            videos.append(StockVideo(
                provider="pexels", id=str(hit.get("id")), url=chosen[2], width=chosen[0],
                height=chosen[1], duration=_float(hit.get("duration")),
                page_url=str(hit.get("url") or ""), author=str(user.get("name") or "")))
    return videos


def _search_pixabay(query: str, *, orientation: str, per_page: int) -> list[StockVideo]:
    # Pixabay's video search has no orientation filter: the renditions are filtered here.
    params = urlencode({"key": settings.PIXABAY_API_KEY, "q": query[:100],
                        "per_page": min(max(per_page, 3), 200)})
    url = f"{settings.PIXABAY_API_URL.rstrip('/')}/videos/?{params}"
    data = _get_json("pixabay", url)
    videos = []
    for hit in _list(data.get("hits")):
        renditions = hit.get("videos") if isinstance(hit.get("videos"), dict) else {}
        files = [(_int(r.get("width")), _int(r.get("height")), str(r.get("url") or ""))
                 for r in renditions.values() if isinstance(r, dict)]
        chosen = choose_rendition(files, orientation)
        if chosen is not None:
            videos.append(StockVideo(
                provider="pixabay", id=str(hit.get("id")), url=chosen[2], width=chosen[0],
                height=chosen[1], duration=_float(hit.get("duration")),
                page_url=str(hit.get("pageURL") or ""), author=str(hit.get("user") or "")))
    return videos


def orientation_of(width: int, height: int) -> str:
    if abs(width - height) <= _SQUARE_TOLERANCE * max(width, height):
        return "square"
    return "portrait" if height > width else "landscape"


def choose_rendition(files: list[tuple[int, int, str]], orientation: str
                     ) -> tuple[int, int, str] | None:
    """The (width, height, url) of the wanted orientation whose short side is nearest to 1080
    (the larger one on a tie), skipping renditions over 4K and ones without a size or URL."""
    usable = [(w, h, url) for w, h, url in files
              if w > 0 and h > 0 and url.startswith(("http://", "https://"))
              and max(w, h) <= MAX_LONG_SIDE and min(w, h) <= MAX_SHORT_SIDE
              and orientation_of(w, h) == orientation]
    return min(usable, key=lambda f: (abs(min(f[0], f[1]) - TARGET_SHORT_SIDE),
                                      -min(f[0], f[1]), f[2]), default=None)


def _list(value) -> list[dict]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _float(value) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


# --- download ---------------------------------------------------------------------------------

def stock_download(video: StockVideo, target: Path) -> Path:
    """Fetch `video.url` into `target` and return it, once it has passed upload validation.

    The request goes through the SSRF guard (private addresses refused unless
    STOCK_ALLOW_PRIVATE, redirects re-checked, at most STOCK_DOWNLOAD_MAX_BYTES and
    STOCK_DOWNLOAD_TIMEOUT seconds). StockNotFoundError on HTTP 404/410; StockDownloadError
    when the address is refused, the transfer fails or is too large, or the bytes are not a
    video we accept (a playlist, a text file, a truncated file). Nothing is left at `target`
    after a failure.
    """
    target = Path(target)
    detail = {"provider": video.provider, "id": video.id}
    partial = target.with_name(target.name + ".part")
    try:
        with partial.open("wb") as sink:  # streamed to disk, never held in memory
            response = safe_request("GET", video.url, timeout=settings.STOCK_DOWNLOAD_TIMEOUT,
                                    max_bytes=settings.STOCK_DOWNLOAD_MAX_BYTES,
                                    max_redirects=3, sink=sink,
                                    allow_private=settings.STOCK_ALLOW_PRIVATE)
    except UnsafeUrl as exc:
        partial.unlink(missing_ok=True)
        raise StockDownloadError(f"The stock video could not be fetched: {exc.message}",
                                 detail={**detail, "reason": exc.code}) from None
    except (OSError, TimeoutError):
        partial.unlink(missing_ok=True)
        raise StockDownloadError("The stock video could not be fetched in time.",
                                 detail=detail) from None
    if response.status != 200:
        partial.unlink(missing_ok=True)
        if response.status in (404, 410):
            raise StockNotFoundError("The stock video is no longer available.",
                                     detail={**detail, "status": response.status})
        raise StockDownloadError(f"The stock video server answered HTTP {response.status}.",
                                 detail={**detail, "status": response.status})
    try:
        validation.validate_media(partial, kind="video",
                                  max_bytes=settings.STOCK_DOWNLOAD_MAX_BYTES,
                                  max_duration=settings.UPLOAD_MAX_DURATION,
                                  max_pixels=settings.MAX_VIDEO_PIXELS)
    except EngineError as exc:
        partial.unlink(missing_ok=True)
        raise StockDownloadError(f"The stock file is not a video we accept: {exc.message}",
                                 detail={**detail, "reason": exc.code}) from None
    os.replace(partial, target)
    return target
