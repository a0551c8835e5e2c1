"""Two-factor sign-in (TOTP, django-otp): required for administrators, optional for
everyone else; once a person has set it up, every sign-in asks for the code."""

from __future__ import annotations

import base64
from io import BytesIO

import django_otp
import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django_otp.plugins.otp_totp.models import TOTPDevice

from core.audit import record_event
from core.forms import TokenForm
from core.middleware import SECOND_FACTOR_NEEDED
from core.models import AuditAction, Role, User

DEVICE_NAME = "Authenticator app"


def second_factor_required(user: User) -> bool:
    """Administrators must use a second factor (if ADMIN_TWO_FACTOR is on, as in
    production); anyone who has set one up must use it."""
    if settings.ADMIN_TWO_FACTOR and (
        user.is_superuser or user.is_staff or user.has_role(Role.ADMINISTRATOR)
    ):
        return True
    return django_otp.user_has_device(user, confirmed=True)


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    # A path of the portal's own: anything else (another site, or a word `redirect` would
    # take for a view's name) goes to the start page.
    if target.startswith("/") and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return settings.LOGIN_REDIRECT_URL


def _qr_code(device: TOTPDevice) -> str:
    """The device's otpauth:// address as an SVG data URL (CSP allows data: images)."""
    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    buffer = BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


def set_up(request: HttpRequest) -> HttpResponse:
    """Add an authenticator app: scan the code (or type the key), then prove it with a
    code from the app, which confirms the device and verifies this session."""
    user = request.user
    if django_otp.user_has_device(user, confirmed=True) and not request.user.is_verified():
        return redirect(f"{settings.OTP_LOGIN_URL}?next={_next_url(request)}")
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first() or TOTPDevice.objects.create(
        user=user, name=DEVICE_NAME, confirmed=False
    )
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["token"]):
            with transaction.atomic():
                device.confirmed = True
                device.save(update_fields=["confirmed"])
                record_event(
                    request=request, action=AuditAction.UPDATE, obj=device, detail="two-factor set up"
                )
            django_otp.login(request, device)
            request.session[SECOND_FACTOR_NEEDED] = True
            messages.success(
                request, "Two-factor sign-in is set up. You will be asked for a code at each sign-in."
            )
            return redirect(_next_url(request))
        form.add_error(
            "token",
            "That code does not match, or came too soon after a wrong one: "
            "wait a moment and type the newest code.",
        )
    return render(
        request,
        "registration/two_factor_setup.html",
        {
            "form": form,
            "qr_code": _qr_code(device),
            "manual_key": base64.b32encode(device.bin_key).decode(),
            "next": _next_url(request),
            "required": settings.ADMIN_TWO_FACTOR and user.has_role(Role.ADMINISTRATOR),
        },
    )


def verify(request: HttpRequest) -> HttpResponse:
    """The second step of signing in: a code from the person's authenticator app."""
    if request.user.is_verified():
        return redirect(_next_url(request))
    if not django_otp.user_has_device(request.user, confirmed=True):
        return redirect(f"{settings.OTP_SETUP_URL}?next={_next_url(request)}")
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = django_otp.match_token(request.user, form.cleaned_data["token"])
        if device is not None:
            django_otp.login(request, device)
            return redirect(_next_url(request))
        record_event(request=request, action=AuditAction.SECOND_FACTOR_FAILED)
        form.add_error(
            "token",
            "That code does not match, or too many codes were tried: wait a moment and type the newest code.",
        )
    return render(request, "registration/two_factor_verify.html", {"form": form, "next": _next_url(request)})
