import pytest

from .recorder import start_recorder
from .telephony import mango, provider_server, twilio  # noqa: F401 (fixtures)


@pytest.fixture
def provider_api(settings):
    """A local stand-in for the providers' APIs; Telegram's and Meta's base URLs point at it."""
    recorder, server = start_recorder()
    settings.VORONKA_TELEGRAM_API_BASE = recorder.url
    settings.VORONKA_META_GRAPH_BASE = recorder.url
    yield recorder
    server.shutdown()
    server.server_close()
