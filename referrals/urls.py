from django.urls import path

from referrals import views

app_name = "referrals"

urlpatterns = [
    path("", views.home, name="home"),
    path("practice/", views.practice_list, name="practice"),
    path("inbox/", views.inbox, name="inbox"),
    path("new/", views.create, name="create"),
    path("phone-in/", views.phone_in, name="phone_in"),
    path("patient-lookup/", views.patient_lookup, name="patient_lookup"),
    path("<str:reference>/withdraw/", views.withdraw, name="withdraw"),
    path("<str:reference>/correct/", views.correct, name="correct"),
    path("<str:reference>/identity/<slug:decision>/", views.settle_identity, name="identity"),
    path("<str:reference>/<slug:action>/", views.act, name="act"),
]
