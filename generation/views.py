"""Dashboard pages for generation. They call the same services as the API."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from assets.services import asset_upload
from core.errors import ApplicationError
from generation import selectors, services
from generation.catalogue import IMAGE_MODELS, VIDEO_MODELS, model_payload
from generation.forms import GenerateImageForm, GenerateVideoForm
from jobs.serializers import job_status_payload

_UPLOAD_KINDS = {"image": ("image",), "last_image": ("image",), "audio": ("audio",),
                 "video": ("video",)}


def _submit(request, form, *, kind: str):
    """Upload any files, then submit; errors land on the form. Returns generations or None."""
    data = {k: v for k, v in form.cleaned_data.items()
            if v not in (None, "") and k not in _UPLOAD_KINDS}
    try:
        for role, kinds in _UPLOAD_KINDS.items():
            upload = form.cleaned_data.get(role)
            if upload and role in form.fields:
                data[f"{role}_filename"] = asset_upload(owner=request.user, upload=upload,
                                                        kinds=kinds, origin="input",
                                                        field=role).name
        return services.generation_submit_many(user=request.user, data=data,
                                               count=data.pop("num_images", 1), kind=kind)
    except ApplicationError as exc:
        for field, errors in exc.fields.items():
            name = field.removesuffix("_filename").removesuffix("_url")
            for error in errors:
                form.add_error(name if name in form.fields else None, error)
        if not exc.fields or exc.code != "invalid":
            hint = " See the pricing page for plans." if exc.code == "tier_required" else ""
            form.add_error(None, exc.message + hint)
    except ValidationError as exc:
        form.add_error(None, exc)
    return None


@login_required
@require_http_methods(["GET", "POST"])
def generate_view(request):
    form = GenerateVideoForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        generations = _submit(request, form, kind=services.VIDEO_JOB)
        if generations:
            messages.success(request, "Queued. The page follows its progress.")
            return redirect("generation-detail", generation_id=generations[0].pk)
    return render(request, "generation/generate.html", {
        "form": form, "models": [model_payload(m) for m in VIDEO_MODELS], "output": "video",
    }, status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def generate_image_view(request):
    form = GenerateImageForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        generations = _submit(request, form, kind=services.IMAGE_JOB)
        if generations:
            messages.success(request, f"Queued {len(generations)} image(s).")
            return redirect("images")
    return render(request, "generation/generate.html", {
        "form": form, "models": [model_payload(m) for m in IMAGE_MODELS], "output": "image",
    }, status=400 if form.errors else 200)


@login_required
def generation_detail_view(request, generation_id: int):
    generation = selectors.generation_get_for_user(user=request.user,
                                                   generation_id=generation_id)
    status = job_status_payload(generation.job)
    return render(request, "generation/detail.html", {"g": generation, "status": status})


def _history(request, output_type: str, template: str):
    page = Paginator(selectors.generation_list_for_user(user=request.user,
                                                        output_type=output_type),
                     24).get_page(request.GET.get("page"))
    return render(request, template, {"page": page, "output": output_type})


@login_required
def videos_view(request):
    return _history(request, "video", "generation/history.html")


@login_required
def images_view(request):
    return _history(request, "image", "generation/history.html")


def gallery_view(request):
    page = Paginator(selectors.generation_list_public(), 24).get_page(request.GET.get("page"))
    return render(request, "generation/gallery.html", {"page": page})


@login_required
@require_POST
def generation_action_view(request, generation_id: int, action: str):
    if action not in {"favorite", "public", "share", "delete", "cancel"}:
        from django.http import Http404

        raise Http404
    generation = selectors.generation_get_for_user(user=request.user,
                                                   generation_id=generation_id)
    back = request.POST.get("next") or "videos"
    try:
        if action == "favorite":
            services.generation_toggle_favorite(generation=generation)
        elif action == "public":
            services.generation_toggle_public(generation=generation)
        elif action == "share":
            token = services.generation_share(generation=generation)
            messages.success(request, "Share link: " + request.build_absolute_uri(
                f"/api/share/{token}"))
        elif action == "delete":
            services.generation_delete(generation=generation)
            messages.success(request, "Deleted.")
            return redirect("images" if generation.output_type == "image" else "videos")
        elif action == "cancel":
            from jobs.services import job_cancel

            job_cancel(job=generation.job)
            messages.success(request, "Canceled; the credits were refunded.")
    except ApplicationError as exc:
        messages.error(request, exc.message)
    if back.startswith("/") and not back.startswith("//"):
        return redirect(back)
    return redirect("generation-detail", generation_id=generation.pk)


@login_required
def usage_view(request):
    """Usage charts, drawn as SVG on the server (no chart library, no JavaScript)."""
    from generation.analytics import default_range, usage_by_day, usage_summary

    start, end = default_range()
    days = usage_by_day(user=request.user, start=start, end=end)
    peak_credits = max([d["credits_spent"] for d in days] + [1])
    peak_jobs = max([d["total"] for d in days] + [1])
    bars = [{"date": d["date"], "x": i * 20, "credits": d["credits_spent"], "jobs": d["total"],
             "credits_h": round(100 * d["credits_spent"] / peak_credits),
             "jobs_h": round(100 * d["total"] / peak_jobs)} for i, d in enumerate(days)]
    return render(request, "generation/usage.html", {
        "summary": usage_summary(user=request.user), "bars": bars, "start": start, "end": end,
        "peak_credits": peak_credits, "peak_jobs": peak_jobs, "width": len(bars) * 20})
