"""Dashboard pages for stories: the list, the "New story" form (built from the API's own
serializer and submitted through the same service) and the story page with live progress,
the player, the publishing details and per-scene regeneration."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from assets.selectors import asset_list_for_user
from core.errors import ApplicationError
from jobs.serializers import job_status_payload
from media_tools.views import field_widget, form_data
from studio.stories import selectors, services
from studio.stories.pipeline import STEPS
from studio.stories.serializers import SceneRegenerateSerializer, StoryRequestSerializer

FILE_FIELDS = {"narration_filename": "audio", "music_filename": "audio",
               "visual_filenames": "visual"}
# The form's sections, in order; fields not named here go under "More".
SECTIONS = [
    ("Story", ["audio_source_type", "mode", "prompt", "title", "n_scenes", "language",
               "mp3_file", "narration_filename", "script"]),
    ("Picture", ["video_format", "resolution", "video_source", "ai_scenery_prompt",
                 "image_model", "video_model", "visual_filenames", "transition",
                 "frame_template", "template_params"]),
    ("Voice and captions", ["voice", "voice_speed", "burn_captions", "caption_style",
                            "text_transform", "caption_position"]),
    ("Music and effects", ["add_music", "music_mood", "music_filename", "bgm_volume",
                           "add_sound_effects"]),
]


def _files(user) -> dict:
    def rows(queryset):
        return [(a.name, f"{a.original_filename or a.name} · {a.created_at:%d %b %H:%M}")
                for a in queryset.exclude(origin__in=("thumbnail", "intermediate"))[:100]]

    return {"audio": rows(asset_list_for_user(user=user, kind="audio")),
            "visual": rows(asset_list_for_user(user=user).filter(kind__in=("image", "video")))}


def _sections(user) -> list[dict]:
    fields = StoryRequestSerializer().fields
    files = _files(user)
    widgets = {n: field_widget(n, f, files, FILE_FIELDS) for n, f in fields.items()
               if n != "webhook"}
    for name in ("prompt", "script"):
        widgets[name].update(type="textarea", rows=5)
    widgets["mp3_file"]["accept"] = "audio/*"
    widgets["template_params"].update(type="text", default="",
                                      help='JSON, e.g. {"accent_color": "#3498db"}')
    if not services.llm_available("chat"):
        # Without a language model only your own script can be spoken.
        widgets["mode"].update(default="fixed", help="No language model is configured here: "
                                                     "write the script yourself (fixed).")
    placed = [n for _title, names in SECTIONS for n in names]
    sections = [{"title": t, "fields": [widgets[n] for n in names]} for t, names in SECTIONS]
    rest = [w for n, w in widgets.items() if n not in placed]
    return sections + ([{"title": "More", "fields": rest}] if rest else [])


@login_required
def stories_view(request):
    stories = list(selectors.story_list_for_user(user=request.user)[:100])
    return render(request, "stories/list.html", {"stories": stories})


@login_required
@require_http_methods(["GET", "POST"])
def story_new_view(request):
    errors: list[str] = []
    if request.method == "POST":
        data = StoryRequestSerializer(data=form_data(request, StoryRequestSerializer))
        if data.is_valid():
            try:
                story = services.story_submit(user=request.user, data=data.validated_data)
            except ApplicationError as exc:
                errors = [exc.message, *[f"{k}: {' '.join(v)}" for k, v in exc.fields.items()
                                         if exc.message.split(":")[0] != k]]
            else:
                messages.success(request, "Your story is on its way.")
                return redirect("story", story_id=story.pk)
        else:
            errors = [f"{k}: {' '.join(str(m) for m in v)}" for k, v in data.errors.items()]
    return render(request, "stories/new.html", {"sections": _sections(request.user),
                                                "errors": errors, "posted": request.POST},
                  status=400 if errors else 200)


@login_required
def story_view(request, story_id: int):
    story = selectors.story_get_for_user(user=request.user, story_id=story_id)
    status = job_status_payload(story.job, base_url="") if story.job_id else None
    stages = [step.code for step in STEPS]
    current = status["stage"] if status else ""
    return render(request, "stories/detail.html", {
        "story": story, "job": story.job, "status": status, "scenes": story.scenes.all(),
        "stages": [{"code": c, "done": current in stages and stages.index(c)
                    < stages.index(current), "current": c == current} for c in stages],
        "details": story.details or {},
        "hashtags": " ".join(story.details.get("hashtags") or []) if story.details else "",
    })


@login_required
@require_POST
def story_action_view(request, story_id: int, action: str):
    story = selectors.story_get_for_user(user=request.user, story_id=story_id)
    try:
        if action == "delete":
            services.story_delete(story=story)
            messages.success(request, "Story deleted.")
            return redirect("stories")
        if action == "resume":
            services.story_resume(story=story)
            messages.success(request, "Resuming from the step that failed.")
        elif action.startswith("scene-"):
            index = int(action.removeprefix("scene-"))
            raw = {"visual": "visual" in request.POST}
            scene = story.scenes.filter(index=index).first()
            text = request.POST.get("text", "").strip()
            prompt = request.POST.get("visual_prompt", "").strip()
            if scene is not None and text and text != scene.text:
                raw["text"] = text
            if scene is not None and prompt != scene.visual_prompt:
                raw["visual_prompt"] = prompt
            if request.POST.get("voice"):
                raw["voice"] = request.POST["voice"]
            data = SceneRegenerateSerializer(data=raw)
            data.is_valid(raise_exception=False)
            if data.errors:
                raise ApplicationError("; ".join(f"{k}: {' '.join(map(str, v))}"
                                                 for k, v in data.errors.items()))
            services.story_scene_regenerate(story=story, index=index, data=data.validated_data)
            messages.success(request, f"Regenerating scene {index}; the others are kept.")
        else:
            messages.error(request, "Unknown action.")
    except (ApplicationError, ValueError) as exc:
        messages.error(request, getattr(exc, "message", str(exc)))
    return redirect("story", story_id=story.pk)
