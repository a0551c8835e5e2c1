from django.urls import path

from feedback import views

app_name = "feedback"

urlpatterns = [
    path("f/<str:token>/", views.answer, name="answer"),
    path("paper/", views.paper, name="paper"),
    path("review/", views.review, name="review"),
    path("review/<int:pk>/<slug:decision>/", views.decide, name="decide"),
    path("figures/", views.figures_page, name="figures"),
]
