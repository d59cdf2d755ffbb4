"""Helpers shared by the browser journeys: signing up, saving a screenshot of what the person
sees, and checking a downloaded file with ffprobe."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Screenshots of each journey's final state, for a reviewer to look at after the run.
SCREENSHOT_DIR = Path(os.environ.get("REELFORGE_SCREENSHOT_DIR",
                                     ROOT / "var" / "test-output" / "screenshots"))


PASSWORD = "a-long-passphrase"  # the test accounts' password


def sign_up(page, username: str = "newcomer", password: str = PASSWORD) -> None:
    page.goto("/signup/")
    page.fill("#id_username", username)
    page.fill("#id_email", f"{username}@example.com")
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/dashboard/$"))


def screenshot(page, name: str) -> Path:
    """Save a full-page screenshot as `<name>.png` under the run's screenshot folder."""
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOT_DIR / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def download(page, click_selector: str, dest: Path) -> Path:
    """Click a download link or button and save what the browser receives at `dest`."""
    with page.expect_download() as info:
        page.click(click_selector)
    info.value.save_as(str(dest))
    return dest


def probe(path: Path) -> dict:
    """ffprobe's view of a file: duration (s), width, height, has_audio, size (bytes)."""
    out = subprocess.run(["ffprobe", "-v", "error", "-of", "json", "-show_format",
                          "-show_streams", str(path)], capture_output=True, text=True,
                         check=True, timeout=30)
    data = json.loads(out.stdout)
    video = next((s for s in data["streams"] if s["codec_type"] == "video"), {})
    return {
        "duration": float(data["format"].get("duration", 0)),
        "width": video.get("width"),
        "height": video.get("height"),
        "has_audio": any(s["codec_type"] == "audio" for s in data["streams"]),
        "size": path.stat().st_size,
        "format": data["format"].get("format_name"),
    }
