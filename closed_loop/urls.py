from django.urls import path

from closed_loop import views

app_name = "closed_loop"

urlpatterns = [
    path("", views.updates, name="updates"),
    path("rows/", views.updates_rows, name="updates_rows"),
    path("settings/", views.update_settings, name="update_settings"),
    path("letters/", views.letters, name="letters"),
    path("letters/<int:pk>/", views.letter, name="letter"),
    path("letters/<int:pk>.pdf", views.letter_pdf, name="letter_pdf"),
]
