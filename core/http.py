def base_url(request) -> str:
    """The site's absolute root for this request (no trailing slash); "" without a request."""
    return request.build_absolute_uri("/").rstrip("/") if request is not None else ""
