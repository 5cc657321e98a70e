//! What handlers answer with: a [`Reply`] (a status of the endpoint's
//! declaration, headers, and a typed body), localized messages, token
//! answers and their cookies.
//!
//! A handler's success is `Reply<T>`, and `T`'s JSON Schema (derived with
//! `schemars`, for each status the endpoint declares: [`Answer`]) is the
//! OpenAPI document's success answer: the body sent and the body
//! documented are one type. The answer types sit beside their handlers;
//! each one built from a domain view takes it apart field by field
//! (without `..`), so a field the domain adds is a compile error here, not
//! a silent gap in the document.

use std::borrow::Cow;

use ::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use cookie::{Cookie, SameSite};
use lambda_http::{Body, Response};
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Serialize, Serializer};

use crate::domain::user::Tokens;
use crate::domain::values::PersonalDetails;
use crate::http::context::Ctx;
use crate::i18n::text;

/// A handler's success: its status (one its endpoint declares), headers,
/// and its body.
#[must_use]
pub struct Reply<T> {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: T,
}

impl<T: Answer> Reply<T> {
    pub fn new(status: StatusCode, body: T) -> Self {
        Self { status, headers: HeaderMap::new(), body }
    }

    /// 200.
    pub fn ok(body: T) -> Self {
        Self::new(StatusCode::OK, body)
    }

    /// 201.
    pub fn created(body: T) -> Self {
        Self::new(StatusCode::CREATED, body)
    }

    /// 202.
    pub fn accepted(body: T) -> Self {
        Self::new(StatusCode::ACCEPTED, body)
    }

    /// The reply with one more header (`Set-Cookie` may come more than once).
    pub fn header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.append(name, value);
        self
    }

    /// The same status and headers with another body.
    pub fn map<U: Answer>(self, f: impl FnOnce(T) -> U) -> Reply<U> {
        Reply { status: self.status, headers: self.headers, body: f(self.body) }
    }

    /// The HTTP response: the body as JSON (none for a 204 or a redirect;
    /// the text itself for a [`Reply::page`] or [`Reply::text`]).
    pub fn into_response(self) -> Response<Body> {
        let mut response = if self.status == StatusCode::NO_CONTENT || self.status.is_redirection() {
            Response::new(Body::Empty)
        } else if self.headers.contains_key(::http::header::CONTENT_TYPE) {
            // A page or text, whose body is a string: sent as it is.
            match serde_json::to_value(&self.body) {
                Ok(serde_json::Value::String(text)) => Response::new(Body::Text(text)),
                _ => Response::new(Body::Text(serde_json::to_string(&self.body).unwrap_or_default())),
            }
        } else {
            let mut response = Response::new(Body::Text(serde_json::to_string(&self.body).unwrap_or_default()));
            response.headers_mut().insert(::http::header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
            response
        };
        *response.status_mut() = self.status;
        let mut name = None;
        for (next, value) in self.headers {
            name = next.or(name);
            if let Some(name) = &name {
                response.headers_mut().append(name.clone(), value);
            }
        }
        response
    }
}

impl Reply<String> {
    /// A server-rendered page (`text/html`), as the hosted pages answer:
    /// the document is sent as it is, never framed (`frame-ancestors
    /// 'none'`), with no script but the page's own (`script_hash`, the CSP
    /// hash source of its inline script, when it has one).
    pub fn page(status: StatusCode, html: String, script_hash: Option<&str>) -> Self {
        Self::page_to(status, html, script_hash, None)
    }

    /// [`Reply::page`] whose forms may also lead to `redirect_target` (a
    /// CSP source: the origin of the client's redirect URI), where the
    /// POST's 303 sends the browser (browsers apply `form-action` to the
    /// redirects after a form's submission too).
    pub fn page_to(status: StatusCode, html: String, script_hash: Option<&str>, redirect_target: Option<&str>) -> Self {
        let script = script_hash.map_or_else(|| "'none'".to_owned(), |hash| format!("'{hash}'"));
        let target = redirect_target.map(|t| format!(" {t}")).unwrap_or_default();
        let csp = format!(
            "default-src 'none'; script-src {script}; style-src 'self' 'unsafe-inline'; img-src 'self' https: data:; \
             form-action 'self'{target}; base-uri 'none'; frame-ancestors 'none'; connect-src 'self'"
        );
        let mut reply = Self::new(status, html)
            .header(::http::header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"))
            .header(::http::header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        if let Ok(value) = HeaderValue::from_str(&csp) {
            reply = reply.header(::http::header::CONTENT_SECURITY_POLICY, value);
        }
        reply
    }

    /// A redirect (`302 Found` or `303 See Other`) to `location`, with no
    /// body. A location that is not a valid header value is a 500 nowhere:
    /// it is refused before (redirect URIs are registered, exact strings).
    pub fn redirect(status: StatusCode, location: &str) -> Result<Self, super::super::problem::Problem> {
        let value = HeaderValue::from_str(location)
            .map_err(|_| super::super::problem::Problem::new(StatusCode::BAD_REQUEST, "invalid_redirect"))?;
        Ok(Self::new(status, String::new()).header(::http::header::LOCATION, value))
    }
}

/// A body a handler answers with, and its JSON Schema for each status it is
/// sent with: by default the type's own, whatever the status.
pub trait Answer: Serialize {
    fn schema(status: u16, generator: &mut SchemaGenerator) -> Schema;
}

impl<T: Serialize + JsonSchema> Answer for T {
    fn schema(_: u16, generator: &mut SchemaGenerator) -> Schema {
        generator.subschema_for::<T>()
    }
}

/// The message of `key` in the request's language.
pub fn message(ctx: &Ctx<'_>, key: &str) -> String {
    text(ctx.lang, &format!("message-{key}"), &[])
}

/// `{"message": …}`: what an action with nothing else to say answers.
#[derive(Serialize, JsonSchema)]
#[schemars(extend("additionalProperties" = true))]
pub struct Message {
    /// What happened, in the request's language.
    pub message: String,
}

impl Message {
    pub fn new(ctx: &Ctx<'_>, key: &str) -> Self {
        Self { message: message(ctx, key) }
    }
}

/// `true`, always (`mfa_required`, `password_change_required`).
#[derive(Clone, Copy, Debug)]
pub struct Yes;

impl Serialize for Yes {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bool(true)
    }
}

impl JsonSchema for Yes {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> Cow<'static, str> {
        "Yes".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "const": true })
    }
}

/// `{"type": "string", "enum": …}` of `values` as they serialize.
pub fn enum_of<T: Serialize>(values: &[T]) -> Schema {
    let values: Vec<serde_json::Value> = values.iter().filter_map(|v| serde_json::to_value(v).ok()).collect();
    json_schema!({ "type": "string", "enum": values })
}

/// Declares the schema type of a domain enum of unit variants: the string
/// of every variant, as it serializes. Every variant must be named (the
/// match does not compile otherwise), so a new one cannot be left out.
macro_rules! enum_schema {
    ($(#[$doc:meta])* $name:ident for $ty:ty: $($variant:path),+ $(,)?) => {
        $(#[$doc])*
        pub struct $name;

        impl schemars::JsonSchema for $name {
            fn inline_schema() -> bool {
                true
            }
            fn schema_name() -> std::borrow::Cow<'static, str> {
                stringify!($name).into()
            }
            fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
                let _every = |value: $ty| match value {
                    $($variant)|+ => (),
                };
                $crate::http::handlers::reply::enum_of(&[$($variant),+])
            }
        }
    };
}

pub(crate) use enum_schema;

enum_schema!(
    /// A second factor (`domain::policy::Factor`).
    FactorName for crate::domain::policy::Factor:
    crate::domain::policy::Factor::Passkey,
    crate::domain::policy::Factor::Totp,
    crate::domain::policy::Factor::Sms,
    crate::domain::policy::Factor::Email,
    crate::domain::policy::Factor::RecoveryCode,
);

enum_schema!(
    /// A user's status (`domain::values::Status`).
    StatusName for crate::domain::values::Status:
    crate::domain::values::Status::Created,
    crate::domain::values::Status::Active,
    crate::domain::values::Status::Suspended,
    crate::domain::values::Status::Disabled,
    crate::domain::values::Status::Closed,
);

/// The personal details as the API spells them (`preferred_language`),
/// flattened into the profile and the user view.
#[derive(Serialize, JsonSchema)]
pub struct DetailsAnswer {
    pub first_name: String,
    pub last_name: String,
    #[schemars(extend("enum" = gender_choices()))]
    pub gender: Option<String>,
    pub birth_date: Option<chrono::NaiveDate>,
    pub preferred_language: String,
    pub time_zone: Option<String>,
}

/// The genders, or `null`.
fn gender_choices() -> Vec<serde_json::Value> {
    let mut choices: Vec<serde_json::Value> = crate::domain::values::GENDERS.iter().map(|g| (*g).into()).collect();
    choices.push(serde_json::Value::Null);
    choices
}

impl From<PersonalDetails> for DetailsAnswer {
    fn from(details: PersonalDetails) -> Self {
        let PersonalDetails { first_name, last_name, gender, birth_date, language, time_zone } = details;
        Self { first_name, last_name, gender, birth_date, preferred_language: language, time_zone }
    }
}

/// A session's tokens: what a sign-in, a refresh and a completed sign-up
/// answer (the refresh token also as a cookie).
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "Tokens")]
pub struct TokensAnswer {
    pub user_id: String,
    pub access_token: String,
    #[schemars(extend("enum" = ["Bearer"]))]
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    pub refresh_token: String,
    /// The roles the access token grants, space-separated (OAuth 2.0's
    /// `scope`; empty for a user with no roles).
    pub scope: String,
    /// After a sign-in with the password: the token that earns this device
    /// its own failure allowance at later logins (also set as a cookie).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_token: Option<String>,
    pub message: String,
}

/// The cookie that carries a device token (see `auth::device_token`).
pub const DEVICE_COOKIE: &str = "registrar_device";

/// A device token lives a year. Its path is `/v1/auth`, like the refresh
/// cookie's: the login, the second factor's answer and the passkey sign-in
/// all read it.
const DEVICE_COOKIE_SECS: i64 = 365 * 24 * 3600;

/// An HttpOnly, SameSite=Strict cookie for `path` (Secure unless the local
/// run turned it off).
fn cookie_header(
    ctx: &Ctx<'_>,
    name: &'static str,
    value: &str,
    path: &'static str,
    max_age: i64,
) -> Option<HeaderValue> {
    let cookie = Cookie::build((name, value))
        .path(path)
        .max_age(cookie::time::Duration::seconds(max_age))
        .http_only(true)
        .secure(ctx.app.settings.secure_cookies)
        .same_site(SameSite::Strict)
        .build();
    HeaderValue::from_str(&cookie.to_string()).ok()
}

/// The refresh cookie: HttpOnly, Secure, SameSite=Strict, for `/v1/auth`.
pub fn refresh_cookie(ctx: &Ctx<'_>, token: &str, max_age: i64) -> Option<HeaderValue> {
    cookie_header(ctx, "refresh_token", token, "/v1/auth", max_age)
}

/// Tokens as the body, the refresh token also as the cookie (and a device
/// token, when the sign-in issued one).
pub fn tokens_reply(ctx: &Ctx<'_>, tokens: Tokens, status: StatusCode, message_key: &str) -> Reply<TokensAnswer> {
    let Tokens {
        user_id,
        access_token,
        token_type,
        expires_in,
        refresh_token,
        scope,
        device_token,
        refresh_expires_in,
    } = tokens;
    let mut cookies = Vec::new();
    cookies.extend(refresh_cookie(ctx, &refresh_token, refresh_expires_in));
    if let Some(token) = &device_token {
        cookies.extend(cookie_header(ctx, DEVICE_COOKIE, token, "/v1/auth", DEVICE_COOKIE_SECS));
        // The cookie's path was `/v1/auth/login` once: a browser that kept
        // that one would send it first, a stale token beside the new one.
        cookies.extend(cookie_header(ctx, DEVICE_COOKIE, "", "/v1/auth/login", 0));
    }
    let body = TokensAnswer {
        user_id,
        access_token,
        token_type,
        expires_in,
        refresh_token,
        scope,
        device_token,
        message: message(ctx, message_key),
    };
    cookies.into_iter().fold(Reply::new(status, body), |reply, cookie| reply.header(::http::header::SET_COOKIE, cookie))
}

/// Ends the refresh cookie.
pub fn clear_cookie<T: Answer>(ctx: &Ctx<'_>, reply: Reply<T>) -> Reply<T> {
    match refresh_cookie(ctx, "", 0) {
        Some(value) => reply.header(::http::header::SET_COOKIE, value),
        None => reply,
    }
}
