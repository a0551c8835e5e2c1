from django.urls import path

from partners import views

app_name = "partners"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("referrals/<str:reference>/", views.referral_page, name="referral"),
    path("referrals/<str:reference>/<slug:action>/", views.act, name="act"),
    path("refer/<int:pk>/", views.refer_on, name="refer_on"),
    path("carers/<int:pk>/add/", views.add_carer, name="add_carer"),
    path("figures/", views.figures_page, name="figures"),
]
