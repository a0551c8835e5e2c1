from django.urls import path

from teams import views

app_name = "teams"

urlpatterns = [
    path("", views.home, name="home"),
    path("mine/", views.my_caseload, name="my_caseload"),
    path("<int:team_id>/", views.dashboard, name="dashboard"),
    path("<int:team_id>/caseload/", views.caseload, name="caseload"),
    path("<int:team_id>/caseload/reassign/", views.reassign, name="reassign"),
    path("accept/<str:reference>/", views.accept, name="accept"),
    path("entries/<int:entry_id>/", views.entry_detail, name="entry"),
    path("entries/<int:entry_id>/contacts/", views.record_contact, name="record_contact"),
    path("entries/<int:entry_id>/goals/", views.add_goal, name="add_goal"),
    path("entries/<int:entry_id>/goals/<int:goal_id>/status/", views.goal_status, name="goal_status"),
    path("entries/<int:entry_id>/review/", views.review, name="review"),
    path("entries/<int:entry_id>/key-worker/", views.change_key_worker, name="change_key_worker"),
    path("entries/<int:entry_id>/discharge/", views.discharge, name="discharge"),
]
