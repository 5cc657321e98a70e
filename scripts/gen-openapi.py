#!/usr/bin/env python3
"""Writes docs/openapi.json, the OpenAPI 3.1 description of Registrar's API.
`tests/openapi.rs` checks it against the code's route table and problem codes,
and the local API serves it at /v1/openapi.json.

    python3 scripts/gen-openapi.py
"""
import json
import pathlib

ROOT = pathlib.Path(__file__).resolve().parent.parent

S = lambda **kw: {"type": "string", **kw}
B = {"type": "boolean"}
I = {"type": "integer"}
NULLABLE_S = {"type": ["string", "null"]}
DATE = {"type": ["string", "null"], "format": "date"}
EMAIL = S(format="email", maxLength=254)
PASSWORD = S(minLength=1, maxLength=1024)
# A new password under the default policy: 8–32 characters (the policy's other
# rules, such as character classes and the common-password list, are checked
# by the server and answered with 422 `validation_failed`).
NEW_PASSWORD = S(minLength=8, maxLength=32)
CODE = S(pattern="^[0-9]{4,10}$")
GENDER = {"type": ["string", "null"], "enum": ["female", "male", "diverse", "undisclosed", None]}
LANG = {"type": ["string", "null"], "examples": ["de", "de-CH"]}


def obj(props, required=(), extra=False):
    return {"type": "object", "properties": props, "required": list(required), "additionalProperties": extra}


SIGN_UP = obj({
    "email": EMAIL, "password": NEW_PASSWORD, "first_name": S(minLength=1, maxLength=100),
    "last_name": S(minLength=1, maxLength=100), "gender": GENDER, "birth_date": DATE, "preferred_language": LANG,
    "time_zone": NULLABLE_S, "terms_accepted": {"const": True}, "privacy_policy_accepted": {"const": True},
}, ["email", "password", "first_name", "last_name", "terms_accepted", "privacy_policy_accepted"])
CODE_BODY = obj({"code": CODE}, ["code"])
PHONE_BODY = obj({"phone": S(), "phone_prefix": S(), "phone_number": S()})
RESEND = obj({"channel": S(enum=["email", "sms"])}, ["channel"])
# device_token: what an earlier sign-in on this device returned (also read from
# the registrar_device cookie); it gives the device its own failure allowance.
LOGIN = obj({"username": S(), "password": PASSWORD, "device_token": S(maxLength=200)}, ["username", "password"])
MFA = obj({"challenge_id": S(), "code": CODE}, ["challenge_id", "code"])
CHALLENGE = obj({"challenge_id": S(), "new_password": NEW_PASSWORD}, ["challenge_id", "new_password"])
REFRESH = obj({"refresh_token": S()})
FORGOT = obj({"email": EMAIL}, ["email"])
RESET = obj({"email": EMAIL, "code": CODE, "new_password": NEW_PASSWORD}, ["email", "code", "new_password"])
PATCH_ME = obj({
    "first_name": S(maxLength=100), "last_name": S(maxLength=100), "gender": GENDER, "birth_date": DATE,
    "preferred_language": S(), "time_zone": NULLABLE_S,
})
CLOSE = obj({"password": PASSWORD}, ["password"])
# current_password: the step-up; without it, only a sign-in within the tenant's
# step_up_window_secs will do (403 step_up_required otherwise).
CREDENTIAL = obj({"type": S(enum=["email", "phone"]), "value": S(), "current_password": PASSWORD}, ["type", "value"])
CREDENTIAL_VERIFY = obj({"type": S(enum=["email", "phone"]), "code": CODE}, ["type", "code"])
CHANGE_PASSWORD = obj({"current_password": PASSWORD, "new_password": NEW_PASSWORD}, ["current_password", "new_password"])
ADDRESS = {"type": ["object", "null"], "properties": {k: NULLABLE_S for k in ["street", "street_nr", "zip", "city", "country", "c_o"]}, "additionalProperties": False}
NEW_USER = obj({
    "email": EMAIL, "first_name": S(maxLength=100), "last_name": S(maxLength=100), "gender": GENDER, "birth_date": DATE,
    "preferred_language": LANG, "time_zone": NULLABLE_S, "phone": NULLABLE_S, "password": PASSWORD, "invite": B,
    "user_type": S(enum=["service_owner", "company_user", "consumer"]),
    "roles": {"type": ["array", "null"], "items": S(pattern="^[A-Za-z0-9._:-]{1,64}$"), "maxItems": 20},
    "company_id": NULLABLE_S, "reset_required": {"type": ["boolean", "null"]}, "nationality": NULLABLE_S,
    "address": ADDRESS, "attributes": {"type": ["object", "null"], "maxProperties": 50},
}, ["email", "first_name", "last_name", "user_type"])
STATUS = obj({"status": S(enum=["C", "A", "S", "D", "X", "created", "active", "suspended", "disabled", "closed"]), "reason": S(minLength=1, maxLength=500)}, ["status", "reason"])

TIME = S(format="date-time")
NULLABLE_TIME = {"type": ["string", "null"], "format": "date-time"}
NEXT = S(enum=["verify_email", "add_phone", "verify_phone", "done"])
REGISTRATION = obj({
    "registration_id": S(), "email": S(), "phone": NULLABLE_S, "phone_required": B, "email_verified": B,
    "phone_verified": B, "completed": B, "next": NEXT, "expires_at": TIME,
}, ["registration_id", "email", "phone", "phone_required", "email_verified", "phone_verified", "completed", "next", "expires_at"])
STEP = obj({"next": NEXT, "message": S()}, ["next"])
CREDENTIALS = {"type": "array", "items": obj({"type": S(enum=["email", "phone"]), "value": S(), "verified": B}, ["type", "value", "verified"])}
ME_PROPS = {
    "user_id": S(), "user_type": S(enum=["service_owner", "company_user", "consumer"]),
    "status": S(enum=["created", "active", "suspended", "disabled", "closed"]), "email": S(), "phone": NULLABLE_S,
    "first_name": S(), "last_name": S(), "gender": GENDER, "birth_date": DATE, "preferred_language": S(),
    "time_zone": NULLABLE_S, "roles": {"type": "array", "items": S()}, "mfa_enabled": B, "created_at": TIME,
    "credentials": CREDENTIALS, "message": S(),
}
ME = obj(ME_PROPS, ["user_id", "user_type", "status", "email", "first_name", "last_name", "roles", "mfa_enabled", "credentials"])
MFA_REQUIRED = obj({"mfa_required": {"const": True}, "challenge_id": S(), "channel": S(enum=["sms", "email"])}, ["mfa_required", "challenge_id", "channel"])
CHANGE_REQUIRED = obj({"password_change_required": {"const": True}, "challenge_id": S()}, ["password_change_required", "challenge_id"])
JWK = obj({"kty": S(enum=["RSA"]), "alg": S(enum=["RS256"]), "use": S(enum=["sig"]), "kid": S(), "n": S(), "e": S()}, ["kty", "alg", "kid", "n", "e"])
AUDIT_EVENT = obj({"event": S(), "at": TIME, "detail": {"type": "object"}}, ["event", "at", "detail"])
COUNTRY = obj({"code": S(), "name": S()}, ["code", "name"], extra=True)
TOKENS = {"$ref": "#/components/schemas/Tokens"}
MESSAGE = obj({"message": S()}, extra=True)

PROBLEM_CODES = sorted({
    "validation_failed", "malformed_body", "unsupported_media_type", "payload_too_large", "unauthorized", "not_found",
    "method_not_allowed", "registration_not_found", "step_out_of_order", "invalid_code", "step_up_required",
    "sms_budget_spent", "sms_country_not_allowed",
    "rate_limited", "send_limit_reached", "email_taken", "phone_taken", "conflict", "unavailable",
    "internal", "invalid_credentials", "account_inactive", "invalid_token", "invalid_device", "challenge_not_found",
    "forbidden", "user_not_found", "invalid_status_change", "reference_not_found",
})

# function, method, path, auth (none|key|bearer|admin), device, body, success status, success schema, problem statuses
ROUTES = [
    ("health", "get", "/v1/health", "none", False, None, 200, obj({"status": S()}, ["status"]), []),
    ("jwks", "get", "/.well-known/jwks.json", "none", False, None, 200, obj({"keys": {"type": "array", "items": JWK}}, ["keys"]), []),
    ("openid-configuration", "get", "/.well-known/openid-configuration", "none", False, None, 200, obj({
        "issuer": S(), "jwks_uri": S(),
        "id_token_signing_alg_values_supported": {"type": "array", "items": {"const": "RS256"}},
        "response_types_supported": {"type": "array", "items": S()},
        "subject_types_supported": {"type": "array", "items": S()},
        "claims_supported": {"type": "array", "items": S()},
    }, ["issuer", "jwks_uri", "id_token_signing_alg_values_supported", "response_types_supported", "subject_types_supported"]), []),
    ("start-registration", "post", "/v1/registrations", "key", False, SIGN_UP, 202, obj({"registration_id": S(), "next": S(), "expires_at": S(format="date-time"), "message": S()}, ["registration_id", "next", "expires_at"]), [400, 413, 415, 422, 429]),
    ("get-registration", "get", "/v1/registrations/{id}", "key", False, None, 200, REGISTRATION, [404]),
    ("verify-registration-email", "post", "/v1/registrations/{id}/email/verify", "key", False, CODE_BODY, 200, STEP, [400, 404, 409, 413, 415, 422, 429]),
    ("add-registration-phone", "post", "/v1/registrations/{id}/phone", "key", False, PHONE_BODY, 202, STEP, [400, 404, 409, 413, 415, 422, 429]),
    ("verify-registration-phone", "post", "/v1/registrations/{id}/phone/verify", "key", False, CODE_BODY, 201, TOKENS, [400, 404, 409, 413, 415, 422, 429]),
    ("resend-registration-code", "post", "/v1/registrations/{id}/resend", "key", False, RESEND, 202, STEP, [400, 404, 409, 413, 415, 422, 429]),
    ("login", "post", "/v1/auth/login", "key", True, LOGIN, 200, {"oneOf": [TOKENS, MFA_REQUIRED, CHANGE_REQUIRED]}, [400, 403, 413, 415, 422, 429]),
    ("verify-mfa", "post", "/v1/auth/mfa", "key", True, MFA, 200, TOKENS, [400, 403, 404, 413, 415, 422, 429]),
    ("complete-password-challenge", "post", "/v1/auth/password/challenge", "key", True, CHALLENGE, 200, TOKENS, [400, 403, 404, 413, 415, 422, 429]),
    ("refresh", "post", "/v1/auth/refresh", "key", True, REFRESH, 200, TOKENS, [400, 409, 413, 415, 422]),
    ("logout", "post", "/v1/auth/logout", "bearer", True, None, 200, MESSAGE, []),
    ("logout-all", "post", "/v1/auth/logout-all", "bearer", False, None, 200, obj({"sessions_revoked": I, "message": S()}, ["sessions_revoked"]), []),
    ("forgot-password", "post", "/v1/auth/password/forgot", "key", False, FORGOT, 202, MESSAGE, [400, 413, 415, 422, 429]),
    ("reset-password", "post", "/v1/auth/password/reset", "key", False, RESET, 200, MESSAGE, [400, 409, 413, 415, 422, 429]),
    ("get-me", "get", "/v1/me", "bearer", False, None, 200, ME, []),
    ("update-me", "patch", "/v1/me", "bearer", False, PATCH_ME, 200, ME, [400, 409, 413, 415, 422]),
    ("close-me", "delete", "/v1/me", "bearer", False, CLOSE, 200, MESSAGE, [400, 409, 413, 415, 422]),
    ("add-credential", "post", "/v1/me/credentials", "bearer", False, CREDENTIAL, 202, MESSAGE, [400, 403, 409, 413, 415, 422, 429]),
    ("verify-credential", "post", "/v1/me/credentials/verify", "bearer", False, CREDENTIAL_VERIFY, 200, obj({"mfa_enabled": B, "message": S()}, ["mfa_enabled"]), [400, 409, 413, 415, 422, 429]),
    ("change-password", "post", "/v1/me/password", "bearer", False, CHANGE_PASSWORD, 200, MESSAGE, [400, 409, 413, 415, 422]),
    ("create-user", "post", "/v1/users", "admin", False, NEW_USER, 201, {"$ref": "#/components/schemas/User"}, [400, 403, 409, 413, 415, 422]),
    ("get-user", "get", "/v1/users/{id}", "admin", False, None, 200, {"$ref": "#/components/schemas/User"}, [403, 404]),
    ("change-user-status", "post", "/v1/users/{id}/status", "admin", False, STATUS, 200, obj({"user_id": S(), "status": S(), "previous_status": S(), "message": S()}, ["user_id", "status", "previous_status"]), [400, 403, 404, 409, 413, 415, 422]),
    ("get-user-audit", "get", "/v1/users/{id}/audit", "admin", False, None, 200, obj({"user_id": S(), "events": {"type": "array", "items": AUDIT_EVENT}, "next": NULLABLE_S}, ["user_id", "events"]), [403, 404, 422]),
    ("list-reference", "get", "/v1/reference/{kind}", "key", False, None, 200, obj({"kind": S(), "items": {"type": "array", "items": COUNTRY}}, ["kind", "items"]), [404]),
    ("get-reference", "get", "/v1/reference/{kind}/{code}", "key", False, None, 200, obj({"code": S(), "name": S()}, ["code", "name"], extra=True), [404]),
]

REASONS = {200: "OK", 201: "Created", 202: "Accepted", 400: "Malformed body", 401: "Not authenticated", 403: "Forbidden",
           404: "Not found", 405: "Method not allowed", 409: "Conflict", 413: "Body over 64 KiB", 415: "Not JSON",
           422: "Invalid input", 429: "Too many requests", 503: "A dependency failed; retry"}


def problem(status):
    response = {"description": REASONS[status], "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}
    if status in (429, 503):
        response["headers"] = {"Retry-After": {"schema": I, "description": "Seconds to wait"}}
    return response


def operation(function, method, path, auth, device, body, ok, schema, problems):
    params = [{"$ref": "#/components/parameters/AcceptLanguage"}, {"$ref": "#/components/parameters/RequestId"}]
    for name in ("id", "kind", "code"):
        if "{" + name + "}" in path:
            params.append({"name": name, "in": "path", "required": True, "schema": S()})
    if function == "get-user-audit":
        params.append({"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 200}})
        params.append({"name": "before", "in": "query", "schema": S()})
    if device:
        params.append({"$ref": "#/components/parameters/DeviceId"})
    if function == "refresh":
        params.append({"name": "refresh_token", "in": "cookie", "schema": S()})
    security = {"none": [], "key": [{"ApiKey": []}], "bearer": [{"ApiKey": [], "Bearer": []}], "admin": [{"ApiKey": [], "Bearer": []}]}[auth]
    responses = {str(ok): {"description": REASONS[ok], "content": {"application/json": {"schema": schema}}}}
    statuses = set(problems)
    if auth != "none":
        statuses.add(401)
    statuses.add(503) if auth != "none" else None
    for status in sorted(statuses):
        responses[str(status)] = problem(status)
    op = {"operationId": function, "summary": function.replace("-", " "), "parameters": params, "security": security, "responses": responses}
    if body is not None:
        op["requestBody"] = {"required": function not in ("refresh",), "content": {"application/json": {"schema": body}}}
    return op


paths = {}
for route in ROUTES:
    paths.setdefault(route[2], {})[route[1]] = operation(*route)
# Verifying the e-mail completes the sign-up when the tenant asks for no phone.
paths["/v1/registrations/{id}/email/verify"]["post"]["responses"]["201"] = {
    "description": "Created: the sign-up is complete (no phone required)",
    "content": {"application/json": {"schema": TOKENS}},
}
paths["/v1/registrations/{id}/email/verify"]["post"]["responses"] = dict(
    sorted(paths["/v1/registrations/{id}/email/verify"]["post"]["responses"].items()))

doc = {
    "openapi": "3.1.0",
    "info": {"title": "Registrar", "version": "0.1.0", "description": "User registration and authentication. Errors are RFC 9457 problem documents with a stable `code`."},
    "servers": [{"url": "http://127.0.0.1:3000"}],
    "paths": paths,
    "components": {
        "securitySchemes": {
            "ApiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
            "Bearer": {"type": "http", "scheme": "bearer", "description": "An access token (JWT RS256), or on /v1/users an admin token (adm_…)"},
        },
        "parameters": {
            "AcceptLanguage": {"name": "Accept-Language", "in": "header", "schema": S(), "description": "en, de, fr, it; q-values honoured"},
            "RequestId": {"name": "X-Request-ID", "in": "header", "schema": S(), "description": "Echoed when 1–128 visible characters, else a new id is generated; deployed, the answer carries API Gateway's request id instead (the one its access log writes) and the caller's is logged beside it"},
            "DeviceId": {"name": "X-Device-ID", "in": "header", "required": True, "schema": S(minLength=1, maxLength=128, pattern="^[!-~]+$")},
        },
        "schemas": {
            "Problem": {
                "type": "object",
                "required": ["type", "title", "status", "detail", "code", "errors", "request_id"],
                "properties": {
                    "type": S(), "title": S(), "status": I, "detail": S(), "request_id": S(),
                    "code": S(enum=PROBLEM_CODES),
                    "errors": {"type": "array", "items": obj({"field": S(), "code": S(), "message": S()}, ["field", "code", "message"])},
                },
                "additionalProperties": True,
            },
            "Tokens": obj({"user_id": S(), "access_token": S(), "token_type": S(enum=["Bearer"]), "expires_in": I, "refresh_token": S(), "device_token": S(), "message": S()},
                          ["user_id", "access_token", "token_type", "expires_in", "refresh_token"]),
            "User": obj({
                **{k: v for k, v in ME_PROPS.items() if k != "credentials"},
                "email_verified": B, "phone_verified": B, "company_id": NULLABLE_S, "partner_id": NULLABLE_S,
                "nationality": NULLABLE_S, "address": ADDRESS, "attributes": {"type": "object"},
                "reset_required": B, "created_by": S(), "updated_at": TIME,
            }, ["user_id", "user_type", "status", "email", "first_name", "last_name", "roles", "mfa_enabled",
                "email_verified", "phone_verified", "reset_required", "created_at", "updated_at"]),
        },
    },
}
out = ROOT / "docs" / "openapi.json"
out.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
print(f"{len(ROUTES)} operations written to {out}")
