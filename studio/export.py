"""Project export: the shots' videos, in order, with their transitions -> one video, with
each shot's own sound from the shot's start and the project's music under everything."""

from django.db import transaction

from assets.models import Asset
from billing.pricing import per_clip_cost
from billing.services import credit_account_get
from core.errors import ApplicationError, TierRequired
from studio.models import Project

RESOLUTIONS = {"720p": (1280, 720), "1080p": (1920, 1080), "4K": (3840, 2160)}
EXPORT_JOB = "project_export"
# Shot camera moves a still can make in the composer.
CAMERA_MOTION = {"dolly_in": "zoom_in", "dolly_out": "zoom_out", "pan_left": "pan_left",
                 "pan_right": "pan_right"}


def export_size(resolution: str, *, portrait: bool) -> tuple[int, int]:
    width, height = RESOLUTIONS[resolution]
    return (height, width) if portrait else (width, height)


def project_export(*, project: Project, resolution: str, idempotency_key: str | None = None,
                   webhook: str = ""):
    """Queue the export of a project (cost max(3, 2 x clips)); 403 above the plan's
    resolution, 400 when a shot has no video yet."""
    from jobs.services import job_submit

    shots = list(project.shots.select_related("asset", "audio").order_by("position", "id"))
    if not shots:
        raise ApplicationError("The project has no shots to export.", code="invalid",
                               fields={"shots": ["Add shots first."]})
    missing = [s.pk for s in shots if s.asset_id is None]
    if missing:
        raise ApplicationError(
            f"Every shot needs a video before export; shots without one: {missing}.",
            code="invalid", fields={"shots": [f"No video linked: {missing}."]},
            missing_shots=missing)
    tier = credit_account_get(user=project.owner).tier
    height = RESOLUTIONS[resolution][1]
    if height > tier.max_resolution:
        from billing.models import Tier

        needed = Tier.objects.filter(max_resolution__gte=height).order_by("rank").first()
        raise TierRequired(f"Your {tier.name} plan exports up to {tier.max_resolution_label}.",
                           required_tier=needed.slug if needed else None,
                           current_tier=tier.slug)
    first = shots[0].asset
    portrait = bool(first.width and first.height and first.height > first.width)
    width, height = export_size(resolution, portrait=portrait)
    params = {
        "project_id": project.pk, "resolution": resolution, "width": width, "height": height,
        "fps": 24,
        "clips": [{"asset": s.asset.name, "duration": s.asset.duration,
                   "has_audio": s.asset.has_audio, "transition": s.transition,
                   "shot_id": s.pk, "kind": s.asset.kind, "shot_duration": s.duration,
                   "camera_move": s.camera_move, "video_start": s.video_start,
                   "audio": s.audio.name if s.audio_id else None,
                   "audio_volume": s.audio_volume} for s in shots],
        "music": project.music.name if project.music_id else None,
        "music_volume": project.music_volume,
    }
    cost = per_clip_cost(operation="project_export", clips=len(shots))
    with transaction.atomic():
        job, _created = job_submit(owner=project.owner, kind=EXPORT_JOB, params=params,
                                   cost=cost, engine="ffmpeg", idempotency_key=idempotency_key,
                                   request_hash=f"export:{project.pk}:{resolution}",
                                   webhook_url=webhook)
    return job


def _owned(job, name: str) -> Asset:
    return Asset.objects.get(owner=job.owner, name=name)


def _shot_clip(job, ctx, item: dict):
    """The shot's clip, and its own sound (path and volume) or None."""
    from media_tools.composer import Clip
    from media_tools.outputs import materialise

    asset = _owned(job, item["asset"])
    path = materialise(asset, ctx.workdir, f"clip-{item['shot_id']}")
    shot_length = item.get("shot_duration")
    sound = None
    if item.get("audio"):
        # A shot whose sound was deleted since the export was queued plays without it.
        audio = Asset.objects.filter(owner=job.owner, name=item["audio"]).first()
        if audio is not None:
            sound = (materialise(audio, ctx.workdir, f"sound-{item['shot_id']}"),
                     item.get("audio_volume", 1.0))
    if asset.kind == Asset.Kind.IMAGE:
        # A still (a story's picture) is held for the shot's length with its camera move.
        return Clip(path=path, kind="image", duration=shot_length or 4.0,
                    motion=CAMERA_MOTION.get(item.get("camera_move"), "none"),
                    transition=item["transition"]), sound
    length = asset.duration or item["duration"]
    start = item.get("video_start") or 0.0
    if length and start >= length:
        start = 0.0  # the video was replaced by a shorter one since: play it from its start
    if shot_length and start + shot_length > length and (sound is not None or start > 0):
        # A shot with its own sound lasts the shot, so the words are not cut, and a shot that
        # begins inside its video is not cut short by the video's end: the video loops.
        return Clip(path=path, duration=length, has_audio=asset.has_audio, start=start,
                    end=start + shot_length, loop=True, transition=item["transition"]), sound
    return Clip(path=path, duration=length, has_audio=asset.has_audio, start=start,
                end=min(length, start + shot_length) if shot_length else None,
                transition=item["transition"]), sound


def _add_sound(job, ctx, timeline, sounds: list) -> None:
    """Each shot's sound from its clip's start on the timeline (transitions considered) to
    its clip's end; the project's music under the whole video, as a story's is."""
    from media_tools.composer import AudioTrack, clip_starts, music_track
    from media_tools.outputs import materialise

    starts = clip_starts(timeline)
    for clip, start, sound in zip(timeline.clips, starts, sounds, strict=True):
        if sound is not None and clip.length > 0:
            path, volume = sound
            timeline.audio.append(AudioTrack(path=path, role="narration", start=start,
                                             length=clip.length, volume=volume))
    name = job.params.get("music")
    music = Asset.objects.filter(owner=job.owner, name=name).first() if name else None
    if music is not None:
        timeline.audio.append(music_track(materialise(music, ctx.workdir, "music"),
                                          volume=job.params.get("music_volume", 0.3)))


def run_export(job, ctx) -> dict:
    """Job handler (media queue): compose the shots and store the result."""
    from media_tools.composer import Timeline, compose
    from media_tools.outputs import store_video

    params = job.params
    clips, sounds = [], []
    for item in params["clips"]:
        clip, sound = _shot_clip(job, ctx, item)
        clips.append(clip)
        sounds.append(sound)
    timeline = Timeline(width=params["width"], height=params["height"], fps=params["fps"],
                        clips=clips)
    _add_sound(job, ctx, timeline, sounds)
    watermark = credit_account_get(user=job.owner).tier.watermark
    if watermark:  # the Free plan's mark, drawn in the same encode
        from media_tools.watermark import watermark_timeline

        watermark_timeline(timeline, ctx.workdir / "watermark.png")
    output = ctx.workdir / "export.mp4"
    total = compose(timeline, output, progress=ctx.progress, is_canceled=ctx.is_canceled)
    asset = store_video(job, output, ctx.workdir)
    return {"outputs": [asset.name], "duration": total, "clips": len(clips),
            "watermark": watermark}
