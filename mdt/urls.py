from django.urls import path

from mdt import views

app_name = "mdt"

urlpatterns = [
    path("", views.home, name="home"),
    path("flag/<int:patient_id>/", views.flag, name="flag"),
]
