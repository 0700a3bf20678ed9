"""The channel providers, one module each; ``provider_for(kind)`` finds a kind's module.

A provider module is ``voronka.inbox.channels.<kind>`` (or the name ``MODULES`` gives) and
exposes ``provider``, an instance of a ``base.Provider`` subclass. A kind whose module is not
there yet is not offered.
"""

from __future__ import annotations

import importlib
import importlib.util

from .base import Provider

#: Kinds whose module is named otherwise (``twilio`` would read as the Twilio library).
MODULES = {"twilio": "twilio_voice", "site_chat": "sitechat"}


def provider_for(kind: str) -> Provider | None:
    """The provider of this channel kind, or None when no module implements it."""
    from voronka.inbox.models import ChannelKind

    if kind not in ChannelKind.values:
        return None
    name = f"{__name__}.{MODULES.get(kind, kind)}"
    if importlib.util.find_spec(name) is None:
        return None
    return importlib.import_module(name).provider


def available_kinds() -> list[tuple[str, str]]:
    """The (kind, label) pairs a channel can be created with."""
    from voronka.inbox.models import ChannelKind

    return [(k, label) for k, label in ChannelKind.choices if provider_for(k) is not None]
