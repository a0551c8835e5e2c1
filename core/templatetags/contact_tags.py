"""A phone number a tablet can dial (`core.contact_details`)."""

from django import template

from core.contact_details import tel_uri as _tel_uri

register = template.Library()


@register.filter
def tel_uri(number: str) -> str:
    return _tel_uri(number or "")
