"""Dashboard pages for studio projects; each action calls the same service as the API."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from core.errors import ApplicationError
from core.forms import run_service
from jobs.models import Job
from studio import selectors, services
from studio.export import project_export
from studio.forms import CommentForm, ElementForm, ExportForm, ProjectForm, ShotForm


@login_required
@require_http_methods(["GET", "POST"])
def projects_view(request):
    form = ProjectForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        project = run_service(form, services.project_create, owner=request.user,
                              **form.cleaned_data)
        if project is not None:
            return redirect("project", project_id=project.pk)
    projects = list(selectors.project_list_for_user(user=request.user)[:100])
    covers = selectors.project_covers(projects=projects)
    rows = [{"project": p, "cover": covers.get(p.pk)} for p in projects]
    return render(request, "studio/projects.html", {"rows": rows, "form": form},
                  status=400 if form.errors else 200)


@login_required
def project_view(request, project_id: int):
    project = selectors.project_get_for_user(user=request.user, project_id=project_id,
                                             detail=True)
    exports = Job.objects.filter(owner=request.user, kind="project_export",
                                 params__project_id=project.pk).order_by("-created_at")[:5]
    return render(request, "studio/project.html", {
        "project": project, "shots": project.shots.all(), "elements": project.elements.all(),
        "comments": project.comments.select_related("author", "shot"),
        "shot_form": ShotForm(), "element_form": ElementForm(), "comment_form": CommentForm(),
        "export_form": ExportForm(), "project_form": ProjectForm(initial={
            "name": project.name, "description": project.description, "model": project.model,
            "music": project.music.name if project.music_id else "",
            "music_volume": project.music_volume}),
        "exports": exports,
    })


@login_required
@require_POST
def project_action_view(request, project_id: int, action: str):
    """One endpoint per form on the editor page; errors come back as messages."""
    project = selectors.project_get_for_user(user=request.user, project_id=project_id)
    handlers = {
        "update": (ProjectForm, lambda d: services.project_update(project=project, data=d)),
        "add-shot": (ShotForm, lambda d: services.shot_create(project=project, data=d)),
        "add-element": (ElementForm, lambda d: services.element_create(project=project,
                                                                       data=d)),
        "comment": (CommentForm, lambda d: services.comment_create(
            project=project, author=request.user, text=d["text"])),
        "export": (ExportForm, lambda d: project_export(project=project,
                                                        resolution=d["resolution"])),
        "duplicate": (None, lambda d: services.project_duplicate(project=project)),
        "delete": (None, lambda d: services.project_delete(project=project)),
    }
    if action not in handlers:
        raise Http404
    form_class, action_fn = handlers[action]
    form = form_class(request.POST) if form_class else None
    if form is not None and not form.is_valid():
        for field, errors in form.errors.items():
            messages.error(request, f"{field}: {' '.join(errors)}")
        return redirect("project", project_id=project.pk)
    try:
        result = action_fn(form.cleaned_data if form else {})
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("project", project_id=project.pk)
    if action == "delete":
        messages.success(request, "Project deleted.")
        return redirect("projects")
    if action == "duplicate":
        return redirect("project", project_id=result.pk)
    if action == "export":
        messages.success(request, "Export queued; its progress shows below.")
    return redirect("project", project_id=project.pk)


@login_required
@require_POST
def shot_action_view(request, project_id: int, shot_id: int, action: str):
    project = selectors.project_get_for_user(user=request.user, project_id=project_id)
    shot = selectors.shot_get(project=project, shot_id=shot_id)
    try:
        if action == "update":
            form = ShotForm(request.POST)
            if not form.is_valid():
                messages.error(request, "Check the shot's fields.")
            else:
                services.shot_update(shot=shot, data=form.cleaned_data)
        elif action == "generate":
            services.shot_generate(shot=shot)
            messages.success(request, "Generating the shot.")
        elif action == "delete":
            services.shot_delete(shot=shot)
        elif action in ("up", "down"):
            order = list(project.shots.order_by("position", "id").values_list("pk", flat=True))
            i = order.index(shot.pk)
            j = i - 1 if action == "up" else i + 1
            if 0 <= j < len(order):
                order[i], order[j] = order[j], order[i]
                services.shots_reorder(project=project, order=order)
        else:
            raise Http404
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect(f"/studio/{project.pk}/#shot-{shot.pk}")
