"""Job handlers of the media tools: inputs from the job's params, one operation, results
stored as assets. `run` is registered for every kind (media_tools.apps) and dispatches."""

import json
from functools import cached_property
from pathlib import Path

from assets.models import Asset
from billing.pricing import duration_cost
from billing.services import credit_account_get
from engines import espeak
from engines.base import EngineError, RenderRequest
from engines.registry import get_engine, get_llm
from media_tools import audio, operations, subtitles
from media_tools.models import AudioGeneration
from media_tools.operations import Runner
from media_tools.outputs import materialise, store_output
from media_tools.watermark import watermark_image, watermark_video

TRANSLATE_BATCH = 40


class _Work:
    """One job's inputs and outputs."""

    def __init__(self, job, ctx):
        self.job, self.ctx, self.params = job, ctx, job.params
        # ffmpeg's own 0..1 fills most of the bar; storing the result is the rest.
        self.runner = Runner(progress=lambda f, stage: ctx.progress(f * 0.95, stage),
                             is_canceled=ctx.is_canceled)
        self.stored: list[Asset] = []

    def input(self, key: str, name: str | None = None) -> Path:
        asset = Asset.objects.get(owner=self.job.owner, name=name or self.params[key])
        return materialise(asset, self.ctx.workdir, f"in-{key}-{len(self.stored)}")

    def out(self, name: str) -> Path:
        return self.ctx.workdir / name

    def store(self, path: Path, kind: str) -> Asset:
        self.ctx.progress(0.97, "store")
        asset = store_output(self.job, path, kind=kind, workdir=self.ctx.workdir)
        self.stored.append(asset)
        return asset

    @cached_property
    def mark(self) -> bool:
        """Whether the owner's plan puts the watermark on what this job makes."""
        return credit_account_get(user=self.job.owner).tier.watermark

    def done(self, **result) -> dict:
        return {"outputs": [a.name for a in self.stored], **result}

    def done_visual(self, **result) -> dict:
        """The result of a job that makes pictures: says whether they carry the watermark."""
        return self.done(**result, watermark=self.mark)


def _read_srt(work: _Work, key: str = "srt") -> list[subtitles.Cue]:
    asset = Asset.objects.get(owner=work.job.owner, name=work.params[key])
    with asset.file.open("rb") as handle:
        content = handle.read(4 * 1024 * 1024).decode("utf-8", "replace")
    return subtitles.parse_srt(content)


def _store_srt(work: _Work, cues: list[subtitles.Cue]) -> Asset:
    path = work.out("subtitles.srt")
    path.write_text(subtitles.format_srt(cues), encoding="utf-8")
    return work.store(path, Asset.Kind.SUBTITLE)


# --- edits and tools --------------------------------------------------------------------------

def _trim(work: _Work) -> dict:
    out = work.out("trim.mp4")
    info = operations.trim(work.input("video"), out, start=work.params["start"],
                           end=work.params["end"], runner=work.runner, mark=work.mark)
    work.store(out, Asset.Kind.VIDEO)
    return work.done_visual(**info)


def _speed(work: _Work) -> dict:
    out = work.out("speed.mp4")
    info = operations.speed(work.input("video"), out, factor=work.params["factor"],
                            runner=work.runner, mark=work.mark)
    work.store(out, Asset.Kind.VIDEO)
    return work.done_visual(**info)


def _crop(work: _Work) -> dict:
    p, out = work.params, work.out("crop.mp4")
    info = operations.crop(work.input("video"), out, x=p["x"], y=p["y"], width=p["width"],
                           height=p["height"], runner=work.runner, mark=work.mark)
    work.store(out, Asset.Kind.VIDEO)
    return work.done_visual(**info)


def _resize(work: _Work) -> dict:
    out = work.out("resize.mp4")
    info = operations.resize(work.input("video"), out, width=work.params["width"],
                             height=work.params["height"], runner=work.runner,
                             mark=work.mark)
    work.store(out, Asset.Kind.VIDEO)
    return work.done_visual(**info)


def _text_overlay(work: _Work) -> dict:
    p, out = work.params, work.out("overlay.mp4")
    info = operations.text_overlay(work.input("video"), out, text=p["text"],
                                   workdir=work.ctx.workdir, position=p["position"],
                                   font_size=p["font_size"], color=p["color"], start=p["start"],
                                   end=p["end"], runner=work.runner, mark=work.mark)
    work.store(out, Asset.Kind.VIDEO)
    return work.done_visual(**info)


def _merge(work: _Work) -> dict:
    sources = [work.input(f"video{n}", name) for n, name in enumerate(work.params["videos"])]
    out = work.out("merge.mp4")
    info = operations.merge(sources, out, runner=work.runner, mark=work.mark)
    work.store(out, Asset.Kind.VIDEO)
    return work.done_visual(**info)


def _extract_frames(work: _Work) -> dict:
    outdir = work.out("frames")
    outdir.mkdir()
    mode = work.params["mode"]
    for path in operations.extract_frames(work.input("video"), outdir, mode=mode,
                                          runner=work.runner, mark=work.mark):
        work.store(path, Asset.Kind.ARCHIVE if path.suffix == ".zip" else Asset.Kind.IMAGE)
    return work.done_visual(mode=mode)


def _gif(work: _Work) -> dict:
    out = work.out("clip.gif")
    info = operations.video_to_gif(work.input("video"), out, width=work.params["width"],
                                   fps=work.params["fps"], runner=work.runner,
                                   mark=work.mark)
    work.store(out, Asset.Kind.IMAGE)
    return work.done_visual(**info)


def _watermark(work: _Work) -> dict:
    p, out = work.params, work.out("watermark.mp4")
    if p["type"] == "text":
        info = operations.watermark_text(work.input("video"), out, text=p["text"],
                                         workdir=work.ctx.workdir, position=p["position"],
                                         opacity=p["opacity"], runner=work.runner,
                                         mark=work.mark)
    else:
        info = operations.watermark_image(work.input("video"), out, image=work.input("image"),
                                          position=p["position"], opacity=p["opacity"],
                                          runner=work.runner, mark=work.mark)
    work.store(out, Asset.Kind.VIDEO)
    return work.done_visual(**info)


def _on_comfyui(work: _Work, *, workflow: str, inputs: dict[str, Path],
                params: dict | None = None) -> Path:
    """Run one of the repository's ComfyUI tool workflows (the request's model names it)."""
    outdir = work.out("engine")
    outdir.mkdir()
    request = RenderRequest(task="tool", model=workflow, params=params or {}, workdir=outdir,
                            inputs=inputs)
    outputs = get_engine("comfyui").render(
        request, progress=lambda f, stage: work.ctx.progress(f * 0.8, stage),
        is_canceled=work.ctx.is_canceled)
    if not outputs:
        raise EngineError("The engine returned no output.", code="no_output")
    return outputs[0].path


def _upscale(work: _Work) -> dict:
    factor = work.params["factor"]
    if work.job.engine != "comfyui":
        out = work.out("upscale.mp4")
        info = operations.upscale(work.input("video"), out, factor=factor, runner=work.runner,
                                  mark=work.mark)
        work.store(out, Asset.Kind.VIDEO)
        return work.done_visual(**info)
    # The workflow doubles the size with Real-ESRGAN; a 3x or 4x request gets the rest of
    # the way with lanczos, so the output is the size asked for.
    src = work.input("video")
    source = operations.probe_input(src)
    upscaled = _on_comfyui(work, workflow="upscale_video", inputs={"video": src},
                           params={"fps": round(source.fps or 24)})
    width, height = source.width * factor, source.height * factor
    result = operations.probe_input(upscaled)
    if (result.width, result.height) != (width, height):
        out = work.out("upscale.mp4")
        operations.resize(upscaled, out, width=width, height=height, runner=work.runner,
                          mark=work.mark)
        upscaled = out
    elif work.mark:
        upscaled = watermark_video(upscaled, work.out("upscale-marked.mp4"),
                                   is_canceled=work.ctx.is_canceled, duration=result.duration)
    work.store(upscaled, Asset.Kind.VIDEO)
    return work.done_visual(method="comfyui_realesrgan", width=width, height=height,
                            scale_factor=factor)


def _remove_background(work: _Work) -> dict:
    out = _on_comfyui(work, workflow="remove_background", inputs={"image": work.input("image")})
    if work.mark:
        out = watermark_image(out, work.out("background-removed.png"))
    work.store(out, Asset.Kind.IMAGE)
    return work.done_visual(method="comfyui")


def _face_swap(work: _Work) -> dict:
    """The face-swap workflow works on video: the target picture goes in as a one-frame clip
    and its frame comes back out as the result."""
    clip = operations.still_to_clip(work.input("image"), work.out("target.mp4"),
                                    runner=work.runner)
    swapped = _on_comfyui(work, workflow="face_swap",
                          inputs={"image": work.input("face"), "video": clip},
                          params={"fps": 1})
    (frame,) = operations.extract_frames(swapped, work.ctx.workdir, mode="first",
                                         runner=work.runner, mark=work.mark)
    work.store(frame, Asset.Kind.IMAGE)
    return work.done_visual(method="comfyui")


# --- audio and speech -------------------------------------------------------------------------

def _tts(work: _Work) -> dict:
    p = work.params
    work.ctx.progress(0.05, "tts")
    if work.job.engine == "espeak":
        raw = espeak.synthesize(p["text"], voice=p["voice"], target=work.out("speech.wav"),
                                speed=p["speed"])
    else:
        raw = get_llm("speech").speech(p["text"], voice=p["voice"],
                                       target=work.out("speech-engine.mp3"), speed=p["speed"])
    out = work.out("speech.mp3")
    seconds = audio.encode_mp3(raw, out, runner=work.runner)
    work.store(out, Asset.Kind.AUDIO)
    # Reserved on the estimate made at submission; charged on the measured length when that
    # is less (never more than was reserved).
    return work.done(engine=work.job.engine, voice_id=p["voice"], duration=seconds,
                     estimated_seconds=p["estimated_seconds"],
                     credits_used=duration_cost(operation="tts", seconds=seconds))


def _tts_to_video(work: _Work) -> dict:
    p, out = work.params, work.out("voiced.mp4")
    info = audio.add_voice(work.input("video"), work.input("voice"), out, offset=p["offset"],
                           volume=p["volume"], runner=work.runner, mark=work.mark)
    work.store(out, Asset.Kind.VIDEO)
    return work.done_visual(**info)


def _add_audio(work: _Work) -> dict:
    p, out = work.params, work.out("with-audio.mp4")
    info = audio.add_audio(work.input("video"), work.input("audio"), out, mode=p["mode"],
                           volume=p["volume"], runner=work.runner, mark=work.mark)
    work.store(out, Asset.Kind.VIDEO)
    return work.done_visual(**info)


def _generate_audio(work: _Work) -> dict:
    generation = AudioGeneration.objects.get(job=work.job)
    outdir = work.out("engine")
    outdir.mkdir()
    params = dict(work.params)
    # ACE-Step reads the style from its tags: the description leads them.
    params["tags"] = ", ".join(t for t in (params["prompt"], params.get("tags")) if t)
    request = RenderRequest(task="audio", model=work.job.model, params=params, workdir=outdir)
    engine = get_engine(work.job.engine)
    outputs = engine.render(request, progress=lambda f, stage: work.ctx.progress(f * 0.8, stage),
                            is_canceled=work.ctx.is_canceled)
    if not outputs:
        raise EngineError("The engine returned no output.", code="no_output")
    out = work.out("track.mp3")
    seconds = audio.encode_mp3(outputs[0].path, out, runner=work.runner)
    generation.asset = work.store(out, Asset.Kind.AUDIO)
    generation.save(update_fields=["asset", "updated_at"])
    return work.done(engine=engine.name, duration=seconds, generation_id=generation.pk)


# --- subtitles --------------------------------------------------------------------------------

def _subtitles_generate(work: _Work) -> dict:
    sound = work.out("speech.mp3")
    duration = audio.audio_for_transcription(work.input("video"), sound, runner=work.runner)
    work.ctx.progress(0.3, "transcribe")
    transcript = get_llm("transcription").transcribe(sound, language=work.params["language"])
    cues = subtitles.cues_from_transcript(transcript.segments)
    if not cues and transcript.text.strip():
        cues = [subtitles.Cue(0.0, duration, subtitles.clean_cue_text(transcript.text))]
    if not cues:
        raise EngineError("No speech was found in the video.", code="no_speech")
    _store_srt(work, cues)
    return work.done(language=transcript.language or work.params["language"], cues=len(cues))


def _subtitles_burn(work: _Work) -> dict:
    out = work.out("subtitled.mp4")
    info = subtitles.burn(work.input("video"), out, cues=_read_srt(work),
                          style=work.params["style"], workdir=work.ctx.workdir,
                          runner=work.runner, mark=work.mark)
    work.store(out, Asset.Kind.VIDEO)
    return work.done_visual(**info)


def _translate_batch(client, lines: list[str], language: str) -> list[str]:
    answer = client.chat_json([
        {"role": "system", "content": (
            "You translate subtitles. Translate every string of `lines` into the target "
            "language, keeping their order, count and line breaks. Answer with JSON: "
            '{"lines": ["...", ...]}.')},
        {"role": "user", "content": json.dumps({"target_language": language, "lines": lines},
                                               ensure_ascii=False)},
    ])
    translated = answer.get("lines") if isinstance(answer, dict) else None
    if (not isinstance(translated, list) or len(translated) != len(lines)
            or not all(isinstance(t, str) for t in translated)):
        raise EngineError("The translation did not keep one line per subtitle.",
                          code="engine_bad_output")
    return translated


def _subtitles_translate(work: _Work) -> dict:
    cues = _read_srt(work)
    client = get_llm("chat")
    language = work.params["target_language"]
    out: list[subtitles.Cue] = []
    for first in range(0, len(cues), TRANSLATE_BATCH):
        batch = cues[first:first + TRANSLATE_BATCH]
        work.ctx.progress(first / len(cues) * 0.9, "translate")
        texts = _translate_batch(client, [c.text for c in batch], language)
        out += [subtitles.Cue(c.start, c.end, subtitles.clean_cue_text(t) or c.text)
                for c, t in zip(batch, texts, strict=True)]
    _store_srt(work, out)
    return work.done(target_language=language, cues=len(out))


HANDLERS = {
    "edit_trim": _trim, "tool_trim_video": _trim, "edit_speed": _speed, "edit_crop": _crop,
    "edit_resize": _resize, "edit_text_overlay": _text_overlay, "edit_merge": _merge,
    "tool_extract_frames": _extract_frames, "tool_video_to_gif": _gif,
    "tool_add_watermark": _watermark, "tool_upscale_video": _upscale,
    "tool_remove_background": _remove_background, "tool_face_swap": _face_swap,
    "tts_generate": _tts, "tts_add_to_video": _tts_to_video, "video_add_audio": _add_audio,
    "generate_audio": _generate_audio, "subtitles_generate": _subtitles_generate,
    "subtitles_burn": _subtitles_burn, "subtitles_translate": _subtitles_translate,
}
# Kinds that run on an AI engine's queue rather than the CPU media workers.
GPU_KINDS = ("tool_remove_background", "tool_face_swap", "generate_audio")


def run(job, ctx) -> dict:
    """Job handler for every media tool kind."""
    return HANDLERS[job.kind](_Work(job, ctx))
