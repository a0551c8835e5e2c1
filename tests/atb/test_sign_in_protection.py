"""Repeated wrong passwords lock the username out from that address (django-axes)."""

from __future__ import annotations

from django.urls import reverse

from core.models import AuditAction, AuditEvent

PASSWORD = "correct-horse-battery-staple"


def _sign_in(client, password, address="10.1.2.3"):
    return client.post(reverse("login"), {"username": "gp_a", "password": password}, REMOTE_ADDR=address)


def test_five_wrong_passwords_lock_the_account_out_even_with_the_right_one(world, client):
    for _ in range(4):
        assert _sign_in(client, "guess").status_code == 200  # the form again, with its message
    locked = _sign_in(client, "guess")
    assert locked.status_code == 429
    assert "Signing in is paused" in locked.content.decode()
    assert "signing in is paused for 30 minutes." in locked.content.decode()  # not "PT30M"
    right = _sign_in(client, PASSWORD)
    assert right.status_code == 429 and "_auth_user_id" not in client.session
    assert AuditEvent.objects.filter(action=AuditAction.SIGN_IN_FAILED, username="gp_a").count() >= 5


def test_the_lockout_is_for_that_address_only(world, client):
    for _ in range(5):
        _sign_in(client, "guess")
    elsewhere = _sign_in(client, PASSWORD, address="10.9.9.9")
    assert elsewhere.status_code == 302 and client.session["_auth_user_id"] == str(world.users["gp_a"].pk)


def test_a_right_password_before_the_limit_resets_the_count(world, client):
    for _ in range(4):
        _sign_in(client, "guess")
    assert _sign_in(client, PASSWORD).status_code == 302
    client.post(reverse("logout"))
    for _ in range(4):
        _sign_in(client, "guess")
    assert _sign_in(client, PASSWORD).status_code == 302


def test_a_weak_new_password_is_refused_with_the_reasons(world, client_for):
    client = client_for(world.users["gp_a"])
    for weak, reason in (
        ("Sunderland1", "at least 12 characters"),
        ("password1234", "too common"),
        ("938475629384", "entirely numeric"),
        (world.users["gp_a"].email.upper(), "too similar"),
    ):
        response = client.post(
            reverse("password_change"),
            {"old_password": PASSWORD, "new_password1": weak, "new_password2": weak},
        )
        assert response.status_code == 200
        assert reason in " ".join(response.context["form"].errors["new_password2"]), weak
    strong = "heather-on-the-wear-at-dawn"
    changed = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": strong, "new_password2": strong},
    )
    assert changed.status_code == 302
