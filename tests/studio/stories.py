"""Helpers for the story tests: measure what came out."""

import subprocess
from array import array
from pathlib import Path

from assets.models import Asset
from jobs.models import Job
from studio.models import Project, Story


def story_of(response) -> Story:
    assert response.status_code in (200, 202), response.content
    return Story.objects.get(pk=response.json()["story_id"])


def completed(story: Story) -> Story:
    story.refresh_from_db()
    job = Job.objects.get(pk=story.job_id)
    assert job.status == "completed", (job.error_code, job.error_message)
    return story


def path_of(asset: Asset) -> Path:
    return Path(asset.file.path)


def samples(path: Path, *, start: float, length: float, rate: int = 16000) -> array:
    """Mono 16-bit samples of a stretch of the file's audio."""
    out = subprocess.run(["ffmpeg", "-v", "error", "-ss", f"{start:.3f}", "-t", f"{length:.3f}",
                          "-i", str(path), "-vn", "-ac", "1", "-ar", str(rate), "-f", "s16le",
                          "-"], capture_output=True, check=True).stdout
    return array("h", out)


def rms(values: array) -> float:
    if not values:
        return 0.0
    return (sum(v * v for v in values) / len(values)) ** 0.5


def frame(path: Path, at: float, *, size: str | None = None) -> tuple[int, int, bytes]:
    """(width, height, RGB bytes) of the frame at `at` seconds."""
    import io

    from PIL import Image

    png = subprocess.run(["ffmpeg", "-v", "error", "-ss", f"{at:.3f}", "-i", str(path),
                          "-frames:v", "1", "-f", "image2pipe", "-vcodec", "png", "-"],
                         capture_output=True, check=True).stdout
    image = Image.open(io.BytesIO(png)).convert("RGB")
    return image.width, image.height, image.tobytes()


def export(api, project: Project, capture) -> Path:
    """Export `project` at 720p through the API, run inline; the exported video's path."""
    with capture(execute=True):
        r = api.post(f"/api/projects/{project.pk}/export", {"resolution": "720p"},
                     format="json")
    assert r.status_code == 202, r.content
    job = Job.objects.get(public_id=r.json()["job_id"])
    assert job.status == "completed", (job.error_code, job.error_message)
    return path_of(Asset.objects.get(name=job.result["outputs"][0]))
