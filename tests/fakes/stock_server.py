"""A fake Pexels + Pixabay video API on loopback, speaking the real response shapes.

Pexels lives at `{url}/pexels` (GET /videos/search, key in the Authorization header), Pixabay at
`{url}/pixabay/api` (GET /videos/?key=...). Every rendition links to one of two small real mp4
files (320x568 and 568x320, 2 s), Pexels' through a redirect as on its CDN. Setting
`serve_playlist` makes every file an HLS playlist whose segment URL is recorded if anyone
ever asks for it.
"""

import json
import subprocess
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

# id, orientation, duration (s), tags: what both providers "have".
CATALOGUE = (
    (101, "portrait", 12, ("ocean", "waves", "sea", "water")),
    (102, "landscape", 8, ("city", "night", "traffic", "lights")),
    (103, "portrait", 3, ("forest", "nature", "trees")),
    (104, "landscape", 15, ("ocean", "beach", "sunset")),
)
# Sizes as the providers list them: (width, height) of a landscape rendition.
PEXELS_SIZES = ((640, 360, "sd"), (1280, 720, "hd"), (1920, 1080, "hd"), (3840, 2160, "uhd"),
                (7680, 4320, "uhd"))
PIXABAY_SIZES = {"large": (3840, 2160), "medium": (1920, 1080), "small": (1280, 720),
                 "tiny": (960, 540)}

_files_lock = threading.Lock()
_files: dict[str, bytes] = {}


def sample_files() -> dict[str, bytes]:
    """The two real mp4 files, made once per test process."""
    with _files_lock:
        if not _files:
            with tempfile.TemporaryDirectory() as tmp:
                for name, size in (("portrait", "320x568"), ("landscape", "568x320")):
                    out = Path(tmp) / f"{name}.mp4"
                    subprocess.run(
                        ["ffmpeg", "-hide_banner", "-v", "error", "-nostdin", "-y", "-f",
                         "lavfi", "-i", f"testsrc2=s={size}:r=12:d=2", "-c:v", "libx264",
                         "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-movflags",
                         "+faststart", str(out)], check=True, timeout=60)
                    _files[name] = out.read_bytes()
        return dict(_files)


def _sized(orientation: str, width: int, height: int) -> tuple[int, int]:
    return (height, width) if orientation == "portrait" else (width, height)


class FakeStock:
    def __init__(self, *, pexels_key: str = "pexels-test-key",
                 pixabay_key: str = "pixabay-test-key"):
        self.pexels_key = pexels_key
        self.pixabay_key = pixabay_key
        self.requests: list[dict] = []
        self.serve_playlist = False
        self.fail_next: list[int] = []  # statuses answered to API calls before behaving
        self.files = sample_files()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _send(self, status: int, body: bytes, ctype: str = "application/json",
                      headers: dict | None = None):
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                parts = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                fake.requests.append({"path": parts.path, "query": query,
                                      "headers": {k.lower(): v for k, v in self.headers.items()}})
                if parts.path.startswith(("/pexels/", "/pixabay/")) and fake.fail_next:
                    status = fake.fail_next.pop(0)
                    return self._send(status, json.dumps({"error": "simulated"}).encode())
                if parts.path == "/pexels/videos/search":
                    return self._pexels(query)
                if parts.path == "/pixabay/api/videos/":
                    return self._pixabay(query)
                if parts.path.startswith("/pexels-files/"):
                    # Pexels' links redirect to its CDN.
                    orientation = query.get("o", "portrait")
                    return self._send(302, b"", headers={
                        "Location": f"/files/{orientation}.mp4?w={query.get('w', '')}"})
                if parts.path.startswith("/files/"):
                    return self._file(parts.path.removeprefix("/files/"))
                return self._send(404, b'{"error": "not found"}')

            def _pexels(self, query: dict):
                if self.headers.get("Authorization") != fake.pexels_key:
                    return self._send(401, b'{"error": "Unauthorized"}')
                words = set(query.get("query", "").lower().split())
                wanted = query.get("orientation")
                per_page = int(query.get("per_page", 15))
                videos = []
                for vid, orientation, duration, tags in CATALOGUE:
                    if (words and not words & set(tags)) or (wanted and wanted != orientation):
                        continue
                    files = [{"id": vid * 10 + i, "quality": quality, "file_type": "video/mp4",
                              "width": _sized(orientation, w, h)[0],
                              "height": _sized(orientation, w, h)[1], "fps": 25.0,
                              "link": f"{fake.url}/pexels-files/{vid}-{i}.mp4"
                                      f"?o={orientation}&w={_sized(orientation, w, h)[0]}"}
                             for i, (w, h, quality) in enumerate(PEXELS_SIZES)]
                    files.append({"id": vid * 10 + 9, "quality": "hls", "file_type": "video/mp4",
                                  "width": None, "height": None, "fps": None,
                                  "link": f"{fake.url}/files/playlist.m3u8"})
                    videos.append({"id": vid, "width": files[2]["width"],
                                   "height": files[2]["height"], "duration": duration,
                                   "url": f"https://www.pexels.com/video/{vid}/",
                                   "image": f"https://images.pexels.com/videos/{vid}.jpeg",
                                   "user": {"id": 7, "name": "Pexels Person",
                                            "url": "https://www.pexels.com/@person"},
                                   "video_files": files, "video_pictures": []})
                body = {"page": 1, "per_page": per_page, "total_results": len(videos),
                        "url": "https://www.pexels.com/search/videos/",
                        "videos": videos[:per_page]}
                self._send(200, json.dumps(body).encode())

            def _pixabay(self, query: dict):
                if query.get("key") != fake.pixabay_key:
                    return self._send(400, b'[ERROR 400] "key" is not a valid API key.',
                                      ctype="text/plain")
                per_page = int(query.get("per_page", 20))
                if not 3 <= per_page <= 200:
                    return self._send(400, b"[ERROR 400] per_page out of valid range.",
                                      ctype="text/plain")
                words = set(query.get("q", "").lower().split())
                hits = []
                for vid, orientation, duration, tags in CATALOGUE:
                    if words and not words & set(tags):
                        continue
                    videos = {}
                    for name, (w, h) in PIXABAY_SIZES.items():
                        width, height = _sized(orientation, w, h)
                        videos[name] = {"url": f"{fake.url}/files/{orientation}.mp4?w={width}",
                                        "width": width, "height": height, "size": 1000,
                                        "thumbnail": ""}
                    if vid == 104:  # Pixabay leaves renditions it lacks empty
                        videos["large"] = {"url": "", "width": 0, "height": 0, "size": 0,
                                           "thumbnail": ""}
                    hits.append({"id": vid + 1000, "pageURL": f"https://pixabay.com/videos/{vid}/",
                                 "type": "film", "tags": ", ".join(tags), "duration": duration,
                                 "videos": videos, "views": 1, "downloads": 1,
                                 "user_id": 9, "user": "pixabay_person", "userImageURL": ""})
                body = {"total": len(hits), "totalHits": len(hits), "hits": hits[:per_page]}
                self._send(200, json.dumps(body).encode())

            def _file(self, name: str):
                if name == "secret-segment.ts":
                    return self._send(200, b"\x47" * 188, ctype="video/mp2t")
                if fake.serve_playlist or name == "playlist.m3u8":
                    playlist = ("#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.0,\n"
                                f"{fake.url}/files/secret-segment.ts\n#EXT-X-ENDLIST\n")
                    return self._send(200, playlist.encode(), ctype="video/mp4")
                stem = name.removesuffix(".mp4")
                if stem not in fake.files:
                    return self._send(404, b"not found", ctype="text/plain")
                self._send(200, fake.files[stem], ctype="video/mp4")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.pexels_url = f"{self.url}/pexels"
        self.pixabay_url = f"{self.url}/pixabay/api"
        # A short poll interval: shutdown() waits up to one interval, once per test.
        self._thread = threading.Thread(target=self.server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)

    def fetched(self, path: str) -> bool:
        return any(r["path"] == path for r in self.requests)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
