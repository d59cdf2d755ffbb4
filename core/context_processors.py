from django.conf import settings


def site(request):
    user = getattr(request, "user", None)
    theme = getattr(user, "theme", "dark") if user is not None and user.is_authenticated else "dark"
    return {"site_name": "Reelforge", "theme": theme, "debug": settings.DEBUG}
