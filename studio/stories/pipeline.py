"""The story pipeline: script -> scenes -> narration -> visuals -> captions -> music ->
compose -> metadata, as a list of steps.

Each step stores what it makes (script and scenes on their rows, narration and pictures as
assets) and skips what is already stored, so a job that is re-run after a crash, a resumed
story or a regenerated scene only does the missing work. The composition is one ffmpeg
filtergraph (media_tools.composer), encoded once.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction

from assets.models import Asset
from engines import espeak, ffmpeg
from engines.base import EngineError, EngineUnavailableError, RenderRequest
from engines.registry import get_engine, get_llm
from media_tools.composer import TRANSITION
from media_tools.outputs import materialise, store_output, store_video
from studio.models import Story, StoryScene
from studio.stories import options as o
from studio.stories import script as words_of
from studio.stories.services import narration_shares, scene_seconds, story_scenes_create

INTERMEDIATE = Asset.Origin.INTERMEDIATE
MOTIONS = ("zoom_in", "pan_right", "zoom_out", "pan_left")
SHOT_MOVES = {"zoom_in": "dolly_in", "zoom_out": "dolly_out", "pan_left": "pan_left",
              "pan_right": "pan_right"}
# As long as a studio transition, so that the story's project exports with the same timing.
TRANSITION_SECONDS = TRANSITION


@dataclass
class Run:
    story: Story
    job: object
    ctx: object
    scenes: list[StoryScene] = field(default_factory=list)
    music: Path | None = None
    effects: dict[str, Path] = field(default_factory=dict)
    subtitles: Path | None = None
    srt: Asset | None = None
    timings: list[tuple[float, float]] = field(default_factory=list)  # (start, length)
    layouts: dict = field(default_factory=dict)  # scene index -> frame template layout
    result: dict = field(default_factory=dict)

    @property
    def opts(self) -> dict:
        return self.story.options

    @property
    def workdir(self) -> Path:
        return self.ctx.workdir

    def keep(self, path: Path, kind: str) -> Asset:
        """Store an intermediate file (kept for resuming and editing, not a job output)."""
        return store_output(self.job, path, kind=kind, workdir=self.workdir, origin=INTERMEDIATE)

    def local(self, asset: Asset, stem: str) -> Path:
        return materialise(asset, self.workdir, stem)

    def reload_scenes(self) -> None:
        self.scenes = list(self.story.scenes.select_related("speech", "visual", "shot"))


def _llm(capability: str):
    try:
        return get_llm(capability)
    except EngineUnavailableError:
        return None


# --- script and scenes ------------------------------------------------------------------------

def step_script(run: Run) -> None:
    story, opts = run.story, run.opts
    if story.script:
        return
    if story.narration_id:
        _script_from_narration(run)
        return
    if opts["mode"] == "generate":
        client = get_llm("chat")
        answer = words_of.llm_script(client, topic=story.prompt, n_scenes=opts["n_scenes"],
                                     language=opts["language"], title=story.title)
        with transaction.atomic():
            story.script = "\n\n".join(s["text"] for s in answer["scenes"])
            story.script_method = "llm"
            story.title = story.title or answer["title"]
            story.save(update_fields=["script", "script_method", "title", "updated_at"])
            story_scenes_create(story=story, scenes=answer["scenes"])
        return
    story.script, story.script_method = story.prompt, "fixed"
    story.save(update_fields=["script", "script_method", "updated_at"])


def _script_from_narration(run: Run) -> None:
    """An uploaded narration: the scenes are its stretches of speech, timed by the
    transcription engine, or by the given script spread over the track's length."""
    story, opts = run.story, run.opts
    path = run.local(story.narration, "narration")
    total = ffmpeg.probe(path).duration or 0.0
    script = (opts.get("script") or "").strip()
    if script:
        texts = words_of.split_scenes(script, opts.get("n_scenes"), max_scenes=o.MAX_SCENES)
        scenes, start = [], 0.0
        for text, length in zip(texts, narration_shares(texts, total), strict=True):
            scenes.append({"text": text, "speech_start": start, "speech_duration": length,
                           "words": _spread(text, length), "words_source": "spread"})
            start += length
        method = "fixed"
    else:
        transcript = get_llm("transcription").transcribe(path, language=opts["language"])
        script = transcript.text.strip()
        if not script:
            raise EngineError("No speech was found in the uploaded narration.",
                              code="no_speech")
        scenes = _scenes_from_transcript(transcript, opts.get("n_scenes") or o.DEFAULT_SCENES,
                                         total)
        method = "transcript"
    for scene in scenes:
        scene["visual"] = " ".join(words_of.keywords(scene["text"]))
    with transaction.atomic():
        story.script, story.script_method, story.duration = script, method, total
        story.save(update_fields=["script", "script_method", "duration", "updated_at"])
        story_scenes_create(story=story, scenes=scenes)


def _scenes_from_transcript(transcript, n_scenes: int, total: float) -> list[dict]:
    segments = transcript.segments or [{"start": 0.0, "end": total, "text": transcript.text}]
    groups = [[s] for s in segments]
    while len(groups) > n_scenes:
        i = min(range(len(groups) - 1), key=lambda k: (groups[k + 1][-1]["end"]
                                                        - groups[k][0]["start"]))
        groups[i:i + 2] = [groups[i] + groups[i + 1]]
    scenes = []
    for n, group in enumerate(groups):
        start = 0.0 if n == 0 else group[0]["start"]
        end = total if n == len(groups) - 1 else groups[n + 1][0]["start"]
        words = [[w["word"].strip(), round(w["start"] - start, 3), round(w["end"] - start, 3)]
                 for w in transcript.words if start <= w["start"] < end and w["word"].strip()]
        text = " ".join(s["text"] for s in group).strip()
        scenes.append({"text": text, "speech_start": start, "speech_duration": end - start,
                       "words": words or _spread(text, end - start),
                       "words_source": "engine" if words else "spread"})
    return scenes


def _spread(text: str, length: float, offset: float = 0.0) -> list[list]:
    from media_tools.captions import spread_words

    return [[w.text, round(w.start, 3), round(w.end, 3)]
            for w in spread_words(text, offset, offset + max(0.1, length))]


def step_scenes(run: Run) -> None:
    story, opts = run.story, run.opts
    if not story.scenes.exists():
        texts = words_of.split_scenes(story.script, opts.get("n_scenes"),
                                      max_scenes=o.MAX_SCENES)
        story_scenes_create(story=story, scenes=[
            {"text": t, "visual": " ".join(words_of.keywords(t))} for t in texts])
    run.reload_scenes()


# --- narration --------------------------------------------------------------------------------

def step_narration(run: Run) -> None:
    if run.story.narration_id:
        return  # the uploaded track, timed by the script step
    todo = [s for s in run.scenes if s.speech_id is None]
    transcriber = _llm("transcription") if run.opts.get("burn_captions") else None
    for n, scene in enumerate(todo):
        run.ctx.progress(0.1 + 0.25 * n / max(1, len(todo)), "narration")
        _speak(run, scene, transcriber)
    run.reload_scenes()


def _speak(run: Run, scene: StoryScene, transcriber) -> None:
    voice = scene.voice or run.opts["voice"]
    speed = run.opts.get("voice_speed", 1.0)
    base = run.workdir / f"speech-{scene.index}-r{scene.revision}"
    if voice in espeak.VOICES:
        raw = espeak.synthesize(scene.text, voice=voice, target=base.with_suffix(".wav"),
                                speed=speed)
    else:
        raw = get_llm("speech").speech(scene.text, voice=voice, speed=speed,
                                       target=base.with_suffix(".mp3"))
    length = ffmpeg.probe(raw).duration or 0.0
    words, source = None, "spread"
    if transcriber is not None:
        try:
            transcript = transcriber.transcribe(raw, language=run.opts["language"])
            words = [[w["word"].strip(), round(w["start"], 3), round(w["end"], 3)]
                     for w in transcript.words if w["word"].strip()]
            source = "engine" if words else "spread"
        except EngineError:
            words = None  # captions fall back to the spread timing
    asset = run.keep(raw, Asset.Kind.AUDIO)
    scene.speech, scene.speech_duration, scene.speech_start = asset, length, 0.0
    scene.words, scene.words_source = words or _spread(scene.text, length), source
    scene.save(update_fields=["speech", "speech_duration", "speech_start", "words",
                              "words_source", "updated_at"])


# --- visuals ----------------------------------------------------------------------------------

def step_visuals(run: Run) -> None:
    source = run.opts["video_source"]
    todo = [s for s in run.scenes if s.visual_id is None]
    if not todo:
        return
    if source in o.BACKGROUNDS:
        _background(run, todo)
    else:
        used = {s.visual_source for s in run.scenes if s.visual_source}
        for n, scene in enumerate(todo):
            run.ctx.progress(0.35 + 0.3 * n / len(todo), "visuals")
            asset, label = _visual_for(run, scene, used)
            used.add(label)
            _set_visual(scene, asset, label)
    run.reload_scenes()


def _set_visual(scene: StoryScene, asset: Asset, label: str, start: float = 0.0) -> None:
    scene.visual, scene.visual_source, scene.visual_start = asset, label, start
    scene.save(update_fields=["visual", "visual_source", "visual_start", "updated_at"])
    if scene.shot_id:
        # The shot begins where the scene does in its video (a shared background continues).
        scene.shot.asset, scene.shot.video_start = asset, start
        if asset.kind == Asset.Kind.IMAGE:  # the studio export moves the still the same way
            scene.shot.camera_move = SHOT_MOVES[MOTIONS[(scene.index - 1) % len(MOTIONS)]]
        scene.shot.save(update_fields=["asset", "camera_move", "video_start", "updated_at"])


def _query(scene: StoryScene) -> str:
    return " ".join(words_of.keywords(scene.visual_prompt or scene.text)) or scene.text[:60]


def _visual_for(run: Run, scene: StoryScene, used: set[str]) -> tuple[Asset, str]:
    source = run.opts["video_source"]
    if source == "assets":
        names = run.opts["visuals"]
        name = names[(scene.index - 1) % len(names)]
        return Asset.objects.get(owner=run.story.owner, name=name), f"asset:{name}"
    if source in ("ai_scenery", "ai_video"):
        return _generate_visual(run, scene)
    return _stock(run, scene, used)


def _scene_frames(run: Run, scene: StoryScene) -> int:
    """A generated clip as long as its scene at the model's frame rate, on the model's frame
    rule, up to the longest clip the model and the plan allow (a longer scene loops it)."""
    from generation.catalogue import MODELS
    from studio.stories.services import clip_frames

    params = run.opts["visual"]["params"]
    last = scene.index == max(s.index for s in run.scenes)
    return clip_frames(seconds=_scene_length(run, scene, last=last), fps=params["fps"],
                       rule=MODELS[run.opts["visual"]["model"]].frame_rule,
                       cap=params["frames"])


def clip_savings(run: Run) -> int:
    """Credits reserved for the clips this job generated but not owed for them: each clip is
    charged at the lesser of its quote (stored in the story's options) and the frames it
    asked for (the same pure function of the stored scene, so a re-run job finds the same
    figure)."""
    from generation.catalogue import MODELS, model_cost
    from studio.stories.services import scene_quote

    visual = run.opts.get("visual")
    if run.opts["video_source"] != "ai_video" or not visual:
        return 0
    spec, saved = MODELS[visual["model"]], 0
    for scene in run.scenes:
        if scene.visual_id and scene.visual.source_job_id == run.job.public_id:
            cost = model_cost(spec, frames=_scene_frames(run, scene),
                              steps=visual["params"]["steps"])
            saved += max(0, scene_quote(opts=run.opts, index=scene.index) - cost)
    return saved


def _generate_visual(run: Run, scene: StoryScene) -> tuple[Asset, str]:
    visual = run.opts["visual"]
    style = run.opts.get("ai_scenery_prompt", "")
    prompt = ", ".join(p for p in (scene.visual_prompt or scene.text, style) if p)[:2000]
    params = {**visual["params"], "prompt": prompt,
              "seed": (visual["params"].get("seed", 0) + scene.index * 7919
                       + scene.revision) % 2**32}
    if run.opts["video_source"] == "ai_video":
        params["frames"] = _scene_frames(run, scene)
    outdir = run.workdir / f"visual-{scene.index}-r{scene.revision}"
    outdir.mkdir()
    engine = get_engine(visual["engine"])
    outputs = engine.render(RenderRequest(task=params["task"], model=visual["model"],
                                          params=params, workdir=outdir),
                            progress=lambda f, stage: None, is_canceled=run.ctx.is_canceled)
    if not outputs:
        raise EngineError("The engine returned no picture.", code="no_output")
    out = outputs[0]
    asset = run.keep(out.path, Asset.Kind.IMAGE if out.kind == "image" else Asset.Kind.VIDEO)
    return asset, f"{engine.name}:{visual['model']}:{scene.index}.{scene.revision}"


def _stock(run: Run, scene: StoryScene, used: set[str]) -> tuple[Asset, str]:
    """A stock clip for the scene: the providers asked with the scene's keywords, then its
    main word, then the story's keywords, in the story's orientation and then any; the
    operator's library when the providers have nothing (or none is configured)."""
    from media_tools import library, stock

    query = _query(scene)
    if stock.stock_providers():
        words = query.split()
        queries = list(dict.fromkeys([query, words[0] if words else query,
                                      " ".join(words_of.keywords(run.story.script, count=2))]))
        wanted = o.orientation(run.opts["video_format"])
        for orientation in dict.fromkeys([wanted, "landscape", "portrait"]):
            for text in filter(None, queries):
                try:
                    hits = stock.stock_search_videos(text, orientation=orientation,
                                                     per_page=10)
                except EngineError:
                    hits = []  # providers down: the library answers instead
                fresh = [h for h in hits if f"{h.provider}:{h.id}" not in used]
                hit = (fresh or hits or [None])[0]
                if hit is not None:
                    path = stock.stock_download(hit, run.workdir / f"stock-{scene.index}.mp4")
                    return run.keep(path, Asset.Kind.VIDEO), f"{hit.provider}:{hit.id}"
    used_ids = [int(u.split(":")[1]) for u in used if u.startswith("library:")]
    items = library.library_search("stock_video", query, count=1, exclude_ids=used_ids)
    if not items:
        raise EngineError("No stock footage was found for this scene, and the stock library "
                          "is empty.", code="stock_not_found")
    return _from_library(run, items[0]), f"library:{items[0].pk}"


def _library_path(run: Run, item) -> Path:
    from media_tools.library import library_item_local_path

    return library_item_local_path(item, run.workdir)


def _from_library(run: Run, item) -> Asset:
    """The library clip stored as one of the user's files (a scene's picture, a shot's video)."""
    return run.keep(_library_path(run, item), Asset.Kind.VIDEO)


def _background(run: Run, todo: list[StoryScene]) -> None:
    """One looping background for the whole story, each scene continuing where the previous
    one stopped."""
    from media_tools import library

    shared = next((s for s in run.scenes if s.visual_id), None)
    if shared is not None:
        asset, label = shared.visual, shared.visual_source
    else:
        items = library.library_search(run.opts["video_source"], run.story.prompt[:200],
                                       count=1)
        if not items:
            raise EngineError("The background library is empty.", code="stock_not_found")
        asset, label = _from_library(run, items[0]), f"library:{items[0].pk}"
    offset = 0.0
    for scene in run.scenes:
        if scene.visual_id is None:
            _set_visual(scene, asset, label, start=offset % max(1.0, asset.duration or 1.0))
        offset += _scene_length(run, scene, last=False)


# --- timing, captions, music ------------------------------------------------------------------

def _overlap(run: Run) -> float:
    return 0.0 if run.opts.get("transition", "cut") == "cut" else TRANSITION_SECONDS


def _scene_length(run: Run, scene: StoryScene, *, last: bool) -> float:
    """A scene lasts its speech and a short pause, plus the transition into the next one
    (which overlaps the two pictures, not the two voices)."""
    # One uploaded track: the scenes follow its timing exactly.
    return scene_seconds(opts=run.opts, speech=scene.speech_duration,
                         uploaded=bool(run.story.narration_id), last=last)


def _timings(run: Run) -> list[tuple[float, float]]:
    timings, start = [], 0.0
    for n, scene in enumerate(run.scenes):
        length = _scene_length(run, scene, last=n == len(run.scenes) - 1)
        timings.append((start, length))
        start += length - (_overlap(run) if n < len(run.scenes) - 1 else 0.0)
    return timings


def step_captions(run: Run) -> None:
    """Caption groups over the whole timeline: always an SRT (an output), and the ASS file
    the composer burns in when captions are asked for."""
    from media_tools import captions

    run.timings = _timings(run)
    groups = []
    for scene, (start, _length) in zip(run.scenes, run.timings, strict=True):
        words = [captions.Word(w[0], start + w[1], start + w[2]) for w in scene.words]
        groups += captions.group_lines(words, max_chars=_line_chars(run))
    srt = captions.write_srt(groups, run.workdir / "captions.srt")
    run.srt = store_output(run.job, srt, kind=Asset.Kind.SUBTITLE, workdir=run.workdir)
    if run.opts.get("template"):
        run.layouts = _frames(run)
    if run.opts.get("burn_captions"):
        # Around a frame template the captions go where its layout leaves room.
        bands = [layout.caption_safe for layout in run.layouts.values() if layout.caption_safe]
        run.subtitles = run.workdir / "captions.ass"
        captions.write_ass(groups, run.subtitles, style=run.opts["caption_style"],
                           width=run.opts["width"], height=run.opts["height"],
                           text_transform=run.opts.get("text_transform", "standard"),
                           position=run.opts.get("caption_position", "bottom"),
                           band=bands[0] if bands else None)


def _line_chars(run: Run) -> int:
    portrait = run.opts["height"] > run.opts["width"]
    style = run.opts.get("caption_style", "classic")
    return {"segnals": 14, "clonevest": 22 if portrait else 34}.get(
        style, 28 if portrait else 42)


def step_music(run: Run) -> None:
    from media_tools import library

    opts = run.opts
    if opts.get("add_music"):
        if opts.get("music"):
            asset = Asset.objects.get(owner=run.story.owner, name=opts["music"])
            run.music = run.local(asset, "music")
        else:
            item = library.library_music(opts.get("music_mood"))
            run.music = (_library_path(run, item) if item is not None
                         else _procedural_music(run))
    if opts.get("add_sound_effects"):
        for role in ("transition", "emphasis"):
            items = library.library_sound_effects(role)
            if items:
                run.effects[role] = _library_path(run, items[0])


def _procedural_music(run: Run) -> Path:
    """No music in the library: the preview engine's procedural track."""
    outdir = run.workdir / "music"
    outdir.mkdir()
    total = sum(length for _start, length in run.timings) or 30.0
    request = RenderRequest(task="audio", model="ace-step", workdir=outdir, params={
        "prompt": run.opts.get("music_mood") or "calm", "tags": run.opts.get("music_mood", ""),
        "duration_seconds": min(60.0, max(8.0, total)), "seed": run.story.pk})
    outputs = get_engine("preview").render(request, progress=lambda f, s: None,
                                           is_canceled=run.ctx.is_canceled)
    return outputs[0].path


# --- compose ----------------------------------------------------------------------------------

def build_timeline(run: Run):
    """The story as one composer timeline."""
    from media_tools.composer import AudioTrack, Clip, Timeline, music_track

    opts = run.opts
    width, height = opts["width"], opts["height"]
    template = opts.get("template") or None
    clips, audio = [], []
    layouts = (run.layouts or _frames(run)) if template else {}
    for n, (scene, (start, length)) in enumerate(zip(run.scenes, run.timings, strict=True)):
        path = run.local(scene.visual, f"visual-{scene.index}")
        layout = layouts.get(scene.index)
        common = {"fit": "cover", "has_audio": False,
                  "transition": opts.get("transition", "cut") if n < len(run.scenes) - 1
                  else "cut", "transition_duration": _overlap(run) or 0.5}
        if layout is not None:
            common.update(window=layout.window, frame=layout.path)
        if scene.visual.kind == Asset.Kind.IMAGE:
            clips.append(Clip(path=path, kind="image", duration=length,
                              motion=MOTIONS[n % len(MOTIONS)], **common))
        else:
            begin = scene.visual_start or 0.0
            clips.append(Clip(path=path, start=begin, end=begin + length, loop=True,
                              duration=scene.visual.duration, **common))
        if scene.speech_id and not run.story.narration_id:
            audio.append(AudioTrack(path=run.local(scene.speech, f"speech-{scene.index}"),
                                    role="narration", start=start))
    if run.story.narration_id:
        audio.append(AudioTrack(path=run.local(run.story.narration, "narration"),
                                role="narration"))
    if run.music is not None:
        audio.append(music_track(run.music, volume=opts.get("bgm_volume", 0.3)))
    for n, (start, _length) in enumerate(run.timings):
        if n and "transition" in run.effects:
            audio.append(AudioTrack(path=run.effects["transition"], role="sfx",
                                    start=max(0.0, start - 0.15), volume=0.6))
    if "emphasis" in run.effects:
        audio.append(AudioTrack(path=run.effects["emphasis"], role="sfx", start=0.05,
                                volume=0.5))
    timeline = Timeline(width=width, height=height, fps=opts.get("fps", o.FPS), clips=clips,
                        audio=audio, subtitles=run.subtitles)
    if run.result.get("watermark"):
        from media_tools.watermark import watermark_timeline

        watermark_timeline(timeline, run.workdir / "watermark.png")
    return timeline


def _frames(run: Run) -> dict:
    from media_tools import frames

    template = run.opts["template"]
    background = None
    if template.get("background"):
        asset = Asset.objects.filter(owner=run.story.owner, name=template["background"]).first()
        background = run.local(asset, "template-background") if asset else None
    layouts = {}
    for scene in run.scenes:
        layouts[scene.index] = frames.render_frame(
            template["name"], width=run.opts["width"], height=run.opts["height"],
            params=template["params"],
            title=run.story.title, text=scene.text, index=scene.index,
            total=len(run.scenes), out=run.workdir / f"frame-{scene.index}.png",
            background_image=background)
    return layouts


def step_compose(run: Run) -> None:
    from billing.services import credit_account_get
    from media_tools.composer import compose

    story = run.story
    if story.video_id and story.video.source_job_id == run.job.public_id:
        return
    run.result["watermark"] = credit_account_get(user=story.owner).tier.watermark
    timeline = build_timeline(run)
    out = run.workdir / "story.mp4"
    total = compose(timeline, out, is_canceled=run.ctx.is_canceled,
                    progress=lambda f, stage: run.ctx.progress(0.65 + 0.3 * f, "compose"))
    run.ctx.progress(0.96, "store")
    video = store_video(run.job, out, run.workdir)
    story.video, story.subtitles, story.duration = video, run.srt, total
    story.save(update_fields=["video", "subtitles", "duration", "updated_at"])


def step_project(run: Run) -> None:
    """The story's studio project gets what the story is made of, so that its export sounds
    like the story: each scene's shot carries the scene's narration and lasts the scene, with
    the story's transition, and the project carries the story's music at its volume. An
    uploaded narration is cut into one line per scene (once). Captions stay in the story."""
    story, opts = run.story, run.opts
    last = len(run.scenes) - 1
    for n, (scene, (_start, length)) in enumerate(zip(run.scenes, run.timings, strict=True)):
        shot = scene.shot
        if shot is None:
            continue
        audio = scene.speech if not story.narration_id else (
            shot.audio if shot.audio_id else _narration_line(run, scene))
        transition = opts.get("transition", "cut") if n < last else "cut"
        wanted = {"duration": min(120.0, max(0.5, length)), "audio": audio,
                  "transition": transition}
        changed = [name for name, value in wanted.items() if getattr(shot, name) != value]
        if abs(shot.duration - wanted["duration"]) <= 0.01 and "duration" in changed:
            changed.remove("duration")
        for name in changed:
            setattr(shot, name, wanted[name])
        if changed:
            shot.save(update_fields=[*changed, "updated_at"])
    music = (Asset.objects.filter(owner=story.owner, name=opts["music"]).first()
             if opts.get("add_music") and opts.get("music") else None)
    project = story.project
    if music is not None and (project.music_id != music.pk
                              or project.music_volume != opts.get("bgm_volume", 0.3)):
        project.music, project.music_volume = music, opts.get("bgm_volume", 0.3)
        project.save(update_fields=["music", "music_volume", "updated_at"])


def _narration_line(run: Run, scene: StoryScene) -> Asset | None:
    from media_tools.audio import cut_audio
    from media_tools.operations import Runner

    if not scene.speech_duration:
        return None
    source = run.local(run.story.narration, "narration")
    out = run.workdir / f"line-{scene.index}.mp3"
    cut_audio(source, out, start=scene.speech_start, length=scene.speech_duration,
              runner=Runner(is_canceled=run.ctx.is_canceled))
    return run.keep(out, Asset.Kind.AUDIO)


def step_metadata(run: Run) -> None:
    story = run.story
    client = _llm("chat")
    details = None
    if client is not None and not (story.details and not run.job.params.get("changes")):
        try:
            details = words_of.llm_details(client, title=story.title, script=story.script)
        except EngineError:
            details = None  # derived below, and marked so
    if details is None:
        details = (story.details if story.details and not story.details.get("derived")
                   and not run.job.params.get("changes") else
                   words_of.derived_details(title=story.title, script=story.script))
    story.details = details
    story.save(update_fields=["details", "updated_at"])


@dataclass(frozen=True)
class Step:
    code: str
    start: float  # where the progress bar stands when the step begins
    run: Callable[[Run], None]


STEPS = (
    Step("script", 0.0, step_script),
    Step("scenes", 0.08, step_scenes),
    Step("narration", 0.1, step_narration),
    Step("visuals", 0.35, step_visuals),
    Step("captions", 0.62, step_captions),
    Step("music", 0.64, step_music),
    Step("compose", 0.65, step_compose),
    Step("project", 0.96, step_project),
    Step("metadata", 0.97, step_metadata),
)
