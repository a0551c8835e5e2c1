from __future__ import annotations

from django.urls import path

from atb.urls import urlpatterns as portal_urlpatterns
from tools.bench import views

urlpatterns = [path("bench/floor/", views.floor, name="bench_floor"), *portal_urlpatterns]
