from rest_framework import serializers

from accounts.models import ApiKey, User


class SignupSerializer(serializers.Serializer):
    username = serializers.RegexField(
        r"^[\w.@+-]+\Z", max_length=150,
        error_messages={"invalid": "Use letters, digits and @ . + - _ only."},
    )
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(max_length=128, write_only=True,
                                     style={"input_type": "password"})


class LoginSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=254, help_text="Username or email address.")
    password = serializers.CharField(max_length=128, write_only=True)


class TokenLoginSerializer(serializers.Serializer):
    identifier = serializers.CharField(max_length=254, required=False,
                                       help_text="Username or email address.")
    password = serializers.CharField(max_length=128, required=False, write_only=True)
    api_key = serializers.CharField(max_length=100, required=False, write_only=True)

    def validate(self, attrs):
        if attrs.get("api_key"):
            if attrs.get("identifier") or attrs.get("password"):
                raise serializers.ValidationError(
                    {"api_key": ["Send either api_key, or identifier and password, not both."]})
            return attrs
        missing = {name: ["This field is required."]
                   for name in ("identifier", "password") if not attrs.get(name)}
        if missing:
            raise serializers.ValidationError(missing)
        return attrs


class TokenPairSerializer(serializers.Serializer):
    access_token = serializers.CharField()
    refresh_token = serializers.CharField()


class RefreshSerializer(serializers.Serializer):
    refresh_token = serializers.CharField(max_length=2000)


class PasswordResetRequestSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=254, required=False,
                                     help_text="Username or email address.")
    email = serializers.CharField(max_length=254, required=False)

    def validate(self, attrs):
        if not (attrs.get("username") or attrs.get("email")):
            raise serializers.ValidationError({"username": ["This field is required."]})
        return attrs


class PasswordResetSerializer(serializers.Serializer):
    token = serializers.CharField(max_length=300)
    new_password = serializers.CharField(max_length=128, write_only=True)


class UserSerializer(serializers.ModelSerializer):
    avatar = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = ["id", "username", "email", "display_name", "bio", "avatar",
                  "profile_public", "theme", "date_joined"]
        read_only_fields = fields

    def get_avatar(self, obj) -> str | None:
        return obj.avatar.url if obj.avatar else None


class ProfileUpdateSerializer(serializers.Serializer):
    display_name = serializers.CharField(max_length=80, required=False, allow_blank=True)
    bio = serializers.CharField(max_length=1000, required=False, allow_blank=True)
    profile_public = serializers.BooleanField(required=False)


class AvatarSerializer(serializers.Serializer):
    avatar = serializers.FileField(help_text="PNG, JPEG, WebP or GIF; up to 5 MB.")


class ChangePasswordSerializer(serializers.Serializer):
    current_password = serializers.CharField(max_length=128, write_only=True)
    new_password = serializers.CharField(max_length=128, write_only=True)


class EmailSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)


class ThemeSerializer(serializers.Serializer):
    theme = serializers.ChoiceField(choices=User.Theme.choices)


class ApiKeySerializer(serializers.ModelSerializer):
    class Meta:
        model = ApiKey
        fields = ["id", "prefix", "name", "created_at", "last_used", "is_active", "revoked_at"]
        read_only_fields = fields


class ApiKeyCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)


class ApiKeyCreatedSerializer(ApiKeySerializer):
    key = serializers.CharField(read_only=True)
    api_key = serializers.CharField(read_only=True, help_text="The same key (video.pizza name).")
    msg = serializers.CharField(read_only=True)

    class Meta(ApiKeySerializer.Meta):
        fields = [*ApiKeySerializer.Meta.fields, "key", "api_key", "msg"]


class DetailSerializer(serializers.Serializer):
    detail = serializers.CharField()
