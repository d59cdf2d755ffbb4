from django.core.exceptions import ValidationError

from core.errors import ApplicationError


def run_service(form, service, **kwargs):
    """Call a service for a dashboard form; its errors become form errors. None on failure."""
    try:
        return service(**kwargs)
    except ValidationError as exc:
        if hasattr(exc, "error_dict"):
            for field, errors in exc.message_dict.items():
                target = field if field in form.fields else None
                for message in errors:
                    form.add_error(target, message)
        else:
            for message in exc.messages:
                form.add_error(None, message)
    except ApplicationError as exc:
        for field, errors in exc.fields.items():
            for message in errors:
                form.add_error(field if field in form.fields else None, message)
        if not exc.fields:
            form.add_error(None, exc.message)
    return None
