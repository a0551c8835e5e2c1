from django.urls import path

from recovery_at_home import views

app_name = "recovery_at_home"

urlpatterns = [
    path("", views.home, name="home"),
    path("queue/", views.queue, name="queue"),
    path("queue/rows/", views.queue_rows, name="queue_rows"),
    path("queue/capacity/", views.queue_capacity, name="queue_capacity"),
    path("beds/", views.beds, name="beds"),
    path("rota/", views.rota_week, name="rota"),
    path("rota/shifts/<int:pk>/", views.shift_change, name="shift_change"),
    path("rota/shifts/<int:pk>/remove/", views.shift_remove, name="shift_remove"),
    path("beds/stays/<int:pk>/discharge/", views.discharge, name="discharge"),
    path("alerts/<int:pk>/acknowledge/", views.acknowledge, name="acknowledge"),
    path("alerts/count/", views.alert_count, name="alert_count"),
    path("visits/", views.my_visits, name="my_visits"),
    path("visits/<int:pk>/on-the-way/", views.on_the_way, name="on_the_way"),
    path("visits/<int:pk>/arrived/", views.visit_arrival, name="visit_arrival"),
    path("care-visits/<int:pk>/record/", views.record_planned_visit, name="record_planned_visit"),
]
