from django.urls import path

from feedback import views
from feedback.models import PulseAnswer

app_name = "feedback"

urlpatterns = [
    path("f/<str:token>/", views.answer, name="answer"),
    path("paper/", views.paper, name="paper"),
    path("review/", views.review, name="review"),
    path("review/<int:pk>/<slug:decision>/", views.decide, name="decide"),
    path("review/pulse/<int:pk>/<slug:decision>/", views.decide, {"of": PulseAnswer}, name="decide_pulse"),
    path("figures/", views.figures_page, name="figures"),
    path("pulse/", views.pulse, name="pulse"),
]
