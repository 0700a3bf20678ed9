from .mailservers import imap_server, smtp_server, smtp_session  # noqa: F401 (fixtures)
