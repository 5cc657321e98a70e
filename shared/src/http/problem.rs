//! RFC 9457 problem+json: the one mapping from errors to HTTP.

use ::http::{HeaderValue, StatusCode};
use lambda_http::{Body, Response};
use serde_json::{Map, Value, json};

use crate::domain::{Error, FieldError};
use crate::i18n::{Arg, text};

/// A problem to answer with; rendered in the request's language.
#[derive(Debug, Clone)]
pub struct Problem {
    pub status: StatusCode,
    /// The stable machine word.
    pub code: &'static str,
    pub errors: Vec<FieldError>,
    /// Extra members of the problem object (e.g. `registration_id`); they
    /// are also the arguments of the detail message.
    pub extensions: Map<String, Value>,
    pub retry_after: Option<u64>,
    pub allow: Option<&'static str>,
}

impl Problem {
    pub fn new(status: StatusCode, code: &'static str) -> Self {
        Self { status, code, errors: Vec::new(), extensions: Map::new(), retry_after: None, allow: None }
    }

    pub fn validation(errors: Vec<FieldError>) -> Self {
        Self { errors, ..Self::new(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed") }
    }

    pub fn arg(mut self, name: &'static str, value: impl Into<Value>) -> Self {
        self.extensions.insert(name.to_owned(), value.into());
        self
    }

    pub fn retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    /// The problem as a response in `lang`.
    /// The detail and each field error's message in `lang`, as a page
    /// shows them (the hosted pages).
    pub fn messages(&self, lang: &str) -> (String, Vec<String>) {
        let args: Vec<(&str, Arg<'_>)> = self
            .extensions
            .iter()
            .map(|(name, value)| match value {
                Value::Number(n) => (name.as_str(), Arg::Num(n.as_i64().unwrap_or_default())),
                Value::String(s) => (name.as_str(), Arg::Str(s)),
                _ => (name.as_str(), Arg::Str("")),
            })
            .collect();
        let fields = self
            .errors
            .iter()
            .map(|e| {
                let args: Vec<(&str, Arg<'_>)> = e.args.iter().map(|(name, value)| (*name, Arg::Str(value))).collect();
                text(lang, &format!("field-{}", e.code), &args)
            })
            .collect();
        (text(lang, &format!("problem-{}-detail", self.code), &args), fields)
    }

    pub fn render(&self, lang: &str, request_id: &str) -> Response<Body> {
        let args: Vec<(&str, Arg<'_>)> = self
            .extensions
            .iter()
            .map(|(name, value)| {
                let arg = match value {
                    Value::Number(n) => Arg::Num(n.as_i64().unwrap_or_default()),
                    Value::String(s) => Arg::Str(s),
                    _ => Arg::Str(""),
                };
                (name.as_str(), arg)
            })
            .collect();
        let errors: Vec<Value> = self
            .errors
            .iter()
            .map(|e| {
                let args: Vec<(&str, Arg<'_>)> = e.args.iter().map(|(name, value)| (*name, Arg::Str(value))).collect();
                json!({
                    "field": e.field,
                    "code": e.code,
                    "message": text(lang, &format!("field-{}", e.code), &args),
                })
            })
            .collect();
        let mut body = json!({
            "type": format!("urn:registrar:problem:{}", self.code),
            "title": text(lang, &format!("problem-{}-title", self.code), &[]),
            "status": self.status.as_u16(),
            "detail": text(lang, &format!("problem-{}-detail", self.code), &args),
            "code": self.code,
            "errors": errors,
            "request_id": request_id,
        });
        if let Some(object) = body.as_object_mut() {
            for (name, value) in &self.extensions {
                object.entry(name.clone()).or_insert_with(|| value.clone());
            }
            // A message given per language (a hook's) is answered in the
            // request's: its own, else English, else the first.
            if let Some(Value::Object(by_language)) = object.get("message") {
                let chosen =
                    by_language.get(lang).or_else(|| by_language.get("en")).or_else(|| by_language.values().next());
                let chosen = chosen.filter(|m| m.is_string()).cloned().unwrap_or(Value::Null);
                object.insert("message".into(), chosen);
            }
        }
        let mut response = Response::new(Body::Text(body.to_string()));
        *response.status_mut() = self.status;
        let headers = response.headers_mut();
        headers.insert(::http::header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        if let Some(seconds) = self.retry_after {
            headers.insert(::http::header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        if let Some(allow) = self.allow {
            headers.insert(::http::header::ALLOW, HeaderValue::from_static(allow));
        }
        response
    }
}

impl From<Error> for Problem {
    fn from(err: Error) -> Self {
        match err {
            Error::Validation(errors) => Problem::validation(errors),
            Error::RegistrationNotFound => Problem::new(StatusCode::NOT_FOUND, "registration_not_found"),
            Error::StepOutOfOrder { next } => {
                Problem::new(StatusCode::CONFLICT, "step_out_of_order").arg("next", next.as_str())
            }
            Error::InvalidCode => Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_code"),
            Error::ResendTooSoon { retry_after } => Problem::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited")
                .arg("retry_after", retry_after)
                .retry_after(retry_after),
            Error::SendLimitReached { retry_after } => {
                Problem::new(StatusCode::TOO_MANY_REQUESTS, "send_limit_reached").retry_after(retry_after)
            }
            Error::EmailTaken => Problem::new(StatusCode::CONFLICT, "email_taken"),
            Error::PhoneTaken => Problem::new(StatusCode::CONFLICT, "phone_taken"),
            Error::UsernameTaken => Problem::new(StatusCode::CONFLICT, "username_taken"),
            Error::ReferenceNotFound => Problem::new(StatusCode::NOT_FOUND, "reference_not_found"),
            Error::SmsBudgetSpent { retry_after } => {
                Problem::new(StatusCode::TOO_MANY_REQUESTS, "sms_budget_spent").retry_after(retry_after)
            }
            Error::SmsCountryNotAllowed => Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "sms_country_not_allowed"),
            Error::RateLimited { retry_after } => Problem::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited")
                .arg("retry_after", retry_after)
                .retry_after(retry_after),
            Error::InvalidCredentials { retry_after } => {
                // Locked or not, the body is the same; only the header differs.
                let problem = Problem::new(StatusCode::UNAUTHORIZED, "invalid_credentials");
                match retry_after {
                    Some(seconds) => problem.retry_after(seconds),
                    None => problem,
                }
            }
            Error::IncorrectPassword { field, retry_after } => {
                let problem = Problem::validation(vec![FieldError::new(field, "incorrect_password")]);
                match retry_after {
                    Some(seconds) => problem.retry_after(seconds),
                    None => problem,
                }
            }
            Error::StepUpRequired => Problem::new(StatusCode::FORBIDDEN, "step_up_required"),
            Error::AccountInactive => Problem::new(StatusCode::FORBIDDEN, "account_inactive"),
            Error::InvalidToken => Problem::new(StatusCode::UNAUTHORIZED, "invalid_token"),
            Error::InvalidDevice => Problem::new(StatusCode::UNAUTHORIZED, "invalid_device"),
            Error::ChallengeNotFound => Problem::new(StatusCode::NOT_FOUND, "challenge_not_found"),
            Error::Forbidden => Problem::new(StatusCode::FORBIDDEN, "forbidden"),
            Error::UserNotFound => Problem::new(StatusCode::NOT_FOUND, "user_not_found"),
            Error::InvalidStatusChange { from, allowed } => {
                let mut problem = Problem::new(StatusCode::CONFLICT, "invalid_status_change")
                    .arg("from", from)
                    .arg("allowed_list", allowed.join(", "));
                problem.extensions.insert("allowed".into(), serde_json::json!(allowed));
                problem
            }
            Error::Conflict => Problem::new(StatusCode::CONFLICT, "conflict"),
            Error::TotpAlreadyEnabled => Problem::new(StatusCode::CONFLICT, "totp_already_enabled"),
            Error::TotpNotEnrolled => Problem::new(StatusCode::CONFLICT, "totp_not_enrolled"),
            Error::NoStrongFactor => Problem::new(StatusCode::CONFLICT, "no_strong_factor"),
            Error::PasskeyNotOffered => Problem::new(StatusCode::CONFLICT, "passkey_not_offered"),
            Error::FactorNotAllowed => Problem::new(StatusCode::FORBIDDEN, "factor_not_allowed"),
            Error::SignInMethodDisabled => Problem::new(StatusCode::FORBIDDEN, "sign_in_method_disabled"),
            Error::MfaUnavailable => Problem::new(StatusCode::FORBIDDEN, "mfa_unavailable"),
            Error::SignUpDenied { message } => {
                let mut problem = Problem::new(StatusCode::FORBIDDEN, "sign_up_denied");
                if let Some(message) = message {
                    problem.extensions.insert("message".into(), message);
                }
                problem
            }
            Error::PasskeysNotConfigured => Problem::new(StatusCode::CONFLICT, "passkeys_not_configured"),
            Error::PasskeyLimit => Problem::new(StatusCode::CONFLICT, "passkey_limit"),
            Error::PasskeyNotFound => Problem::new(StatusCode::NOT_FOUND, "passkey_not_found"),
            Error::SessionNotFound => Problem::new(StatusCode::NOT_FOUND, "session_not_found"),
            Error::ProviderNotFound => Problem::new(StatusCode::NOT_FOUND, "provider_not_found"),
            Error::InvalidIdToken => Problem::new(StatusCode::UNAUTHORIZED, "invalid_id_token"),
            Error::IdentityLinkRequired => Problem::new(StatusCode::CONFLICT, "identity_link_required"),
            Error::IdentityTaken => Problem::new(StatusCode::CONFLICT, "identity_taken"),
            Error::IdentityNotFound => Problem::new(StatusCode::NOT_FOUND, "identity_not_found"),
            Error::LastSignInMethod => Problem::new(StatusCode::CONFLICT, "last_sign_in_method"),
            Error::Unavailable { reason, registration_id } => {
                // The reason is for operators only; the client learns what to do.
                tracing::error!(%reason, "dependency unavailable");
                let mut problem = Problem::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable").retry_after(1);
                if let Some(id) = registration_id {
                    problem.extensions.insert("registration_id".into(), Value::String(id));
                    problem.extensions.insert("resume_with".into(), Value::String("resend".into()));
                }
                problem
            }
        }
    }
}
