"""Dashboard pages for the media tools, built from the API's own serializers and services:
each operation is a form that validates and submits exactly as its endpoint does."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST
from rest_framework import serializers

from assets.selectors import asset_list_for_user
from core.errors import ApplicationError
from media_tools import selectors, services
from media_tools.api import OPERATIONS
from media_tools.serializers import GenerateAudioSerializer

# Which stored files each file-name field picks from.
FILE_FIELDS = {"video_filename": "video", "audio_filename": "audio", "tts_filename": "audio",
               "srt_filename": "subtitle", "image_filename": "image",
               "video_filenames": "video"}
HIDDEN = {"webhook"}
AUDIO_PAGE_SIZE = 20
GROUPS = [("editing", "Edit"), ("tools", "Tools"), ("audio", "Audio and speech"),
          ("subtitles", "Subtitles")]


def field_widget(name: str, field, files: dict, file_fields: dict = FILE_FIELDS) -> dict:
    """How the dashboard draws one serializer field (type, choices, limits, default)."""
    spec = {"name": name, "label": field.label or name.replace("_", " ").capitalize(),
            "required": field.required, "help": field.help_text or "",
            "default": "" if field.default is serializers.empty else field.default}
    if name in file_fields:
        spec.update(type="files" if isinstance(field, serializers.ListField) else "file-select",
                    options=files[file_fields[name]])
    elif isinstance(field, serializers.ChoiceField):
        spec.update(type="select", options=[(k, v) for k, v in field.choices.items()])
    elif isinstance(field, serializers.BooleanField):
        spec.update(type="checkbox")
    elif isinstance(field, serializers.FileField):
        spec.update(type="upload")
    elif isinstance(field, (serializers.IntegerField, serializers.FloatField)):
        spec.update(type="number", step="1" if isinstance(field, serializers.IntegerField)
                    else "any", min=getattr(field, "min_value", None),
                    max=getattr(field, "max_value", None))
    else:
        spec.update(type="textarea" if (getattr(field, "max_length", 0) or 0) > 300
                    else "text")
    return spec


def _file_label(asset) -> str:
    return f"{asset.original_filename or asset.name} · {asset.created_at:%d %b %H:%M}"


def _voice_options() -> list[tuple[str, str]]:
    """GET /api/tts/voices as choices: the form offers what the API accepts, and the
    serializer still validates the submitted voice the API's way."""
    return [(v["voice_id"], f"{v['name']} · {v['engine']}") for v in selectors.tts_voices()]


def _forms(user, errors: dict | None = None, selected: str = "") -> list[dict]:
    files = {kind: [(a.name, _file_label(a))
                    for a in asset_list_for_user(user=user, kind=kind)
                    .exclude(origin="thumbnail")[:100]]
             for kind in {"video", "audio", "subtitle", "image"}}
    if selected and selected not in {name for name, _label in files["video"]}:
        # An "Edit" link to a video older than the hundred newest still preselects it.
        older = asset_list_for_user(user=user, kind="video").filter(name=selected).first()
        if older is not None:
            files["video"].insert(0, (older.name, _file_label(older)))
    choices = {"voice_id": _voice_options()}
    groups = []
    for tag, title in GROUPS:
        ops = []
        for name, (serializer, _submit, summary, op_tag) in OPERATIONS.items():
            if op_tag != tag:
                continue
            fields = [field_widget(n, f, files) for n, f in serializer().fields.items()
                      if n not in HIDDEN and not f.read_only]
            for spec in fields:
                if spec["name"] in choices:
                    spec.update(type="select", options=choices[spec["name"]])
            ops.append({"name": name, "summary": summary, "fields": fields,
                        "errors": (errors or {}).get(name)})
        groups.append({"title": title, "ops": ops})
    return groups


def form_data(request, serializer) -> dict:
    """A submitted dashboard form as the serializer's input (files, lists, checkboxes)."""
    data = {}
    for name, field in serializer().fields.items():
        if isinstance(field, serializers.FileField):
            if name in request.FILES:
                data[name] = request.FILES[name]
        elif isinstance(field, serializers.ListField):
            values = [v for v in request.POST.getlist(name) if v]
            if values:
                data[name] = values
        elif isinstance(field, serializers.BooleanField):
            data[name] = name in request.POST
        elif request.POST.get(name, "") != "":
            data[name] = request.POST[name]
    return data


def _error_lines(exc: ApplicationError) -> list[str]:
    return [exc.message, *[f"{k}: {' '.join(v)}" for k, v in exc.fields.items()]]


def _invalid_lines(errors: dict) -> list[str]:
    return [f"{k}: {' '.join(str(m) for m in v)}" for k, v in errors.items()]


@login_required
@require_http_methods(["GET", "POST"])
def tools_view(request):
    errors = {}
    if request.method == "POST":
        name = request.POST.get("operation", "")
        if name in OPERATIONS:
            serializer_class, submit, _summary, _tag = OPERATIONS[name]
            data = serializer_class(data=form_data(request, serializer_class))
            if data.is_valid():
                try:
                    job = submit(user=request.user, data=data.validated_data,
                                 idempotency_key=None)
                except ApplicationError as exc:
                    errors[name] = _error_lines(exc)
                else:
                    messages.success(request, "Queued.")
                    return redirect("job", job_id=job.public_id)
            else:
                errors[name] = _invalid_lines(data.errors)
    return render(request, "media_tools/tools.html", {
        "groups": _forms(request.user, errors, selected=request.GET.get("video", "")),
        "selected": request.GET.get("video", ""),
        "open": request.POST.get("operation") or request.GET.get("op", ""),
    }, status=400 if errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def audio_view(request):
    """Music and sound effects: the POST /api/generate-audio form (submitted through the same
    service; the job page follows it live and plays the track) and your tracks, paginated."""
    errors: list[str] = []
    if request.method == "POST":
        raw = form_data(request, GenerateAudioSerializer)
        if "tags" in raw:
            # One text box: the serializer splits "piano, calm" as it does for API clients.
            raw["tags"] = ", ".join(raw["tags"])
        data = GenerateAudioSerializer(data=raw)
        if data.is_valid():
            try:
                generation = services.audio_generate_submit(
                    user=request.user, data=data.validated_data, idempotency_key=None)
            except ApplicationError as exc:
                errors = _error_lines(exc)
            else:
                messages.success(request, "Queued.")
                return redirect("job", job_id=generation.job.public_id)
        else:
            errors = _invalid_lines(data.errors)
    fields = [field_widget(n, f, {}) for n, f in GenerateAudioSerializer().fields.items()
              if n not in HIDDEN]
    for spec in fields:
        if spec["name"] == "tags":
            spec["help"] = "Comma-separated, e.g. piano, calm, cinematic"
        if errors and spec["name"] in request.POST:
            spec["default"] = request.POST[spec["name"]]  # what was typed stays on the page
    page = Paginator(selectors.audio_generation_list_for_user(user=request.user),
                     AUDIO_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "media_tools/audio.html", {
        "fields": fields, "errors": errors, "page": page,
    }, status=400 if errors else 200)


@login_required
@require_POST
def audio_delete_view(request, generation_id: int):
    """The dashboard's DELETE /api/audio-generations/{id}: someone else's track is a 404."""
    generation = selectors.audio_generation_get_for_user(user=request.user,
                                                         generation_id=generation_id)
    services.audio_generation_delete(generation=generation)
    messages.success(request, "Audio deleted.")
    page = request.POST.get("page", "")
    return redirect(reverse("audio") + (f"?page={page}" if page.isdigit() else ""))
