"""No input is a server error, at any door. Every URL of the urlconf (the permission
matrix's, with real records behind it) is requested as every role with each query
parameter it reads set to each bad input; every form the page then shows is posted
with each of its fields so; and every API and FHIR operation gets each JSON field so.
Any 5xx fails, naming the request."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.atb import test_access
from tests.atb.test_access import MATRIX, ROLES, _url
from tests.referrals.test_fhir import _message
from tests.urls import walk

# Each kind of input that has broken a door before.
BAD = {
    "nul": "9\x00' OR 1=1",
    "full_width": "９４３４７６５９１９",
    "superscript": "²³",
    "right_to_left": "\u202e1 niamod",
    "long": "9" * 10_000,
    "wrong_type": "1e3",
}
ALL_BAD = "".join(BAD.values())
# Query parameters the pages read besides their forms' own fields.
PARAMETERS = ["q", "page", "after", "team", "status", "next", "nhs_number", "suggestions", "patient", "list"]


class _Forms(HTMLParser):
    """The forms of a page: (method, action, {field: default value}), with the fields
    that name their form by id (`form="..."`) wherever they stand."""

    def __init__(self):
        super().__init__()
        self.forms: list[tuple[str, str, dict]] = []
        self._by_id: dict[str, dict] = {}
        self._current: dict | None = None
        self._select: tuple[dict, str] | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            fields = self._by_id.setdefault(attrs.get("id") or f"#{len(self.forms)}", {})
            self.forms.append(((attrs.get("method") or "get").lower(), attrs.get("action") or "", fields))
            self._current = fields
            return
        fields = self._by_id.setdefault(attrs["form"], {}) if attrs.get("form") else self._current
        if fields is None:
            return
        name = attrs.get("name")
        if tag in ("input", "textarea", "button") and name:
            if attrs.get("type") in ("checkbox", "radio") and "checked" not in attrs:
                fields.setdefault(name, "")
            else:
                fields[name] = attrs.get("value") or ""
        elif tag == "select" and name:
            self._select = (fields, name)
            fields.setdefault(name, "")
        elif tag == "option" and self._select:
            fields, name = self._select
            if "selected" in attrs or not fields[name]:
                fields[name] = attrs.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "form":
            self._current = None


def _forms(html: str) -> list[tuple[str, str, dict]]:
    parser = _Forms()
    parser.feed(html)
    return parser.forms


def _safe(path: str) -> bool:
    """Not the sign-out (the walk would end), and the portal's own."""
    return not urlsplit(path).netloc and not path.startswith((reverse("logout"), "/admin/logout"))


def _check(sent: list, failures: list, method: str, path: str, response) -> None:
    sent.append(1)
    if response.status_code >= 500:
        failures.append(f"{method} {path} -> {response.status_code}")


def _request(client, method: str, path: str, data: dict, failures: list, sent: list, label: str) -> None:
    try:
        response = client.get(path, data) if method == "get" else client.post(path, data)
    except Exception as error:  # the test client re-raises what the view raised
        failures.append(f"{method.upper()} {path} [{label}] raised {type(error).__name__}: {error}"[:300])
        sent.append(1)
        return
    _check(sent, failures, f"{method.upper()} [{label}]", path, response)


# Names outside the walk: the sign-out ends the session the walk runs in.
WALKED = [name for name in MATRIX if name != "logout"]


@pytest.fixture
def paths(world, monkeypatch):
    """A real path for every URL name: the matrix's records, its caseload entry made once."""
    original = test_access._entry_a
    made = original(world)
    monkeypatch.setattr(test_access, "_entry_a", lambda world: made)
    paths = {}
    for name in WALKED:
        builder = MATRIX[name][0]
        paths[name] = reverse(name, args=made) if builder is original else _url(world, name)
    return paths


@pytest.fixture
def admin_paths(world):
    """The admin's own pages (outside the matrix: staff permissions), with a real record's
    id where the sample has none. Only administrators reach past their sign-in page."""
    return {
        name: path.replace("/x/", f"/{world.patient_a.pk}/")
        for name, path in walk()
        if name.startswith("admin:") and "logout" not in name
    }


def _bad_inputs_for(target: str):
    """Each bad input apart for the portal's own forms; for Django's admin (its own forms
    over the models' fields, which the portal's forms also reach), one value holding them
    all: walked apart, the administrator's walk was the suite's slowest test (72 s)."""
    return [("all", ALL_BAD)] if target.startswith("/admin/") else list(BAD.items())


# Every role but gp_b: the same role as gp_a at the other practice, with the same pages
# over mirrored records, it reaches no code gp_a does not.
WALK_ROLES = [role for role in ROLES if role != "gp_b"]


@pytest.mark.parametrize("role", WALK_ROLES)
def test_every_page_and_form_answers_bad_input_without_a_server_error(
    world, client_for, role, paths, admin_paths, record_walk
):
    client = client_for(world.users[role])
    client.raise_request_exception = True
    failures: list[str] = []
    sent: list[int] = []
    walked = [*paths.values(), *(admin_paths.values() if role == "administrator" else [])]
    # A form that several pages show alike (same action, same fields and values) reaches
    # the same view with the same data: it is walked once.
    posted: set[tuple] = set()
    for path in walked:
        page = client.get(path)
        if page.status_code != 200:
            # Refused (or sent on) before any parameter is read: one request with every
            # bad input at once reaches the refusal and its audit row.
            _request(
                client, "get", path, {parameter: ALL_BAD for parameter in PARAMETERS}, failures, sent, "all"
            )
            continue
        for label, bad in BAD.items():
            _request(client, "get", path, {parameter: bad for parameter in PARAMETERS}, failures, sent, label)
        if "html" not in page.get("Content-Type", ""):
            continue
        for method, action, fields in _forms(page.content.decode()):
            target = urljoin(path, action) if action else path
            if not _safe(target) or not fields:
                continue
            form_key = (
                method,
                target,
                tuple(
                    sorted((name, value) for name, value in fields.items() if name != "csrfmiddlewaretoken")
                ),
            )
            if form_key in posted:
                continue
            posted.add(form_key)
            # One field at a time, the others as the page filled them in, so each field
            # reaches the code that reads it (a form refused for its first field would not).
            for field in fields:
                if field == "csrfmiddlewaretoken":
                    continue
                for label, bad in _bad_inputs_for(target):
                    _request(
                        client, method, target, {**fields, field: bad}, failures, sent, f"{field}={label}"
                    )
    record_walk("pages", role, len(sent))
    assert not failures, "\n".join(failures)


# --- The API and FHIR: every operation's JSON body, each field wrong in each way.

WRONG_JSON = {
    **BAD,
    "number": 12345678901234567890,
    "list": ["x"],
    "object": {"x": 1},
    "null": None,
    "true": True,
}


def _deep(depth: int) -> object:
    nested: object = "x"
    for _ in range(depth):
        nested = [nested]
    return nested


def _operations() -> list[tuple[str, str, list[str]]]:
    """(method, path template, body fields) of every writing operation in the schema."""
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    components = schema["components"]["schemas"]
    found = []
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method not in ("post", "put", "patch"):
                continue
            body = (
                operation.get("requestBody", {})
                .get("content", {})
                .get("application/json", {})
                .get("schema", {})
            )
            ref = body.get("$ref", "")
            properties = components.get(ref.rsplit("/", 1)[-1], {}).get("properties", {}) if ref else {}
            found.append((method, path, list(properties) or ["resourceType", "entry", "patient"]))
    return found


def _concrete(world, template: str) -> str:
    return (
        template.replace("{reference}", world.referral_a.reference)
        .replace("{id}", "1")
        .replace("{pk}", str(world.patient_a.pk))
    )


def _fhir_messages() -> list[tuple[str, object]]:
    """A valid BaRS message with one element at a time made wrong in each way."""

    def changed(label: str, change) -> tuple[str, object]:
        message = _message(message_id=f"walk-{label}")
        resources = {entry["resource"]["resourceType"]: entry["resource"] for entry in message["entry"]}
        change(message, resources)
        return label, message

    def set_in(kind, *keys):
        def setter(value):
            def change(message, resources):
                target = resources[kind]
                for key in keys[:-1]:
                    target = target[key] if not isinstance(target, list) else target[0]
                    if isinstance(target, list):
                        target = target[0]
                target[keys[-1]] = value

            return change

        return setter

    elements = {
        "Patient.family": set_in("Patient", "name", "family"),
        "Patient.given": set_in("Patient", "name", "given"),
        "Patient.birthDate": set_in("Patient", "birthDate"),
        "Patient.postalCode": set_in("Patient", "address", "postalCode"),
        "Patient.line": set_in("Patient", "address", "line"),
        "Patient.identifier": set_in("Patient", "identifier"),
        "Patient.telecom": set_in("Patient", "telecom"),
        "ServiceRequest.requester": set_in("ServiceRequest", "requester", "display"),
        "ServiceRequest.reasonCode": set_in("ServiceRequest", "reasonCode"),
        "MessageHeader.id": set_in("MessageHeader", "id"),
    }
    shapes = {
        **{label: value for label, value in WRONG_JSON.items()},
        "list-of-bad": [BAD["long"]],
        "phone": [{"system": "phone", "value": BAD["long"]}],
        "nhs": [{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": BAD["full_width"]}],
        "year-1": "0001-01-01",
        "year-9999": "9999-12-31",
    }
    messages = [
        changed(f"{element}={shape}", setter(value))
        for element, setter in elements.items()
        for shape, value in shapes.items()
    ]
    messages += [
        changed(
            "unknown-resourceType", lambda m, r: m["entry"].append({"resource": {"resourceType": "Nonsense"}})
        ),
        changed("no-resourceType", lambda m, r: m["entry"].append({"resource": {"id": "x"}})),
        changed("resource-a-string", lambda m, r: m["entry"].append({"resource": "x"})),
        changed("entry-a-string", lambda m, r: m["entry"].append("x")),
    ]
    return messages


# An empty body answered so says the role may not use the operation at all.
REFUSED_WHATEVER_THE_BODY = {401, 403, 404, 405}


@pytest.mark.parametrize("role", WALK_ROLES)
def test_every_api_and_fhir_operation_answers_bad_json_without_a_server_error(world, role, record_walk):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=world.users[role]).key}")
    client.raise_request_exception = True
    failures: list[str] = []
    sent: list[int] = []
    for method, template, fields in _operations():
        path = _concrete(world, template)
        probe = client.generic(method.upper(), path, "{}", content_type="application/json")
        _check(sent, failures, f"{method.upper()} [probe]", path, probe)
        if probe.status_code in REFUSED_WHATEVER_THE_BODY:
            # The role may not use this operation: refused before the body is read, as the
            # page walk's refused pages. One body with every bad value reaches the refusal.
            everything = {field: ALL_BAD for field in fields} or {"x": ALL_BAD}
            response = client.generic(
                method.upper(), path, json.dumps(everything), content_type="application/json"
            )
            _check(sent, failures, f"{method.upper()} [all]", path, response)
            continue
        bodies = [
            (f"{field}={label}", {field: value}) for field in fields for label, value in WRONG_JSON.items()
        ]
        bodies += [("patient.*", {"patient": {k: v for k in ("given_name", "family_name", "nhs_number",
                                                               "date_of_birth", "postcode", "phone")}})
                   for v in WRONG_JSON.values()]  # fmt: skip
        bodies += [("deep", _deep(50_000)), ("not-an-object", ["x"]), ("scalar", "x")]
        if "process-message" in path:
            bodies += _fhir_messages()
        for label, body in bodies:
            try:
                raw = json.dumps(body)
            except (RecursionError, ValueError):
                raw = "[" * 50_000 + "]" * 50_000
            try:
                response = client.generic(method.upper(), path, raw, content_type="application/json")
            except Exception as error:
                failures.append(
                    f"{method.upper()} {path} [{label}] raised {type(error).__name__}: {error}"[:300]
                )
                sent.append(1)
                continue
            _check(sent, failures, f"{method.upper()} [{label}]", path, response)
    record_walk("api", role, len(sent))
    assert not failures, "\n".join(failures)
