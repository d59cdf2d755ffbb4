"""Dashboard pages for accounts. Each view parses a form and calls the same service as the API."""

from django.contrib import messages
from django.contrib.auth import authenticate, login, logout, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from accounts import forms, services
from accounts.api import client_ip
from accounts.selectors import api_key_get_for_user, api_key_list_for_user
from core.errors import ApplicationError
from core.forms import run_service

BACKEND = "accounts.backends.UsernameOrEmailBackend"


def _safe_next(request, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    return target if target.startswith("/") and not target.startswith("//") else default


@require_http_methods(["GET", "POST"])
def signup_view(request):
    if request.user.is_authenticated:
        return redirect("dashboard")
    form = forms.SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = run_service(form, services.user_create, **form.cleaned_data)
        if user is not None:
            login(request, user, backend=BACKEND)
            messages.success(request, f"Welcome to Reelforge, {user.username}.")
            return redirect("dashboard")
    return render(request, "accounts/signup.html", {"form": form},
                  status=400 if form.errors else 200)


@require_http_methods(["GET", "POST"])
def login_view(request):
    if request.user.is_authenticated:
        return redirect(_safe_next(request, reverse("dashboard")))
    form = forms.LoginForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        identifier, ip = form.cleaned_data["username"], client_ip(request)
        try:
            services.login_throttle_check(identifier=identifier, ip=ip)
            user = authenticate(request, username=identifier,
                                password=form.cleaned_data["password"])
        except ApplicationError as exc:
            form.add_error(None, exc.message)
            return render(request, "accounts/login.html", {"form": form}, status=429)
        if user is None:
            services.login_failure_record(identifier=identifier, ip=ip)
            form.add_error(None, "The username/email or password is not correct.")
            status = 400
        else:
            services.login_failures_clear(identifier=identifier, ip=ip)
            login(request, user, backend=BACKEND)
            return HttpResponseRedirect(_safe_next(request, reverse("dashboard")))
    return render(request, "accounts/login.html", {"form": form}, status=status)


@require_POST
def logout_view(request):
    logout(request)
    messages.info(request, "You have been logged out.")
    return redirect("login")


@require_http_methods(["GET", "POST"])
def password_reset_request_view(request):
    form = forms.PasswordResetRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.password_reset_request(identifier=form.cleaned_data["username"],
                                        base_url=request.build_absolute_uri("/"))
        return render(request, "accounts/password_reset_sent.html")
    return render(request, "accounts/password_reset_request.html", {"form": form})


@require_http_methods(["GET", "POST"])
def password_reset_confirm_view(request, token: str):
    if not services.password_reset_token_valid(token=token):
        return render(request, "accounts/password_reset_invalid.html", status=400)
    form = forms.PasswordResetForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = run_service(form, services.password_reset_complete, token=token,
                           new_password=form.cleaned_data["new_password"])
        if user is not None:
            messages.success(request, "Your password has been changed. Log in with it now.")
            return redirect("login")
    return render(request, "accounts/password_reset_confirm.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def settings_view(request):
    """Account settings: one page, one form per section, each posting its own `section`."""
    user = request.user
    section = request.POST.get("section") if request.method == "POST" else None
    profile_form = forms.ProfileForm(request.POST if section == "profile" else None, instance=user)
    avatar_form = forms.AvatarForm(request.POST if section == "avatar" else None,
                                   request.FILES if section == "avatar" else None)
    password_form = forms.ChangePasswordForm(request.POST if section == "password" else None)
    email_form = forms.EmailForm(request.POST if section == "email" else None,
                                 initial={"email": user.email})
    theme_form = forms.ThemeForm(request.POST if section == "theme" else None,
                                 initial={"theme": user.theme})
    handlers = {
        "profile": (profile_form, lambda d: services.profile_update(user=user, data=d),
                    "Profile saved."),
        "avatar": (avatar_form, lambda d: services.avatar_set(user=user, upload=d["avatar"]),
                   "Avatar updated."),
        "password": (password_form, lambda d: services.password_change(user=user, **d),
                     "Password changed."),
        "email": (email_form, lambda d: services.email_change(user=user, email=d["email"]),
                  "Email address changed."),
        "theme": (theme_form, lambda d: services.theme_set(user=user, theme=d["theme"]),
                  "Theme saved."),
    }
    status = 200
    if section in handlers:
        form, action, done = handlers[section]
        if form.is_valid() and run_service(form, lambda: action(form.cleaned_data)) is not None:
            if section == "password":
                update_session_auth_hash(request, user)
            messages.success(request, done)
            return redirect("settings")
        status = 400
    return render(request, "accounts/settings.html", {
        "profile_form": profile_form, "avatar_form": avatar_form,
        "password_form": password_form, "email_form": email_form, "theme_form": theme_form,
    }, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def api_keys_view(request):
    form = forms.ApiKeyForm(request.POST or None)
    new_key = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            created = run_service(form, services.api_key_create, user=request.user,
                                  name=form.cleaned_data["name"])
            if created is not None:
                new_key = created[1]
                form = forms.ApiKeyForm()
        if new_key is None:
            status = 400
    keys = api_key_list_for_user(user=request.user)
    return render(request, "accounts/api_keys.html",
                  {"form": form, "keys": keys, "new_key": new_key}, status=status)


@login_required
@require_POST
def api_key_revoke_view(request, key_id: int):
    key = api_key_get_for_user(user=request.user, key_id=key_id)
    services.api_key_revoke(key=key)
    messages.success(request, f"The key “{key.name}” was revoked.")
    return redirect("api-keys")
