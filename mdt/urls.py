from django.urls import path

from mdt import views

app_name = "mdt"

urlpatterns = [
    path("", views.home, name="home"),
    path("meetings/new/", views.create_meeting, name="create_meeting"),
    path("schedules/new/", views.create_schedule, name="create_schedule"),
    path("meetings/<int:meeting_id>/", views.meeting, name="meeting"),
    path("meetings/<int:meeting_id>/print/", views.print_agenda, name="print"),
    path("meetings/<int:meeting_id>/items/", views.add_item, name="add_item"),
    path("meetings/<int:meeting_id>/items/<int:item_id>/", views.update_item, name="update_item"),
    path("meetings/<int:meeting_id>/items/<int:item_id>/remove/", views.remove_item, name="remove_item"),
    path("meetings/<int:meeting_id>/items/<int:item_id>/move/", views.move_item, name="move_item"),
    path("meetings/<int:meeting_id>/items/<int:item_id>/actions/", views.add_action, name="add_action"),
    path("meetings/<int:meeting_id>/attendees/", views.invite, name="invite"),
    path("meetings/<int:meeting_id>/attendance/", views.attendance, name="attendance"),
    path("meetings/<int:meeting_id>/<str:step>/", views.step, name="step"),
    path("case-finding/", views.case_finding_list, name="case_finding"),
    path("actions/", views.my_actions, name="my_actions"),
    path("actions/<int:action_id>/status/", views.action_status, name="action_status"),
    path("flag/<int:patient_id>/", views.flag, name="flag"),
]
