from django import forms

from accounts.models import User


class SignupForm(forms.Form):
    username = forms.RegexField(
        r"^[\w.@+-]+\Z", max_length=150,
        error_messages={"invalid": "Use letters, digits and @ . + - _ only."},
    )
    email = forms.EmailField(max_length=254)
    password = forms.CharField(max_length=128, widget=forms.PasswordInput,
                               help_text="At least 8 characters, not all digits, not common.")


class LoginForm(forms.Form):
    username = forms.CharField(label="Username or email", max_length=254)
    password = forms.CharField(max_length=128, widget=forms.PasswordInput)


class PasswordResetRequestForm(forms.Form):
    username = forms.CharField(label="Username or email", max_length=254)


class PasswordResetForm(forms.Form):
    new_password = forms.CharField(max_length=128, widget=forms.PasswordInput)


class ProfileForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["display_name", "bio", "profile_public"]
        widgets = {"bio": forms.Textarea(attrs={"rows": 3})}


class AvatarForm(forms.Form):
    avatar = forms.FileField(help_text="PNG, JPEG, WebP or GIF, up to 5 MB.")


class ChangePasswordForm(forms.Form):
    current_password = forms.CharField(max_length=128, widget=forms.PasswordInput)
    new_password = forms.CharField(max_length=128, widget=forms.PasswordInput)


class EmailForm(forms.Form):
    email = forms.EmailField(max_length=254)


class ThemeForm(forms.Form):
    theme = forms.ChoiceField(choices=User.Theme.choices)


class ApiKeyForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="Where the key is used, e.g. \"My App\".")
