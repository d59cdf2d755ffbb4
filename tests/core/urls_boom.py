from django.urls import path
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from config.urls import handler400, handler403, handler404, handler500  # noqa: F401
from config.urls import urlpatterns as base


class BoomApi(APIView):
    permission_classes = [AllowAny]

    def get(self, request):
        raise RuntimeError("secret internals: /etc/passwd")


def boom_view(request):
    raise RuntimeError("plain view failure")


urlpatterns = [
    path("api/boom", BoomApi.as_view()),
    path("api/boom-plain", boom_view),
    *base,
]
