//! The tenant's blocking hooks (docs/hooks.md): what Registrar sends at each
//! point of the flows and what an answer means. The call itself is the
//! `HookCaller` port's (a signed HTTPS POST, or a Lambda `Invoke`).

use std::time::Duration;

use serde_json::{Map, Value, json};

use super::error::Error;
use super::policy::{Hook, OnFailure};
use super::tenant::Tenant;
use super::values::{EmailAddress, PersonalDetails, Phone, Username};
use crate::app::App;
use crate::table::{Session, User};

/// Claims a `pre_token` hook can never set: the ones Registrar's own
/// checks rely on.
pub const RESERVED_CLAIMS: [&str; 14] =
    ["iss", "sub", "aud", "exp", "iat", "nbf", "jti", "tid", "sid", "typ", "roles", "scope", "amr", "auth_time"];

/// The most a `pre_token` hook may add to a token (its claims as JSON).
const MAX_CLAIMS_BYTES: usize = 4096;

/// Who a sign-up is for, as a `pre_sign_up` hook sees it (never the
/// password).
pub struct Applicant<'a> {
    pub email: Option<&'a EmailAddress>,
    pub phone: Option<&'a Phone>,
    pub username: Option<&'a Username>,
    pub details: &'a PersonalDetails,
}

/// Calls `hook` with `payload`: its answer (`None` for 404 or an empty
/// body), or why the call failed.
async fn call_for(app: &App, hook: &Hook, payload: &Value) -> Result<Option<Value>, String> {
    let target = hook.target().ok_or("the hook names neither a url nor a lambda_arn, or both")?;
    let id = app.new_id("msg");
    let timeout = Duration::from_millis(hook.timeout_ms);
    app.hooks.call(target, &id, payload, timeout).await.map_err(|err| err.0)
}

/// Calls `hook` with `payload`: its answer, or why there is none (no
/// answer is a failure for a hook that must decide).
async fn call(app: &App, hook: &Hook, payload: &Value) -> Result<Value, String> {
    call_for(app, hook, payload).await?.ok_or_else(|| "no answer".into())
}

/// The tenant's `pre_sign_up` hook, before a self-registration sends its
/// first code (`source` `sign_up`) or a back-office creation (`back_office`):
/// the attributes it adds, or 403 `sign_up_denied` with its message. A hook
/// that fails follows its `on_failure`.
pub async fn pre_sign_up(
    app: &App,
    tenant: &Tenant,
    source: &str,
    who: Applicant<'_>,
) -> Result<Map<String, Value>, Error> {
    let Some(hook) = &tenant.policy.hooks.pre_sign_up else { return Ok(Map::new()) };
    let details = who.details;
    let user = json!({
        "email": who.email.map(EmailAddress::as_str),
        "phone": who.phone.map(Phone::as_str),
        "username": who.username.map(Username::as_str),
        "first_name": details.first_name,
        "last_name": details.last_name,
        "gender": details.gender,
        "birth_date": details.birth_date,
        "preferred_language": details.language,
        "time_zone": details.time_zone,
    });
    let payload = json!({ "type": "pre_sign_up", "tenant_id": tenant.id, "source": source, "user": user });
    let failed = |reason: String| {
        tracing::warn!(tenant_id = %tenant.id, %reason, "pre_sign_up hook failed");
        match hook.on_failure {
            OnFailure::Allow => Ok(Map::new()),
            OnFailure::Deny => Err(Error::SignUpDenied { message: None }),
        }
    };
    let answer = match call(app, hook, &payload).await {
        Ok(answer) => answer,
        Err(reason) => return failed(reason),
    };
    match answer.get("decision").and_then(Value::as_str) {
        Some("deny") => {
            let message = answer.get("message").filter(|m| m.is_string() || m.is_object()).cloned();
            tracing::info!(tenant_id = %tenant.id, "sign-up denied by the pre_sign_up hook");
            Err(Error::SignUpDenied { message })
        }
        Some("allow") => match answer.get("attributes") {
            None | Some(Value::Null) => Ok(Map::new()),
            Some(Value::Object(attributes)) => Ok(attributes.clone()),
            Some(_) => failed("attributes is not an object".into()),
        },
        _ => failed("the answer has no decision (allow or deny)".into()),
    }
}

/// The claims the tenant's `pre_token` hook adds to an access token of
/// `user`'s `session` (none without a hook). Reserved claims are dropped
/// (and logged); a hook that fails follows its `on_failure` (`deny`: 503).
pub async fn pre_token(
    app: &App,
    tenant: &Tenant,
    user: &User,
    session: &Session,
) -> Result<Map<String, Value>, Error> {
    let Some(hook) = &tenant.policy.hooks.pre_token else { return Ok(Map::new()) };
    let payload = json!({
        "type": "pre_token",
        "tenant_id": tenant.id,
        "user": {
            "user_id": user.id,
            "user_type": user.user_type,
            "status": user.status,
            "email": user.email,
            "email_verified": user.email_verified_at.is_some(),
            "phone": user.phone,
            "phone_verified": user.phone_verified_at.is_some(),
            "username": user.username,
            "roles": user.roles,
            "company_id": user.company_id,
            "attributes": user.attributes,
        },
        "session": { "session_id": session.id, "amr": session.amr, "auth_time": session.auth_time.map(|t| t.timestamp()) },
    });
    let claims = call(app, hook, &payload)
        .await
        .and_then(|answer| match answer.get("claims") {
            None | Some(Value::Null) => Ok(Map::new()),
            Some(Value::Object(claims)) => Ok(claims.clone()),
            Some(_) => Err("claims is not an object".into()),
        })
        .and_then(|claims| match serde_json::to_vec(&claims).map_or(usize::MAX, |bytes| bytes.len()) {
            size if size > MAX_CLAIMS_BYTES => Err(format!("claims of {size} bytes; at most {MAX_CLAIMS_BYTES}")),
            _ => Ok(claims),
        });
    let mut claims = match claims {
        Ok(claims) => claims,
        Err(reason) => {
            tracing::warn!(tenant_id = %tenant.id, %reason, "pre_token hook failed");
            return match hook.on_failure {
                OnFailure::Allow => Ok(Map::new()),
                OnFailure::Deny => {
                    Err(Error::Unavailable { reason: format!("pre_token hook: {reason}"), registration_id: None })
                }
            };
        }
    };
    let reserved: Vec<String> = claims.keys().filter(|k| RESERVED_CLAIMS.contains(&k.as_str())).cloned().collect();
    if !reserved.is_empty() {
        tracing::warn!(tenant_id = %tenant.id, claims = ?reserved, "pre_token hook set reserved claims; ignored");
        claims.retain(|name, _| !RESERVED_CLAIMS.contains(&name.as_str()));
    }
    Ok(claims)
}

/// The tenant's `user_migration` hook, for a sign-in (`trigger` `sign_in`,
/// with the password given) or a forgotten password (`forgot_password`)
/// that names no user: the user the old system knows, as its answer's
/// `user` object; `None` when it knows none (404, an empty answer) or the
/// tenant has no such hook. A hook that fails follows its `on_failure`:
/// `deny` answers 503 (the old system is down: try again later), `allow`
/// goes on as for a name nobody has.
pub async fn user_migration(
    app: &App,
    tenant: &Tenant,
    trigger: &str,
    username: &str,
    password: Option<&crate::domain::password::Password>,
) -> Result<Option<Map<String, Value>>, Error> {
    let Some(hook) = &tenant.policy.hooks.user_migration else { return Ok(None) };
    let mut payload =
        json!({ "type": "user_migration", "tenant_id": tenant.id, "trigger": trigger, "username": username });
    if let Some(password) = password {
        payload["password"] = json!(password.expose());
    }
    let answer = call_for(app, hook, &payload).await.and_then(|answer| match answer {
        None => Ok(None),
        Some(answer) => match answer.get("user") {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Object(user)) => Ok(Some(user.clone())),
            Some(_) => Err("user is not an object".into()),
        },
    });
    answer.or_else(|reason| {
        tracing::warn!(tenant_id = %tenant.id, %reason, "user_migration hook failed");
        match hook.on_failure {
            OnFailure::Allow => Ok(None),
            OnFailure::Deny => {
                Err(Error::Unavailable { reason: format!("user_migration hook: {reason}"), registration_id: None })
            }
        }
    })
}
