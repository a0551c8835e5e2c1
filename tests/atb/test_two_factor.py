"""Two-factor sign-in: required for administrators, optional for everyone else."""

from __future__ import annotations

import base64
import datetime as dt

import pytest
import time_machine
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from core.models import AuditAction, AuditEvent
from tests.conftest import PASSWORD


def _sign_in(client, username):
    return client.post(reverse("login"), {"username": username, "password": PASSWORD})


def _code(device: TOTPDevice, offset: int = 0) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits) + offset:06d}"[-6:]


def test_an_administrator_without_a_second_factor_must_set_one_up_before_anything_else(world, client):
    _sign_in(client, "administrator")
    for page in (reverse("admin:index"), reverse("audit_search"), reverse("duplicate_patients")):
        response = client.get(page)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("two_factor_verify"))
    # The verification page sends someone with no device on to set one up.
    setup = client.get(reverse("two_factor_verify"), {"next": reverse("audit_search")}, follow=True)
    assert setup.redirect_chain[-1][0].startswith(reverse("two_factor_setup"))
    html = setup.content.decode()
    assert "Set up two-factor sign-in" in html and 'src="data:image/svg+xml;base64,' in html
    device = TOTPDevice.objects.get(user=world.users["administrator"])
    assert not device.confirmed
    assert base64.b32encode(device.bin_key).decode() in html  # the key, for typing in


def test_a_wrong_code_is_refused_beside_the_field_and_the_right_one_confirms_the_app(world, client):
    # Five seconds into a 30-second code step, so the shift below stays within it.
    step_start = dt.datetime.now(dt.UTC).replace(second=5, microsecond=0)
    with time_machine.travel(step_start, tick=False) as clock:
        _sign_in(client, "administrator")
        client.get(reverse("two_factor_setup"))
        device = TOTPDevice.objects.get(user=world.users["administrator"])

        wrong = client.post(
            reverse("two_factor_setup"), {"token": _code(device, 1), "next": reverse("audit_search")}
        )
        assert wrong.status_code == 200
        assert "does not match" in " ".join(wrong.context["form"].errors["token"])
        assert client.get(reverse("audit_search")).status_code == 302

        clock.shift(dt.timedelta(seconds=2))  # past the throttle a wrong code sets
        right = client.post(
            reverse("two_factor_setup"), {"token": _code(device), "next": reverse("audit_search")}
        )
        assert right.status_code == 302 and right["Location"] == reverse("audit_search")
        device.refresh_from_db()
        assert device.confirmed
        assert client.get(reverse("audit_search")).status_code == 200


def test_every_later_sign_in_asks_for_a_code_and_a_code_is_used_once(world, client):
    device = TOTPDevice.objects.create(user=world.users["administrator"], name="phone", confirmed=True)
    _sign_in(client, "administrator")
    assert client.get(reverse("admin:index"))["Location"].startswith(reverse("two_factor_verify"))
    code = _code(device)
    assert client.post(reverse("two_factor_verify"), {"token": code}).status_code == 302
    assert client.get(reverse("admin:index")).status_code == 200

    client.post(reverse("logout"))
    _sign_in(client, "administrator")
    replayed = client.post(reverse("two_factor_verify"), {"token": code})
    assert replayed.status_code == 200  # the same code cannot be used again
    assert client.get(reverse("admin:index")).status_code == 302
    assert AuditEvent.objects.filter(action=AuditAction.SECOND_FACTOR_FAILED).count() == 1


def test_the_api_refuses_an_unverified_administrator_with_json(world, client):
    _sign_in(client, "administrator")
    response = client.get(reverse("api:performance"))
    assert response.status_code == 403
    assert "second factor" in response.json()["detail"]


def test_two_factor_is_optional_for_other_roles_but_enforced_once_set_up(world, client):
    _sign_in(client, "gp_a")
    assert client.get(reverse("referrals:home")).status_code == 200  # no second factor asked
    device = TOTPDevice.objects.create(user=world.users["gp_a"], name="phone", confirmed=True)
    client.post(reverse("logout"))
    _sign_in(client, "gp_a")
    assert client.get(reverse("referrals:home"))["Location"].startswith(reverse("two_factor_verify"))
    client.post(reverse("two_factor_verify"), {"token": _code(device)})
    assert client.get(reverse("referrals:home")).status_code == 200


@pytest.mark.parametrize("token", ["12345", "abcdef", "1234567"])
def test_a_code_that_is_not_six_digits_is_explained(world, client, token):
    TOTPDevice.objects.create(user=world.users["administrator"], name="phone", confirmed=True)
    _sign_in(client, "administrator")
    response = client.post(reverse("two_factor_verify"), {"token": token})
    assert response.status_code == 200
    assert response.context["form"].errors["token"]


def test_the_next_address_must_be_the_portals_own(world, client):
    device = TOTPDevice.objects.create(user=world.users["administrator"], name="phone", confirmed=True)
    _sign_in(client, "administrator")
    response = client.post(
        reverse("two_factor_verify"), {"token": _code(device), "next": "https://evil.example/"}
    )
    assert response["Location"] == reverse("home")


def test_administrators_can_be_let_off_for_the_demo(world, client, settings):
    settings.ADMIN_TWO_FACTOR = False
    _sign_in(client, "administrator")
    assert client.get(reverse("audit_search")).status_code == 200
