from django.urls import path

from accounts import api, views

api_urlpatterns = [
    path("signup", api.SignupApi.as_view(), name="api-signup"),
    path("login", api.LoginApi.as_view(), name="api-login"),
    path("logout", api.LogoutApi.as_view(), name="api-logout"),
    path("password-reset/request", api.PasswordResetRequestApi.as_view(),
         name="api-password-reset-request"),
    path("password-reset/reset", api.PasswordResetApi.as_view(), name="api-password-reset"),
    path("auth/register", api.RegisterTokenApi.as_view(), name="api-auth-register"),
    path("auth/login", api.TokenLoginApi.as_view(), name="api-auth-login"),
    path("auth/refresh", api.TokenRefreshApi.as_view(), name="api-auth-refresh"),
    path("profile", api.ProfileApi.as_view(), name="api-profile"),
    path("profile/avatar", api.AvatarApi.as_view(), name="api-profile-avatar"),
    path("settings/change-password", api.ChangePasswordApi.as_view(),
         name="api-change-password"),
    path("settings/email", api.EmailApi.as_view(), name="api-settings-email"),
    path("settings/theme", api.ThemeApi.as_view(), name="api-settings-theme"),
    path("keys", api.ApiKeyListApi.as_view(), name="api-keys"),
    path("keys/<int:key_id>", api.ApiKeyDetailApi.as_view(), name="api-key-detail"),
]

urlpatterns = [
    path("signup/", views.signup_view, name="signup"),
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("password-reset/", views.password_reset_request_view, name="password-reset"),
    path("reset/<str:token>/", views.password_reset_confirm_view, name="password-reset-confirm"),
    path("settings/", views.settings_view, name="settings"),
    path("settings/api-keys/", views.api_keys_view, name="api-keys"),
    path("settings/api-keys/<int:key_id>/revoke/", views.api_key_revoke_view,
         name="api-key-revoke"),
]
