from django.contrib.auth.backends import ModelBackend

from accounts.selectors import user_find_by_identifier


class UsernameOrEmailBackend(ModelBackend):
    """Log in with a username or an email address, in any case."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        identifier = username or kwargs.get("email") or kwargs.get("identifier")
        if not identifier or password is None:
            return None
        user = user_find_by_identifier(identifier=identifier)
        if user is None:
            # Run the hasher anyway so a missing account takes as long as a wrong password.
            from accounts.models import User

            User().set_password(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
