import mimetypes

from django.core.files.storage import FileSystemStorage, default_storage
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.views.decorators.http import require_GET


@require_GET
def serve_public_media(request, name: str):
    """Public files (avatars) from the default storage: streamed from disk, or a redirect to
    the object store's URL. The URL pattern admits only names this code generates."""
    if not default_storage.exists(name):
        raise Http404
    if isinstance(default_storage, FileSystemStorage):
        try:
            handle = default_storage.open(name, "rb")
        except FileNotFoundError:
            raise Http404 from None
        response = FileResponse(handle, content_type=mimetypes.guess_type(name)[0])
        response["Cache-Control"] = "public, max-age=86400"
        return response
    return HttpResponseRedirect(default_storage.url(name))
