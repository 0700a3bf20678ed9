"""Email: mailboxes fetched over IMAP and written from over SMTP (the ``email`` channel kind).

``settings`` reads a channel's servers, ``parsing`` turns a raw message into plain values,
``fetching`` takes new mail in through the common ingest path, ``sending`` sends and files the
copy in the Sent folder, ``sanitise`` makes received HTML safe to show.
"""
