"""WSGI entry point (``WSGI_APPLICATION``: Django's ``runserver`` and any WSGI server).

``voronka serve`` runs uvicorn on ``voronka.front`` instead, which hands the site to the same
WSGI application in a pool of threads."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "voronka.settings")
application = get_wsgi_application()
