from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from accounts.urls import api_urlpatterns as accounts_api
from billing.urls import api_urlpatterns as billing_api
from core import views as core_views
from core.media import serve_public_media
from generation.urls import api_urlpatterns as generation_api
from jobs.urls import api_urlpatterns as jobs_api
from media_tools.urls import api_urlpatterns as media_tools_api
from studio.urls import api_urlpatterns as studio_api

api_patterns = [
    *accounts_api,
    *billing_api,
    *jobs_api,
    # Before generation: its `video/<filename>` route would shadow `video/add-audio`.
    *media_tools_api,
    *generation_api,
    *studio_api,
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]

urlpatterns = [
    path("api/", include(api_patterns)),
    path("admin/", admin.site.urls),
    path("healthz", core_views.healthz, name="healthz"),
    re_path(r"^media/(?P<name>avatars/[A-Za-z0-9_-]+\.png)$", serve_public_media,
            name="public-media"),
    path("", include("accounts.urls")),
    path("", include("billing.urls")),
    path("", include("generation.page_urls")),
    path("", include("studio.page_urls")),
    path("", include("media_tools.page_urls")),
]

handler400 = "core.views.handler400"
handler403 = "core.views.handler403"
handler404 = "core.views.handler404"
handler500 = "core.views.handler500"

admin.site.site_header = "Reelforge operations"
admin.site.site_title = "Reelforge admin"
