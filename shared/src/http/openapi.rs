//! The OpenAPI 3.1 document, generated from the route table and the request
//! body types (`body!`): the local API serves it at [`OPENAPI_PATH`], and
//! `cargo run --bin registrar-openapi` writes it to `docs/openapi.json`.
//! Answers are described here; the problem codes come from the English
//! catalogue (`problem-<code>-title`).

use std::sync::OnceLock;

use serde_json::{Map, Value, json};

use super::body::{nullable, object_schema};
use super::handlers::{auth, factors, me, registration, users};
use super::routes::{Auth, Endpoint, ROUTES, Route};

/// Where the local API serves the document.
pub const OPENAPI_PATH: &str = "/v1/openapi.json";

/// The document as served (rendered once).
pub fn served() -> &'static str {
    static TEXT: OnceLock<String> = OnceLock::new();
    TEXT.get_or_init(|| render(&document()))
}

/// The document as written to `docs/openapi.json`: two-space indents, a
/// final newline.
pub fn render(document: &Value) -> String {
    let mut text = serde_json::to_string_pretty(document).unwrap_or_default();
    text.push('\n');
    text
}

/// Where a first factor's answer leads: the steps its `challenge_id` feeds.
fn login_links() -> Value {
    let challenge = json!({ "challenge_id": "$response.body#/challenge_id" });
    json!({
        "VerifyMfa": { "operationId": "verify-mfa", "requestBody": challenge },
        "SendMfaCode": { "operationId": "send-mfa-code", "requestBody": challenge },
        "CompletePasswordChallenge": { "operationId": "complete-password-challenge", "requestBody": challenge },
        "AcceptLegalDocuments": { "operationId": "accept-legal-documents", "requestBody": challenge },
    })
}

fn string() -> Value {
    json!({ "type": "string" })
}

fn nullable_string() -> Value {
    json!({ "type": ["string", "null"] })
}

fn object(properties: Vec<(&str, Value)>, required: Vec<&str>) -> Value {
    object_schema(properties, required)
}

fn open_object(properties: Vec<(&str, Value)>, required: Vec<&str>) -> Value {
    let mut schema = object_schema(properties, required);
    schema["additionalProperties"] = Value::Bool(true);
    schema
}

fn reference(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

fn time() -> Value {
    json!({ "type": "string", "format": "date-time" })
}

fn message() -> Value {
    open_object(vec![("message", string())], vec![])
}

const USER_TYPES: [&str; 3] = ["service_owner", "company_user", "consumer"];
const STATUSES: [&str; 5] = ["created", "active", "suspended", "disabled", "closed"];

fn next_step() -> Value {
    json!({ "type": "string", "enum": ["verify_email", "add_phone", "verify_phone", "done"] })
}

fn step() -> Value {
    object(vec![("next", next_step()), ("message", string())], vec!["next"])
}

fn gender() -> Value {
    nullable(json!({ "type": "string", "enum": crate::domain::values::GENDERS }))
}

fn date() -> Value {
    json!({ "type": ["string", "null"], "format": "date" })
}

/// What every profile answer has (`GET /v1/me` and the user view).
const PROFILE_REQUIRED: [&str; 8] =
    ["user_id", "user_type", "status", "email", "first_name", "last_name", "roles", "mfa_enabled"];

/// The profile fields of `GET /v1/me` (the user view has them too).
fn profile_properties() -> Vec<(&'static str, Value)> {
    vec![
        ("user_id", string()),
        ("user_type", json!({ "type": "string", "enum": USER_TYPES })),
        ("status", json!({ "type": "string", "enum": STATUSES })),
        ("email", nullable_string()),
        ("phone", nullable_string()),
        ("username", nullable_string()),
        ("first_name", string()),
        ("last_name", string()),
        ("gender", gender()),
        ("birth_date", date()),
        ("preferred_language", string()),
        ("time_zone", nullable_string()),
        ("roles", json!({ "type": "array", "items": string() })),
        ("mfa_enabled", json!({ "type": "boolean" })),
        ("created_at", time()),
        ("message", string()),
    ]
}

fn me() -> Value {
    let mut properties = profile_properties();
    let credential = object(
        vec![
            ("type", json!({ "type": "string", "enum": ["email", "phone"] })),
            ("value", string()),
            ("verified", json!({ "type": "boolean" })),
        ],
        vec!["type", "value", "verified"],
    );
    properties.push(("credentials", json!({ "type": "array", "items": credential })));
    object(properties, [PROFILE_REQUIRED.as_slice(), &["credentials"]].concat())
}

fn user() -> Value {
    let mut properties = profile_properties();
    properties.extend([
        ("email_verified", json!({ "type": "boolean" })),
        ("phone_verified", json!({ "type": "boolean" })),
        ("company_id", nullable_string()),
        ("partner_id", nullable_string()),
        ("nationality", nullable_string()),
        ("address", nullable(<users::AddressField as super::body::FieldKind>::schema())),
        ("attributes", json!({ "type": "object" })),
        ("references", json!({ "type": "object", "additionalProperties": { "type": "string" } })),
        ("reset_required", json!({ "type": "boolean" })),
        ("created_by", string()),
        ("updated_at", time()),
        ("lockout", lockout()),
        ("terms", nullable(acceptance())),
        ("privacy", nullable(acceptance())),
        ("personal_data_consent_at", nullable(time())),
    ]);
    object(
        properties,
        [
            PROFILE_REQUIRED.as_slice(),
            &["email_verified", "phone_verified", "reset_required", "created_at", "updated_at"],
        ]
        .concat(),
    )
}

/// What a login (or one of its challenges) answers: tokens, or the next
/// challenge.
fn login_answer() -> Value {
    let mfa = object(
        vec![
            ("mfa_required", json!({ "const": true })),
            ("challenge_id", string()),
            (
                "factors",
                json!({
                    "type": "array", "minItems": 1,
                    "items": { "type": "string", "enum": ["passkey", "totp", "sms", "email", "recovery_code"] },
                }),
            ),
            ("channel", json!({ "type": "string", "enum": ["sms", "email"] })),
            // Within the SMS cooldown: no code was sent; seconds until one may be.
            ("retry_after", json!({ "type": "integer", "minimum": 1 })),
        ],
        vec!["mfa_required", "challenge_id", "factors"],
    );
    let change = object(
        vec![("password_change_required", json!({ "const": true })), ("challenge_id", string())],
        vec!["password_change_required", "challenge_id"],
    );
    let document = object(
        vec![("code", json!({ "type": "string", "enum": ["terms", "privacy"] })), ("version", string())],
        vec!["code", "version"],
    );
    let legal = object(
        vec![
            ("legal_acceptance_required", json!({ "const": true })),
            ("challenge_id", string()),
            ("documents", json!({ "type": "array", "items": document, "minItems": 1 })),
        ],
        vec!["legal_acceptance_required", "challenge_id", "documents"],
    );
    json!({ "oneOf": [reference("Tokens"), mfa, change, legal] })
}

/// A WebAuthn ceremony's start: its id and the options for the browser.
fn ceremony() -> Value {
    object(
        vec![
            ("ceremony_id", json!({ "type": "string", "pattern": "^cer_[0-9a-f]{32}$" })),
            ("publicKey", json!({ "type": "object", "required": ["challenge"] })),
        ],
        vec!["ceremony_id", "publicKey"],
    )
}

/// A passkey as its owner sees it.
fn passkey_view() -> Value {
    object(
        vec![
            ("id", string()),
            ("name", string()),
            ("created_at", json!({ "type": "string", "format": "date-time" })),
            ("last_used_at", json!({ "type": ["string", "null"], "format": "date-time" })),
            ("backup_eligible", json!({ "type": "boolean" })),
            ("backed_up", json!({ "type": "boolean" })),
        ],
        vec!["id", "name", "created_at", "last_used_at", "backup_eligible", "backed_up"],
    )
}

/// `GET /v1/me/sessions`: the caller's live sessions.
fn sessions_view() -> Value {
    let session = object(
        vec![
            ("id", json!({ "type": "string", "pattern": "^ses_[0-9a-f]{32}$" })),
            ("device_id", nullable_string()),
            ("created_at", time()),
            ("last_used_at", time()),
            ("expires_at", time()),
            ("current", json!({ "type": "boolean" })),
        ],
        vec!["id", "device_id", "created_at", "last_used_at", "expires_at", "current"],
    );
    object(vec![("sessions", json!({ "type": "array", "items": session }))], vec!["sessions"])
}

/// `GET /v1/me/factors`.
fn factors_view() -> Value {
    let credential = || {
        json!({ "oneOf": [
            { "type": "null" },
            object(vec![("value", string()), ("verified", json!({ "type": "boolean" }))], vec!["value", "verified"]),
        ] })
    };
    let totp = json!({ "oneOf": [
        { "type": "null" },
        object(
            vec![
                ("confirmed", json!({ "type": "boolean" })),
                ("created_at", json!({ "type": "string", "format": "date-time" })),
                ("confirmed_at", json!({ "type": ["string", "null"], "format": "date-time" })),
            ],
            vec!["confirmed", "created_at", "confirmed_at"],
        ),
    ] });
    let factor = json!({ "type": "string", "enum": ["passkey", "totp", "sms", "email", "recovery_code"] });
    object(
        vec![
            ("email", credential()),
            ("phone", credential()),
            ("totp", totp),
            ("passkeys", json!({ "type": "array", "items": passkey_view() })),
            ("recovery_codes_left", json!({ "type": "integer", "minimum": 0 })),
            ("allowed", json!({ "type": "array", "items": factor })),
            ("required", json!({ "type": "boolean" })),
        ],
        vec!["email", "phone", "totp", "passkeys", "recovery_codes_left", "allowed", "required"],
    )
}

/// A reference entry: its code and name, and what its kind adds.
fn reference_entry() -> Value {
    object(
        vec![
            ("code", string()),
            ("name", string()),
            ("version", string()),
            ("demonym", string()),
            ("utc_offset", json!({ "type": "string", "pattern": "^[+-][0-9]{2}:[0-9]{2}$" })),
        ],
        vec!["code", "name"],
    )
}

/// A legal document's accepted version, and when.
fn acceptance() -> Value {
    object(vec![("version", string()), ("accepted_at", time())], vec!["version", "accepted_at"])
}

/// An account's lockout, as admins see it.
fn lockout() -> Value {
    object(
        vec![
            ("failed_attempts", json!({ "type": "integer", "minimum": 0 })),
            ("last_failure_at", nullable(time())),
            ("locked_until", nullable(time())),
        ],
        vec!["failed_attempts", "last_failure_at", "locked_until"],
    )
}

fn tokens() -> Value {
    object(
        vec![
            ("user_id", string()),
            ("access_token", string()),
            ("token_type", json!({ "type": "string", "enum": ["Bearer"] })),
            ("expires_in", json!({ "type": "integer" })),
            ("refresh_token", string()),
            ("scope", string()),
            ("device_token", string()),
            ("message", string()),
        ],
        vec!["user_id", "access_token", "token_type", "expires_in", "refresh_token", "scope"],
    )
}

fn problem_schema() -> Value {
    let mut codes: Vec<&str> = crate::i18n::SOURCES[0]
        .1
        .lines()
        .filter_map(|l| l.strip_prefix("problem-"))
        .filter_map(|l| l.split_once("-title").map(|(code, _)| code))
        .collect();
    codes.sort_unstable();
    let error =
        object(vec![("field", string()), ("code", string()), ("message", string())], vec!["field", "code", "message"]);
    open_object(
        vec![
            ("type", string()),
            ("title", string()),
            ("status", json!({ "type": "integer" })),
            ("detail", string()),
            ("request_id", string()),
            ("code", json!({ "type": "string", "enum": codes })),
            ("errors", json!({ "type": "array", "items": error })),
        ],
        vec!["type", "title", "status", "detail", "code", "errors", "request_id"],
    )
}

/// What an operation's documentation needs beyond its row of the table.
struct Operation {
    /// The request body's schema (`None`: no body).
    body: Option<Value>,
    /// Whether the body is required.
    body_required: bool,
    /// The success status and its schema.
    ok: (u16, Value),
    /// Problem statuses besides 401 and 503 (added for authenticated routes).
    problems: &'static [u16],
    /// Whether `X-Device-ID` is required.
    device: bool,
    /// Links from the success answer to the operations that use its ids.
    links: Value,
}

/// The phone in E.164, or as prefix and number: one way, not both (each
/// way a complete schema, so generators need not solve the combination).
fn phone_body() -> Value {
    let whole = super::body::PhoneBody::schema();
    let way = |names: &[&str]| {
        let properties = names.iter().map(|n| (*n, whole["properties"][*n].clone())).collect();
        object_schema(properties, names.to_vec())
    };
    json!({ "oneOf": [way(&["phone"]), way(&["phone_prefix", "phone_number"])] })
}

/// The first step of a sign-up, one way per kind of tenant: with the
/// e-mail address (no phone yet), or with the phone in E.164 or in parts
/// (the address required where the tenant requires it).
fn start_registration_body() -> Value {
    let whole = registration::StartRegistrationBody::schema();
    let way = |without: &[&str], required: &[&str]| {
        let mut way = whole.clone();
        if let Some(properties) = way["properties"].as_object_mut() {
            properties.retain(|name, _| !without.contains(&name.as_str()));
        }
        if let Some(names) = way["required"].as_array_mut() {
            names.extend(required.iter().map(|n| json!(n)));
        }
        way
    };
    json!({ "oneOf": [
        way(&["phone", "phone_prefix", "phone_number"], &["email"]),
        way(&["phone_prefix", "phone_number"], &["phone"]),
        way(&["phone"], &["phone_prefix", "phone_number"]),
    ] })
}

const POST_PROBLEMS: &[u16] = &[400, 404, 409, 413, 415, 422, 429];

fn operation(endpoint: Endpoint) -> Operation {
    let plain = |ok: (u16, Value)| Operation {
        body: None,
        body_required: true,
        ok,
        problems: &[],
        device: false,
        links: Value::Null,
    };
    let with_body = |body: Value, ok: (u16, Value), problems: &'static [u16]| Operation {
        body: Some(body),
        body_required: true,
        ok,
        problems,
        device: false,
        links: Value::Null,
    };
    let registration_links = || {
        let id = json!({ "id": "$response.body#/registration_id" });
        json!({
            "GetRegistration": { "operationId": "get-registration", "parameters": id },
            "VerifyRegistrationEmail": { "operationId": "verify-registration-email", "parameters": id },
            "AddRegistrationPhone": { "operationId": "add-registration-phone", "parameters": id },
            "ResendRegistrationCode": { "operationId": "resend-registration-code", "parameters": id },
        })
    };
    let user_links = || {
        let id = json!({ "id": "$response.body#/user_id" });
        json!({
            "GetUser": { "operationId": "get-user", "parameters": id },
            "UpdateUser": { "operationId": "update-user", "parameters": id },
            "ChangeUserStatus": { "operationId": "change-user-status", "parameters": id },
            "GetUserAudit": { "operationId": "get-user-audit", "parameters": id },
            "UnlockUser": { "operationId": "unlock-user", "parameters": id },
            "ResetUserPassword": { "operationId": "reset-user-password", "parameters": id },
            "RevokeUserSessions": { "operationId": "revoke-user-sessions", "parameters": id },
        })
    };
    match endpoint {
        Endpoint::Health => plain((200, object(vec![("status", string())], vec!["status"]))),
        Endpoint::Jwks => {
            let jwk = object(
                vec![
                    ("kty", json!({ "type": "string", "enum": ["RSA"] })),
                    ("alg", json!({ "type": "string", "enum": ["RS256"] })),
                    ("use", json!({ "type": "string", "enum": ["sig"] })),
                    ("kid", string()),
                    ("n", string()),
                    ("e", string()),
                ],
                vec!["kty", "alg", "kid", "n", "e"],
            );
            plain((200, object(vec![("keys", json!({ "type": "array", "items": jwk }))], vec!["keys"])))
        }
        Endpoint::OpenidConfiguration => {
            let strings = json!({ "type": "array", "items": string() });
            plain((
                200,
                object(
                    vec![
                        ("issuer", string()),
                        ("jwks_uri", string()),
                        (
                            "id_token_signing_alg_values_supported",
                            json!({ "type": "array", "items": { "const": "RS256" } }),
                        ),
                        ("response_types_supported", strings.clone()),
                        ("subject_types_supported", strings.clone()),
                        ("claims_supported", strings),
                    ],
                    vec![
                        "issuer",
                        "jwks_uri",
                        "id_token_signing_alg_values_supported",
                        "response_types_supported",
                        "subject_types_supported",
                    ],
                ),
            ))
        }
        // The preflight is API Gateway's concern in the document: not listed.
        Endpoint::Preflight => plain((204, Value::Null)),
        Endpoint::StartRegistration => {
            let started = object(
                vec![
                    ("registration_id", json!({ "type": "string", "pattern": "^reg_[0-9a-f]{32}$" })),
                    ("next", string()),
                    ("expires_at", time()),
                    ("message", string()),
                ],
                vec!["registration_id", "next", "expires_at"],
            );
            Operation {
                links: registration_links(),
                ..with_body(start_registration_body(), (202, started), &[400, 409, 413, 415, 422, 429])
            }
        }
        Endpoint::GetRegistration => {
            let status = object(
                vec![
                    ("registration_id", string()),
                    ("email", nullable_string()),
                    ("phone", nullable_string()),
                    ("phone_required", json!({ "type": "boolean" })),
                    ("email_verified", json!({ "type": "boolean" })),
                    ("phone_verified", json!({ "type": "boolean" })),
                    ("username", string()),
                    ("steps", json!({ "type": "array", "items": next_step() })),
                    ("completed", json!({ "type": "boolean" })),
                    ("next", next_step()),
                    ("expires_at", time()),
                ],
                vec![
                    "registration_id",
                    "email",
                    "phone",
                    "phone_required",
                    "email_verified",
                    "phone_verified",
                    "completed",
                    "next",
                    "steps",
                    "expires_at",
                ],
            );
            Operation { problems: &[404], ..plain((200, status)) }
        }
        Endpoint::VerifyRegistrationEmail => with_body(registration::CodeBody::schema(), (200, step()), POST_PROBLEMS),
        Endpoint::AddRegistrationPhone => Operation {
            links: json!({
                "VerifyRegistrationPhone": {
                    "operationId": "verify-registration-phone",
                    "parameters": { "id": "$request.path.id" },
                },
            }),
            ..with_body(phone_body(), (202, step()), POST_PROBLEMS)
        },
        // A sign-up that started with the phone goes on to the e-mail (200).
        Endpoint::VerifyRegistrationPhone => with_body(registration::CodeBody::schema(), (200, step()), POST_PROBLEMS),
        Endpoint::ResendRegistrationCode => with_body(registration::ResendBody::schema(), (202, step()), POST_PROBLEMS),
        Endpoint::Login => Operation {
            device: true,
            links: login_links(),
            ..with_body(auth::LoginBody::schema(), (200, login_answer()), &[400, 403, 413, 415, 422, 429])
        },
        Endpoint::SendSignInCode => Operation {
            device: true,
            ..with_body(auth::SignInCodeSendBody::schema(), (202, message()), &[400, 403, 413, 415, 422, 429])
        },
        Endpoint::SignInWithCode => Operation {
            device: true,
            links: login_links(),
            ..with_body(auth::SignInCodeBody::schema(), (200, login_answer()), &[400, 403, 413, 415, 422, 429])
        },
        Endpoint::VerifyMfa => Operation {
            device: true,
            ..with_body(auth::MfaBody::schema(), (200, login_answer()), &[400, 403, 404, 413, 415, 422, 429])
        },
        Endpoint::SendMfaCode => Operation {
            device: true,
            ..with_body(auth::SendMfaCodeBody::schema(), (202, message()), &[400, 403, 404, 413, 415, 422, 429])
        },
        Endpoint::CompletePasswordChallenge => Operation {
            device: true,
            ..with_body(
                auth::PasswordChallengeBody::schema(),
                (200, login_answer()),
                &[400, 403, 404, 413, 415, 422, 429],
            )
        },
        Endpoint::AcceptLegalDocuments => Operation {
            device: true,
            ..with_body(
                auth::LegalAcceptanceBody::schema(),
                (200, login_answer()),
                &[400, 403, 404, 413, 415, 422, 429],
            )
        },
        Endpoint::Refresh => Operation {
            device: true,
            body_required: false,
            ..with_body(auth::RefreshBody::schema(), (200, reference("Tokens")), &[400, 409, 413, 415, 422])
        },
        Endpoint::Logout => Operation { device: true, ..plain((200, message())) },
        Endpoint::LogoutAll => plain((
            200,
            object(
                vec![("sessions_revoked", json!({ "type": "integer" })), ("message", string())],
                vec!["sessions_revoked"],
            ),
        )),
        Endpoint::ForgotPassword => {
            with_body(auth::ForgotPasswordBody::schema(), (202, message()), &[400, 413, 415, 422, 429])
        }
        Endpoint::ResetPassword => {
            with_body(auth::ResetPasswordBody::schema(), (200, message()), &[400, 409, 413, 415, 422, 429])
        }
        Endpoint::GetMe => plain((200, me())),
        Endpoint::UpdateMe => with_body(me::UpdateMeBody::schema(), (200, me()), &[400, 403, 409, 413, 415, 422]),
        Endpoint::CloseMe => with_body(me::CloseMeBody::schema(), (200, message()), &[400, 409, 413, 415, 422]),
        Endpoint::AddCredential => {
            with_body(me::AddCredentialBody::schema(), (202, message()), &[400, 403, 409, 413, 415, 422, 429])
        }
        Endpoint::VerifyCredential => with_body(
            me::VerifyCredentialBody::schema(),
            (
                200,
                object(vec![("mfa_enabled", json!({ "type": "boolean" })), ("message", string())], vec!["mfa_enabled"]),
            ),
            &[400, 409, 413, 415, 422, 429],
        ),
        Endpoint::ChangePassword => {
            with_body(me::ChangePasswordBody::schema(), (200, message()), &[400, 409, 413, 415, 422])
        }
        Endpoint::ListSessions => plain((200, sessions_view())),
        // A malformed id is 422 (field `id`); an unknown one, or another
        // user's, 404 alike.
        Endpoint::DeleteSession => Operation { problems: &[404, 422], ..plain((200, message())) },
        Endpoint::GetFactors => plain((200, factors_view())),
        Endpoint::EnrollTotp => with_body(
            factors::StepUpBody::schema(),
            (
                201,
                object(
                    vec![
                        ("secret", json!({ "type": "string", "pattern": "^[A-Z2-7]+=*$" })),
                        ("otpauth_uri", json!({ "type": "string", "pattern": "^otpauth://totp/" })),
                        ("qr_svg", string()),
                        ("message", string()),
                    ],
                    vec!["secret", "otpauth_uri", "qr_svg"],
                ),
            ),
            &[400, 403, 409, 413, 415, 422, 429],
        ),
        Endpoint::ConfirmTotp => with_body(
            factors::ConfirmTotpBody::schema(),
            (
                200,
                object(
                    vec![
                        ("totp", json!({ "const": "enabled" })),
                        ("recovery_codes", json!({ "type": ["array", "null"], "items": string() })),
                        ("message", string()),
                    ],
                    vec!["totp", "recovery_codes"],
                ),
            ),
            &[400, 409, 413, 415, 422, 429],
        ),
        Endpoint::RemoveTotp => with_body(factors::StepUpBody::schema(), (200, message()), &[400, 409, 413, 415, 422]),
        Endpoint::RegenerateRecoveryCodes => with_body(
            factors::StepUpBody::schema(),
            (
                200,
                object(
                    vec![
                        (
                            "recovery_codes",
                            json!({ "type": "array", "items": string(), "minItems": 10, "maxItems": 10 }),
                        ),
                        ("message", string()),
                    ],
                    vec!["recovery_codes"],
                ),
            ),
            &[400, 409, 413, 415, 422],
        ),
        Endpoint::BeginPasskeyRegistration => {
            with_body(factors::StepUpBody::schema(), (200, ceremony()), &[400, 403, 409, 413, 415, 422])
        }
        Endpoint::FinishPasskeyRegistration => with_body(
            factors::RegisterPasskeyBody::schema(),
            (
                201,
                object(
                    vec![
                        ("passkey", passkey_view()),
                        ("recovery_codes", json!({ "type": ["array", "null"], "items": string() })),
                        ("message", string()),
                    ],
                    vec!["passkey", "recovery_codes"],
                ),
            ),
            &[400, 403, 404, 409, 413, 415, 422],
        ),
        Endpoint::DeletePasskey => {
            with_body(factors::StepUpBody::schema(), (200, message()), &[400, 404, 413, 415, 422])
        }
        Endpoint::PasskeySignInOptions => Operation {
            device: true,
            body_required: false,
            ..with_body(
                factors::SignInOptionsBody::schema(),
                (200, ceremony()),
                &[400, 403, 404, 409, 413, 415, 422, 429],
            )
        },
        Endpoint::PasskeySignIn => Operation {
            device: true,
            ..with_body(
                factors::PasskeySignInBody::schema(),
                (200, login_answer()),
                &[400, 401, 403, 404, 409, 413, 415, 422, 429],
            )
        },
        Endpoint::CreateUser => Operation {
            links: user_links(),
            ..with_body(users::CreateUserBody::schema(), (201, reference("User")), &[400, 403, 409, 413, 415, 422])
        },
        Endpoint::ImportUsers => {
            let error = object(
                vec![("code", string()), ("field", json!({ "type": ["string", "null"] }))],
                vec!["code", "field"],
            );
            let result = object(
                vec![("index", json!({ "type": "integer", "minimum": 0 })), ("user_id", string()), ("error", error)],
                vec!["index"],
            );
            let answer = object(
                vec![
                    ("imported", json!({ "type": "integer", "minimum": 0 })),
                    ("results", json!({ "type": "array", "items": result })),
                ],
                vec!["imported", "results"],
            );
            with_body(users::ImportUsersBody::schema(), (200, answer), &[400, 403, 413, 415, 422])
        }
        Endpoint::ListUsers => {
            let page = object(
                vec![("users", json!({ "type": "array", "items": reference("User") })), ("next", nullable_string())],
                vec!["users"],
            );
            Operation { problems: &[403, 422], ..plain((200, page)) }
        }
        Endpoint::GetUser => Operation { problems: &[403, 404], ..plain((200, reference("User"))) },
        Endpoint::ChangeUserStatus => with_body(
            users::ChangeUserStatusBody::schema(),
            (
                200,
                object(
                    vec![
                        ("user_id", string()),
                        ("status", string()),
                        ("previous_status", string()),
                        ("message", string()),
                    ],
                    vec!["user_id", "status", "previous_status"],
                ),
            ),
            &[400, 403, 404, 409, 413, 415, 422],
        ),
        Endpoint::UpdateUser => {
            with_body(users::UpdateUserBody::schema(), (200, reference("User")), &[400, 403, 404, 409, 413, 415, 422])
        }
        Endpoint::UnlockUser => with_body(
            users::ReasonBody::schema(),
            (
                200,
                object(
                    vec![("user_id", string()), ("previous", lockout()), ("message", string())],
                    vec!["user_id", "previous"],
                ),
            ),
            &[400, 403, 404, 413, 415, 422],
        ),
        Endpoint::ResetUserPassword => with_body(
            users::ResetUserPasswordBody::schema(),
            (
                200,
                object(
                    vec![
                        ("user_id", string()),
                        (
                            "method",
                            json!({ "type": "string", "enum": <users::ResetMethods as super::body::Choice>::CHOICES }),
                        ),
                        ("message", string()),
                    ],
                    vec!["user_id", "method"],
                ),
            ),
            &[400, 403, 404, 413, 415, 422, 429],
        ),
        Endpoint::RevokeUserSessions => with_body(
            users::ReasonBody::schema(),
            (
                200,
                object(
                    vec![
                        ("user_id", string()),
                        ("sessions_revoked", json!({ "type": "integer", "minimum": 0 })),
                        ("message", string()),
                    ],
                    vec!["user_id", "sessions_revoked"],
                ),
            ),
            &[400, 403, 404, 413, 415, 422],
        ),
        Endpoint::GetUserAudit => {
            let event = object(
                vec![("event", string()), ("at", time()), ("detail", json!({ "type": "object" }))],
                vec!["event", "at", "detail"],
            );
            let page = object(
                vec![
                    ("user_id", string()),
                    ("events", json!({ "type": "array", "items": event })),
                    ("next", nullable_string()),
                ],
                vec!["user_id", "events"],
            );
            Operation { problems: &[403, 404, 422], ..plain((200, page)) }
        }
        Endpoint::ListReference => {
            let entry = reference_entry();
            let list = object(
                vec![("kind", string()), ("items", json!({ "type": "array", "items": entry }))],
                vec!["kind", "items"],
            );
            Operation { problems: &[404], ..plain((200, list)) }
        }
        Endpoint::PutReference => {
            let entry = object(
                vec![
                    ("kind", string()),
                    ("code", string()),
                    ("names", json!({ "type": "object", "additionalProperties": string() })),
                ],
                vec!["kind", "code", "names"],
            );
            with_body(
                super::handlers::reference::PutReferenceBody::schema(),
                (200, entry),
                &[400, 403, 409, 413, 415, 422],
            )
        }
        Endpoint::DeleteReference => {
            let removed = object(
                vec![("kind", string()), ("code", string()), ("message", string())],
                vec!["kind", "code", "message"],
            );
            Operation { problems: &[403, 404, 409, 422], ..plain((200, removed)) }
        }
        Endpoint::GetReference => Operation { problems: &[404], ..plain((200, reference_entry())) },
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No content",
        400 => "Malformed body",
        401 => "Not authenticated",
        403 => "Forbidden",
        404 => "Not found",
        405 => "Method not allowed",
        409 => "Conflict",
        413 => "Body over 64 KiB",
        415 => "Not JSON",
        422 => "Invalid input",
        429 => "Too many requests",
        _ => "A dependency failed; retry",
    }
}

fn problem_response(status: u16) -> Value {
    let mut response = json!({
        "description": reason(status),
        "content": { "application/problem+json": { "schema": reference("Problem") } },
    });
    if status == 429 || status == 503 {
        response["headers"] =
            json!({ "Retry-After": { "schema": { "type": "integer" }, "description": "Seconds to wait" } });
    }
    response
}

/// A page cursor in the query (`domain::paging::Cursor`): a previous
/// page's `next`, base64url of at most 1024 bytes.
fn cursor_parameter(name: &str) -> Value {
    json!({
        "name": name, "in": "query",
        "description": "The `next` of the previous page; anything else is a 422 `invalid_cursor`.",
        "schema": { "type": "string", "pattern": "^[A-Za-z0-9_-]+$", "maxLength": 1366 },
    })
}

/// The schema of a path parameter.
fn path_parameter(route: &Route, name: &str) -> Value {
    let schema = match (route.endpoint, name) {
        // The built-in kinds, or one of the tenant's own.
        (
            Endpoint::ListReference | Endpoint::GetReference | Endpoint::PutReference | Endpoint::DeleteReference,
            "kind",
        ) => {
            json!({ "type": "string", "pattern": "^[a-z][a-z0-9-]{1,39}$", "examples": crate::domain::reference::BUILT_IN })
        }
        // A time zone's `/` percent-encoded (`Europe%2FZurich`).
        (_, "code") => json!({ "type": "string", "minLength": 1, "maxLength": 64, "pattern": "^[A-Za-z0-9._%+-]+$" }),
        (_, _) if route.path.starts_with("/v1/registrations/") => {
            json!({ "type": "string", "pattern": "^reg_[0-9a-f]{32}$" })
        }
        (Endpoint::DeletePasskey, _) => json!({ "type": "string", "pattern": "^pk_[0-9a-f]{32}$" }),
        (Endpoint::DeleteSession, _) => json!({ "type": "string", "pattern": "^ses_[0-9a-f]{32}$" }),
        _ => json!({ "type": "string", "pattern": "^usr_[0-9a-f]{32}$" }),
    };
    json!({ "name": name, "in": "path", "required": true, "schema": schema })
}

fn path_item_operation(route: &Route) -> Value {
    let op = operation(route.endpoint);
    let mut parameters = vec![
        json!({ "$ref": "#/components/parameters/AcceptLanguage" }),
        json!({ "$ref": "#/components/parameters/RequestId" }),
    ];
    for name in ["id", "kind", "code"] {
        if route.path.contains(&format!("{{{name}}}")) {
            parameters.push(path_parameter(route, name));
        }
    }
    if route.endpoint == Endpoint::ListUsers {
        let status = json!(["created", "active", "suspended", "disabled", "closed", "C", "A", "S", "D", "X"]);
        parameters.extend([
            json!({ "name": "email", "in": "query", "schema": { "type": "string", "format": "email", "maxLength": 254 } }),
            json!({ "name": "phone", "in": "query", "schema": { "type": "string", "pattern": "^\\+[1-9][0-9]{6,14}$" } }),
            json!({ "name": "username", "in": "query", "schema": { "type": "string", "pattern": "^[A-Za-z][A-Za-z0-9._-]{2,31}$" } }),
            json!({ "name": "status", "in": "query", "schema": { "type": "string", "enum": status } }),
            json!({ "name": "company_id", "in": "query", "schema": { "type": "string", "minLength": 1, "maxLength": 64, "pattern": "\\S" } }),
            json!({ "name": "limit", "in": "query", "schema": { "type": "integer", "minimum": 1, "maximum": 200 } }),
            cursor_parameter("after"),
        ]);
    }
    if route.endpoint == Endpoint::GetUserAudit {
        parameters.push(
            json!({ "name": "limit", "in": "query", "schema": { "type": "integer", "minimum": 1, "maximum": 200 } }),
        );
        parameters.push(cursor_parameter("before"));
    }
    if op.device {
        parameters.push(json!({ "$ref": "#/components/parameters/DeviceId" }));
    }
    if route.endpoint == Endpoint::Refresh {
        parameters.push(json!({ "name": "refresh_token", "in": "cookie", "schema": { "type": "string" } }));
    }
    let security = match route.auth {
        Auth::None => json!([]),
        Auth::ApiKey => json!([{ "ApiKey": [] }]),
        Auth::Bearer | Auth::Admin => json!([{ "ApiKey": [], "Bearer": [] }]),
    };
    let (ok, schema) = op.ok;
    let mut success = json!({ "description": reason(ok), "content": { "application/json": { "schema": schema } } });
    if !op.links.is_null() {
        success["links"] = op.links;
    }
    let mut responses = Map::new();
    if route.endpoint == Endpoint::PutReference {
        let content = success["content"].clone();
        responses.insert("201".into(), json!({ "description": "Created: a new entry", "content": content }));
    }
    responses.insert(ok.to_string(), success);
    if matches!(route.endpoint, Endpoint::VerifyRegistrationEmail | Endpoint::VerifyRegistrationPhone) {
        // Verifying the last credential completes the sign-up.
        responses.insert(
            "201".into(),
            json!({
                "description": "Created: the sign-up is complete",
                "content": { "application/json": { "schema": reference("Tokens") } },
            }),
        );
    }
    let mut statuses: Vec<u16> = op.problems.to_vec();
    if route.auth != Auth::None {
        statuses.extend([401, 503]);
    }
    if op.device {
        // No X-Device-ID: 400 `device_required`.
        statuses.push(400);
    }
    statuses.sort_unstable();
    statuses.dedup();
    for status in statuses {
        responses.insert(status.to_string(), problem_response(status));
    }
    let mut operation = json!({
        "operationId": route.function,
        "summary": route.function.replace('-', " "),
        "parameters": parameters,
        "security": security,
        "responses": responses,
    });
    if let Some(body) = op.body {
        operation["requestBody"] =
            json!({ "required": op.body_required, "content": { "application/json": { "schema": body } } });
    }
    operation
}

/// The whole document.
pub fn document() -> Value {
    let mut paths = Map::new();
    for route in ROUTES.iter().filter(|r| r.endpoint != Endpoint::Preflight) {
        let item = paths.entry(route.path).or_insert_with(|| json!({}));
        item[route.method.as_str().to_ascii_lowercase()] = path_item_operation(route);
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Registrar",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "User registration and authentication. Errors are RFC 9457 problem documents with a stable `code`.",
        },
        "servers": [{ "url": "http://127.0.0.1:3000" }],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "ApiKey": { "type": "apiKey", "in": "header", "name": "X-API-Key" },
                "Bearer": {
                    "type": "http", "scheme": "bearer",
                    "description": "An access token (JWT RS256), or on /v1/users an admin token (adm_…)",
                },
            },
            "parameters": {
                "AcceptLanguage": {
                    "name": "Accept-Language", "in": "header", "schema": string(),
                    "description": "en, de, fr, it; q-values honoured",
                },
                "RequestId": {
                    "name": "X-Request-ID", "in": "header", "schema": string(),
                    "description": "Echoed when 1–128 visible characters, else a new id is generated; deployed, the answer carries API Gateway's request id instead (the one its access log writes) and the caller's is logged beside it",
                },
                "DeviceId": {
                    "name": "X-Device-ID", "in": "header", "required": true,
                    "schema": { "type": "string", "minLength": 1, "maxLength": 128, "pattern": "^[!-~]+$" },
                },
            },
            "schemas": {
                "Problem": problem_schema(),
                "Tokens": tokens(),
                "User": user(),
                "TimeZone": super::body::time_zones(),
            },
        },
    })
}
