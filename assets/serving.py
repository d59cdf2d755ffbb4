"""Downloads with HTTP Range support, so `<video>` can seek; S3 files redirect to a short-lived
presigned URL instead of streaming through the application."""

import re

from django.core.files.storage import FileSystemStorage
from django.http import FileResponse, HttpResponse, HttpResponseRedirect, StreamingHttpResponse

from assets.models import Asset

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def _file_chunks(handle, start: int, length: int, chunk: int = 256 * 1024):
    try:
        handle.seek(start)
        remaining = length
        while remaining > 0:
            data = handle.read(min(chunk, remaining))
            if not data:
                break
            remaining -= len(data)
            yield data
    finally:
        handle.close()


def asset_response(request, asset: Asset, *, download: bool = False) -> HttpResponse:
    storage = asset.file.storage
    if not isinstance(storage, FileSystemStorage):
        return HttpResponseRedirect(storage.url(asset.file.name))
    size = asset.size
    disposition = "attachment" if download else "inline"
    range_header = request.headers.get("Range", "")
    match = _RANGE.match(range_header.strip()) if range_header else None
    if match and (match.group(1) or match.group(2)):
        first, last = match.group(1), match.group(2)
        if first:
            start = int(first)
            end = min(int(last), size - 1) if last else size - 1
        else:  # suffix range: the last N bytes
            start = max(0, size - int(last))
            end = size - 1
        if start >= size or start > end:
            response = HttpResponse(status=416)
            response["Content-Range"] = f"bytes */{size}"
            return response
        length = end - start + 1
        response = StreamingHttpResponse(_file_chunks(storage.open(asset.file.name, "rb"),
                                                      start, length),
                                         status=206, content_type=asset.mime)
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
        response["Content-Length"] = str(length)
    else:
        response = FileResponse(storage.open(asset.file.name, "rb"), content_type=asset.mime)
        response["Content-Length"] = str(size)
    response["Accept-Ranges"] = "bytes"
    response["Content-Disposition"] = f'{disposition}; filename="{asset.name}"'
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response
