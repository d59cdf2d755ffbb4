"""Job handlers of stories (queue `media`): the whole pipeline, or one scene's changes and
the recomposition. Both run the same steps; stored results are skipped."""

from django.db import transaction

from studio.models import Story, StoryScene
from studio.stories.pipeline import STEPS, Run, clip_savings


def _apply_changes(story: Story, params: dict) -> None:
    """Apply a regenerate request once: new text and/or prompt, and forget the scene's
    narration or picture so that the steps make them again. A re-run of the same job finds
    the revision already reached and changes nothing."""
    changes = params["changes"]
    with transaction.atomic():
        scene = (StoryScene.objects.select_for_update(of=("self",)).select_related("shot")
                 .get(story=story, index=params["scene"]))
        if scene.revision >= params["revision"]:
            return
        fields = ["revision", "updated_at"]
        if "text" in changes:
            scene.text = changes["text"]
            fields.append("text")
        if "visual_prompt" in changes:
            scene.visual_prompt = changes["visual_prompt"]
            fields.append("visual_prompt")
        if changes.get("voice"):
            scene.voice = changes["voice"]
            fields.append("voice")
        if changes.get("new_speech"):
            scene.speech, scene.speech_duration, scene.words = None, None, []
            fields += ["speech", "speech_duration", "words"]
        if changes.get("new_visual"):
            scene.visual, scene.visual_source = None, ""
            fields += ["visual", "visual_source"]
        scene.revision = params["revision"]
        scene.save(update_fields=fields)
        if scene.shot_id:
            scene.shot.notes, scene.shot.prompt = scene.text[:5000], scene.visual_prompt[:2000]
            scene.shot.save(update_fields=["notes", "prompt", "updated_at"])
        story.script = "\n\n".join(story.scenes.order_by("index").values_list("text", flat=True))
        story.save(update_fields=["script", "updated_at"])


def run_story(job, ctx) -> dict:
    story = Story.objects.select_related("project", "narration", "video").get(
        pk=job.params["story_id"], owner=job.owner)
    if job.params.get("changes"):
        _apply_changes(story, job.params)
    run = Run(story=story, job=job, ctx=ctx)
    for step in STEPS:
        if ctx.is_canceled():
            break
        ctx.progress(step.start, step.code)
        step.run(run)
    story.refresh_from_db()
    video = story.video
    saved = clip_savings(run) if run.scenes else 0
    charge = {"credits_used": job.cost - saved} if 0 < saved <= job.cost else {}
    return {**charge,
        "outputs": [a for a in (video.name if video else None,
                                story.subtitles.name if story.subtitles_id else None) if a],
        "story_id": story.pk, "project_id": story.project_id, "title": story.title,
        "video": video.name if video else None,
        "thumbnail": video.thumbnail.name if video and video.thumbnail_id else None,
        "srt": story.subtitles.name if story.subtitles_id else None,
        "duration": story.duration, "script_method": story.script_method,
        "details": story.details,
        "scenes": [{"index": s.index, "text": s.text, "duration": s.speech_duration,
                    "visual": s.visual.name if s.visual_id else None,
                    "visual_source": s.visual_source, "words_source": s.words_source}
                   for s in story.scenes.select_related("visual")],
        "watermark": bool(run.result.get("watermark")),
    }
