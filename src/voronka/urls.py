from django.conf import settings
from django.contrib import admin
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import include, path

from voronka.api.urls import api


@login_required
def home(request):
    if request.user.role in ("manager", "senior", "assistant"):
        return redirect("activities:my_day")
    return redirect("sales:board")


def healthz(request):
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [
    path("", home, name="home"),
    path("healthz", healthz, name="healthz"),
    path("", include("voronka.accounts.urls")),
    path("", include("voronka.sales.urls")),
    path("", include("voronka.clients.urls")),
    path("", include("voronka.activities.urls")),
    path("", include("voronka.inbox.urls")),
    path("", include("voronka.control.urls")),
    path("", include("voronka.planning.urls")),
    path("", include("voronka.analytics.urls")),
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
