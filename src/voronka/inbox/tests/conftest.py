import pytest

from .recorder import start_recorder


@pytest.fixture
def provider_api(settings):
    """A local stand-in for the providers' APIs; Telegram's base URL points at it."""
    recorder, server = start_recorder()
    settings.VORONKA_TELEGRAM_API_BASE = recorder.url
    yield recorder
    server.shutdown()
    server.server_close()
