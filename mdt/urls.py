from django.urls import path

from mdt import views

app_name = "mdt"

urlpatterns = [
    path("", views.home, name="home"),
]
