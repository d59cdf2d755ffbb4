"""Dashboard pages for the media tools, built from the API's own serializers and services:
each operation is a form that validates and submits exactly as its endpoint does."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods
from rest_framework import serializers

from assets.selectors import asset_list_for_user
from core.errors import ApplicationError
from media_tools.api import OPERATIONS

# Which stored files each file-name field picks from.
FILE_FIELDS = {"video_filename": "video", "audio_filename": "audio", "tts_filename": "audio",
               "srt_filename": "subtitle", "image_filename": "image",
               "video_filenames": "video"}
HIDDEN = {"webhook"}
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


def _forms(user, errors: dict | None = None, selected: str = "") -> list[dict]:
    files = {kind: [(a.name, f"{a.original_filename or a.name} · {a.created_at:%d %b %H:%M}")
                    for a in asset_list_for_user(user=user, kind=kind)
                    .exclude(origin="thumbnail")[:100]]
             for kind in {"video", "audio", "subtitle", "image"}}
    groups = []
    for tag, title in GROUPS:
        ops = []
        for name, (serializer, _submit, summary, op_tag) in OPERATIONS.items():
            if op_tag != tag:
                continue
            fields = [field_widget(n, f, files) for n, f in serializer().fields.items()
                      if n not in HIDDEN and not f.read_only]
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
                    errors[name] = [exc.message, *[f"{k}: {' '.join(v)}"
                                                   for k, v in exc.fields.items()]]
                else:
                    messages.success(request, "Queued.")
                    return redirect("job", job_id=job.public_id)
            else:
                errors[name] = [f"{k}: {' '.join(str(m) for m in v)}"
                                for k, v in data.errors.items()]
    return render(request, "media_tools/tools.html", {
        "groups": _forms(request.user, errors), "selected": request.GET.get("video", ""),
        "open": request.POST.get("operation") or request.GET.get("op", ""),
    }, status=400 if errors else 200)
