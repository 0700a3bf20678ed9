"""The REST API at /api/v1/: bearer tokens, JSON errors with a code and the fields concerned."""
