"""Bearer-token authentication for the API."""

from django.utils import timezone, translation
from ninja.security import HttpBearer

from voronka.accounts.models import ApiToken, hash_token


class BearerToken(HttpBearer):
    def authenticate(self, request, token: str):
        if not token or len(token) > 200:
            return None
        try:
            api_token = ApiToken.objects.select_related("user").get(
                key_hash=hash_token(token), revoked_at__isnull=True
            )
        except ApiToken.DoesNotExist:
            return None
        user = api_token.user
        if not user.is_active or user.workspace_id != api_token.workspace_id:
            return None
        now = timezone.now()
        # Writing on every request would turn reads into writes; once a minute is enough.
        if api_token.last_used_at is None or (now - api_token.last_used_at).total_seconds() > 60:
            ApiToken.objects.filter(pk=api_token.pk).update(last_used_at=now)
        request.user = user
        # Refusals from the actions come in the caller's language, as on the pages; the API puts
        # the previous language back once the response is made (see ``VoronkaAPI``).
        request.language_before_token = translation.get_language()
        translation.activate(user.language)
        request.LANGUAGE_CODE = user.language
        return user
