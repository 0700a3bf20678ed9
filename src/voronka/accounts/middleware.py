"""Each person's language and time zone, as chosen in their profile.

Before sign-in Django's LocaleMiddleware picks the language from the browser; after it, the
profile's choice wins.
"""

import zoneinfo

from django.utils import timezone, translation


class UserPreferencesMiddleware:
    """After authentication: the signed-in person's language and time zone win."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            translation.activate(user.language)
            request.LANGUAGE_CODE = user.language
            try:
                timezone.activate(zoneinfo.ZoneInfo(user.timezone))
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                timezone.deactivate()
        response = self.get_response(request)
        if user is not None and user.is_authenticated:
            response.headers.setdefault("Content-Language", user.language)
        timezone.deactivate()
        return response
