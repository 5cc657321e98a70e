//! The OpenAPI 3.1 document, generated from the route table (each
//! operation's statuses), the request body types (`body!`) and the
//! handlers' answer types (`Reply<T>`, `T`'s schema derived with
//! `schemars`): the local API serves it at [`OPENAPI_PATH`], and
//! `cargo run --bin registrar-openapi` writes it to `docs/openapi.json`.
//! The problem codes come from the English catalogue
//! (`problem-<code>-title`).

use std::sync::OnceLock;

use serde_json::{Map, Value, json};

use schemars::SchemaGenerator;
use schemars::generate::SchemaSettings;

use super::body::object_schema;
use super::endpoints;
use super::handlers::{auth, factors, federation, me, oauth, pages, registration, users};
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

/// The request side of an operation, beyond its row of the table (whose
/// statuses, and whose handler's answer type, give the answers).
#[derive(Clone)]
struct Request {
    /// The request body's schema (`None`: no body).
    body: Option<Value>,
    /// Whether the body is required.
    body_required: bool,
    /// Whether `X-Device-ID` is required.
    device: bool,
    /// Links from the success answer to the operations that use its ids.
    links: Value,
    /// The body is a form (`application/x-www-form-urlencoded`), as OAuth
    /// 2.0's endpoints take it, not JSON.
    form: bool,
    /// Query parameters (the OpenID Provider's GET routes).
    query: &'static [oauth::Param],
    /// The answers are HTML pages or redirects (`Location`), not JSON.
    page: bool,
}

/// The schema of a form of `params` (every value a string).
fn form_schema(params: &[oauth::Param]) -> Value {
    let properties = params.iter().map(|p| (p.name, json!({ "type": "string", "description": p.doc }))).collect();
    let required = params.iter().filter(|p| p.required).map(|p| p.name).collect();
    let mut schema = object_schema(properties, required);
    // RFC 6749 §3.2: parameters the endpoint does not know are ignored.
    schema["additionalProperties"] = Value::Bool(true);
    schema
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

fn request(endpoint: Endpoint) -> Request {
    let none = Request {
        body: None,
        body_required: true,
        device: false,
        links: Value::Null,
        form: false,
        query: &[],
        page: false,
    };
    let form =
        |params: &'static [oauth::Param]| Request { body: Some(form_schema(params)), form: true, ..none.clone() };
    let body = |schema: Value| Request { body: Some(schema), ..none.clone() };
    let signing_in = |schema: Value| Request { device: true, ..body(schema) };
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
        Endpoint::Health
        | Endpoint::Jwks
        | Endpoint::OpenidConfiguration
        | Endpoint::Preflight
        | Endpoint::GetRegistration
        | Endpoint::LogoutAll
        | Endpoint::GetMe
        | Endpoint::ListSessions
        | Endpoint::ListIdentities
        | Endpoint::DeleteSession
        | Endpoint::GetFactors
        | Endpoint::ExportMe
        | Endpoint::ListUsers
        | Endpoint::GetUser
        | Endpoint::GetUserAudit
        | Endpoint::ListReference
        | Endpoint::GetReference
        | Endpoint::DeleteReference => none,
        Endpoint::Authorize => Request { query: oauth::AUTHORIZE_PARAMS, page: true, ..none },
        Endpoint::HostedSignIn => Request { form: true, page: true, ..body(pages::StepForm::schema()) },
        Endpoint::StartRegistration => Request { links: registration_links(), ..body(start_registration_body()) },
        Endpoint::VerifyRegistrationEmail | Endpoint::VerifyRegistrationPhone => body(registration::CodeBody::schema()),
        Endpoint::AddRegistrationPhone => Request {
            links: json!({
                "VerifyRegistrationPhone": {
                    "operationId": "verify-registration-phone",
                    "parameters": { "id": "$request.path.id" },
                },
            }),
            ..body(phone_body())
        },
        Endpoint::ResendRegistrationCode => body(registration::ResendBody::schema()),
        Endpoint::Login => Request { links: login_links(), ..signing_in(auth::LoginBody::schema()) },
        Endpoint::SendSignInCode => signing_in(auth::SignInCodeSendBody::schema()),
        Endpoint::SignInWithCode => Request { links: login_links(), ..signing_in(auth::SignInCodeBody::schema()) },
        Endpoint::VerifyMfa => signing_in(auth::MfaBody::schema()),
        Endpoint::SendMfaCode => signing_in(auth::SendMfaCodeBody::schema()),
        Endpoint::CompletePasswordChallenge => signing_in(auth::PasswordChallengeBody::schema()),
        Endpoint::AcceptLegalDocuments => signing_in(auth::LegalAcceptanceBody::schema()),
        Endpoint::Refresh => Request { body_required: false, ..signing_in(auth::RefreshBody::schema()) },
        Endpoint::Logout => Request { device: true, ..none.clone() },
        Endpoint::ForgotPassword => body(auth::ForgotPasswordBody::schema()),
        Endpoint::ResetPassword => body(auth::ResetPasswordBody::schema()),
        Endpoint::UpdateMe => body(me::UpdateMeBody::schema()),
        Endpoint::CloseMe => body(me::CloseMeBody::schema()),
        Endpoint::AddCredential => body(me::AddCredentialBody::schema()),
        Endpoint::VerifyCredential => body(me::VerifyCredentialBody::schema()),
        Endpoint::ChangePassword => body(me::ChangePasswordBody::schema()),
        Endpoint::EnrollTotp
        | Endpoint::RemoveTotp
        | Endpoint::RegenerateRecoveryCodes
        | Endpoint::BeginPasskeyRegistration
        | Endpoint::DeletePasskey => body(factors::StepUpBody::schema()),
        Endpoint::ConfirmTotp => body(factors::ConfirmTotpBody::schema()),
        Endpoint::FinishPasskeyRegistration => body(factors::RegisterPasskeyBody::schema()),
        Endpoint::PasskeySignInOptions => {
            Request { body_required: false, ..signing_in(factors::SignInOptionsBody::schema()) }
        }
        Endpoint::PasskeySignIn => signing_in(factors::PasskeySignInBody::schema()),
        Endpoint::FederatedToken => {
            Request { links: login_links(), ..signing_in(federation::FederatedTokenBody::schema()) }
        }
        Endpoint::LinkIdentity => body(federation::LinkIdentityBody::schema()),
        Endpoint::UnlinkIdentity => Request { body_required: false, ..body(federation::UnlinkIdentityBody::schema()) },
        Endpoint::CreateUser => Request { links: user_links(), ..body(users::CreateUserBody::schema()) },
        Endpoint::ImportUsers => body(users::ImportUsersBody::schema()),
        Endpoint::ChangeUserStatus => body(users::ChangeUserStatusBody::schema()),
        Endpoint::UpdateUser => body(users::UpdateUserBody::schema()),
        Endpoint::UnlockUser | Endpoint::RevokeUserSessions => body(users::ReasonBody::schema()),
        Endpoint::ResetUserPassword => body(users::ResetUserPasswordBody::schema()),
        Endpoint::PutReference => body(super::handlers::reference::PutReferenceBody::schema()),
        Endpoint::OauthToken => form(oauth::TOKEN_PARAMS),
        Endpoint::OauthRevoke => form(oauth::REVOKE_PARAMS),
        Endpoint::OauthUserinfo => none,
        Endpoint::IdpResponse => Request { query: oauth::IDP_RESPONSE_PARAMS, page: true, ..none.clone() },
        Endpoint::IdpResponsePost => Request { page: true, body_required: false, ..form(oauth::IDP_RESPONSE_PARAMS) },
        Endpoint::OauthLogout => Request { query: oauth::LOGOUT_PARAMS, page: true, ..none },
    }
}

/// The generator of the answers' schemas: JSON Schema 2020-12 (OpenAPI
/// 3.1's), of what is serialized, named types under
/// `components/schemas`.
fn answer_generator() -> SchemaGenerator {
    SchemaSettings::draft2020_12()
        .for_serialize()
        .with(|settings| {
            settings.definitions_path = "/components/schemas".into();
            settings.meta_schema = None;
        })
        .into_generator()
}

/// What answers are beyond their types' derived schemas: closed objects (an
/// object schema that lists its properties and says nothing of others
/// allows no others), and a member an answer may leave out (an `Option`
/// skipped when `None`) is never `null`.
fn close_objects(schema: &mut Value) {
    match schema {
        Value::Object(object) => {
            if object.contains_key("properties") && !object.contains_key("additionalProperties") {
                object.insert("additionalProperties".into(), Value::Bool(false));
            }
            let required: Vec<Value> = object.get("required").and_then(Value::as_array).cloned().unwrap_or_default();
            if let Some(Value::Object(properties)) = object.get_mut("properties") {
                for (name, member) in properties.iter_mut() {
                    if !required.contains(&Value::String(name.clone())) {
                        not_null(member);
                    }
                }
            }
            object.values_mut().for_each(close_objects);
        }
        Value::Array(items) => items.iter_mut().for_each(close_objects),
        _ => {}
    }
}

/// `schema` without `null` (an `Option`'s schema: `["string", "null"]`,
/// or `anyOf` a schema and `null`).
fn not_null(schema: &mut Value) {
    let null = json!({ "type": "null" });
    if let Some(Value::Array(ways)) = schema.get("anyOf")
        && ways.len() == 2
        && ways.contains(&null)
        && let Some(way) = ways.iter().find(|w| **w != null).cloned()
    {
        let mut rest = schema.as_object().cloned().unwrap_or_default();
        rest.remove("anyOf");
        *schema = way;
        if let Some(object) = schema.as_object_mut() {
            object.extend(rest);
        }
        return;
    }
    if let Some(Value::Array(types)) = schema.get_mut("type") {
        types.retain(|t| t != "null");
        if let [only] = types.as_slice() {
            let only = only.clone();
            schema["type"] = only;
        }
    }
    if let Some(Value::Array(choices)) = schema.get_mut("enum") {
        choices.retain(|c| !c.is_null());
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No content",
        302 => "Redirect",
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
        (_, "provider") => json!({ "type": "string", "pattern": "^[a-z0-9-]{1,32}$" }),
        _ => json!({ "type": "string", "pattern": "^usr_[0-9a-f]{32}$" }),
    };
    json!({ "name": name, "in": "path", "required": true, "schema": schema })
}

fn path_item_operation(route: &Route, generator: &mut SchemaGenerator) -> Value {
    let op = request(route.endpoint);
    let mut parameters = vec![
        json!({ "$ref": "#/components/parameters/AcceptLanguage" }),
        json!({ "$ref": "#/components/parameters/RequestId" }),
    ];
    for name in ["id", "kind", "code", "provider"] {
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
    if route.endpoint == Endpoint::ExportMe {
        parameters.push(cursor_parameter("before"));
    }
    if route.endpoint == Endpoint::GetUserAudit {
        parameters.push(
            json!({ "name": "limit", "in": "query", "schema": { "type": "integer", "minimum": 1, "maximum": 200 } }),
        );
        parameters.push(cursor_parameter("before"));
    }
    for param in op.query {
        parameters.push(json!({
            "name": param.name, "in": "query", "required": param.required,
            "description": param.doc, "schema": string(),
        }));
    }
    if op.device {
        parameters.push(json!({ "$ref": "#/components/parameters/DeviceId" }));
    }
    if route.endpoint == Endpoint::Refresh {
        parameters.push(json!({ "name": "refresh_token", "in": "cookie", "schema": { "type": "string" } }));
    }
    let security = match route.auth {
        Auth::None | Auth::Client => json!([]),
        Auth::ApiKey => json!([{ "ApiKey": [] }]),
        Auth::Bearer | Auth::Admin => json!([{ "ApiKey": [], "Bearer": [] }]),
    };
    let mut responses = Map::new();
    for (status, schema) in endpoints::answer_schemas(route.endpoint, generator) {
        let mut schema = schema.to_value();
        close_objects(&mut schema);
        let mut success = match (op.page, status) {
            (true, 300..=399) => json!({
                "description": "Redirect",
                "headers": { "Location": { "schema": { "type": "string", "format": "uri" } } },
            }),
            (true, _) => json!({ "description": reason(status), "content": { "text/html": { "schema": string() } } }),
            (false, _) => {
                json!({ "description": reason(status), "content": { "application/json": { "schema": schema } } })
            }
        };
        if !op.links.is_null() {
            success["links"] = op.links.clone();
        }
        responses.insert(status.to_string(), success);
    }
    let mut statuses: Vec<u16> = route.problems.to_vec();
    match route.auth {
        Auth::None => {}
        // The handler checks the client or token itself (its row lists its
        // 401); the store may still fail.
        Auth::Client => statuses.push(503),
        Auth::ApiKey | Auth::Bearer | Auth::Admin => statuses.extend([401, 503]),
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
        let media = if op.form { "application/x-www-form-urlencoded" } else { "application/json" };
        operation["requestBody"] = json!({ "required": op.body_required, "content": { media: { "schema": body } } });
    }
    operation
}

/// The whole document.
pub fn document() -> Value {
    let mut generator = answer_generator();
    let mut paths = Map::new();
    for route in ROUTES.iter().filter(|r| r.endpoint != Endpoint::Preflight) {
        let item = paths.entry(route.path).or_insert_with(|| json!({}));
        item[route.method.as_str().to_ascii_lowercase()] = path_item_operation(route, &mut generator);
    }
    let mut schemas = Value::Object(generator.take_definitions(true));
    close_objects(&mut schemas);
    schemas["Problem"] = problem_schema();
    schemas["TimeZone"] = super::body::time_zones();
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
            "schemas": schemas,
        },
    })
}
