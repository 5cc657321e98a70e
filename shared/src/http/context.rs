//! The request as handlers see it ([`Ctx`]), and how it is made: body and
//! query, request id, client address, and authentication (API key, bearer
//! access token, admin token).

use ::http::{HeaderMap, Method, StatusCode};
use lambda_http::{Body, Request};

use super::problem::Problem;
use super::routes::{Auth, Params, Route};
use crate::app::App;
use crate::domain::Error;
use crate::domain::ids::{SessionId, UserId};
use crate::domain::tenant::Tenant;
use crate::domain::users::Actor;
use crate::i18n::negotiate_within;

/// Request bodies larger than this get 413.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The request as the handlers see it.
pub struct Ctx<'a> {
    pub app: &'a App,
    pub lang: &'static str,
    pub request_id: String,
    pub headers: &'a HeaderMap,
    pub params: Params,
    pub body: &'a [u8],
    /// The body is a form (`application/x-www-form-urlencoded`; routes with
    /// [`Auth::Client`] only), not JSON.
    pub form: bool,
    /// The caller's tenant (routes with [`Auth::ApiKey`] or [`Auth::Bearer`]).
    pub tenant: Option<Tenant>,
    /// The signed-in user (routes with [`Auth::Bearer`]).
    pub principal: Option<Principal>,
    /// The caller's address (API Gateway's `sourceIp`, or the TCP peer).
    pub client_ip: String,
    /// The partner the API key was issued to.
    pub partner_id: Option<String>,
    /// The privileged caller (routes with [`Auth::Admin`]).
    pub actor: Option<Actor>,
    /// The query string's pairs.
    pub query: Vec<(String, String)>,
}

/// Who a bearer token speaks for.
#[derive(Clone, Debug)]
pub struct Principal {
    pub user_id: UserId,
    pub session_id: SessionId,
    pub session: crate::domain::user::Session,
    /// The user as read with the session (active, of the session's
    /// epoch): a route that only shows it reads it no second time.
    pub user: crate::domain::user::User,
}

/// The TCP peer of a request to the local server.
#[derive(Clone, Copy, Debug)]
pub struct ClientAddr(pub std::net::SocketAddr);

impl Ctx<'_> {
    pub fn param(&self, name: &str) -> &str {
        self.params.iter().find(|(n, _)| *n == name).map_or("", |(_, v)| v.as_str())
    }

    /// A query-string parameter.
    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.query.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The value of the request's cookie `wanted`. Browsers send a cookie
    /// of a longer path first: of two with one name (one left by an older
    /// path, e.g. the device cookie's `/v1/auth/login`), the last is the
    /// current one.
    pub fn cookie(&self, wanted: &str) -> Option<String> {
        self.headers
            .get_all(::http::header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(cookie::Cookie::split_parse)
            .filter_map(Result::ok)
            .filter(|c| c.name() == wanted)
            .last()
            .map(|c| c.value().to_owned())
    }

    /// The caller's tenant (every route with an API key has one).
    pub fn tenant(&self) -> Result<&Tenant, Problem> {
        self.tenant.as_ref().ok_or_else(|| Problem::new(StatusCode::UNAUTHORIZED, "unauthorized"))
    }

    /// The signed-in user (every bearer route has one).
    pub fn principal(&self) -> Result<&Principal, Problem> {
        self.principal.as_ref().ok_or_else(|| Error::InvalidToken.into())
    }

    /// The privileged caller (every admin route has one).
    pub fn actor(&self) -> Result<&Actor, Problem> {
        self.actor.as_ref().ok_or_else(|| Error::InvalidToken.into())
    }

    /// The optional `X-Device-ID` (1–128 visible ASCII characters).
    pub fn device_id(&self) -> Result<Option<&str>, Problem> {
        match self.headers.get("x-device-id") {
            None => Ok(None),
            Some(value) => match value.to_str() {
                Ok(v) if !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_graphic()) => Ok(Some(v)),
                _ => {
                    Err(Problem::validation(vec![crate::domain::FieldError::new("X-Device-ID", "invalid_characters")]))
                }
            },
        }
    }

    /// `X-Device-ID` where a route requires it: 400 `device_required` if
    /// missing (no session is involved yet: the client forgot a header),
    /// 401 `invalid_device` if unusable.
    pub fn required_device(&self) -> Result<&str, Problem> {
        match self.device_id() {
            Ok(Some(device)) => Ok(device),
            Ok(None) => Err(Problem::new(StatusCode::BAD_REQUEST, "device_required")),
            Err(_) => Err(Error::InvalidDevice.into()),
        }
    }
}

fn client_ip(request: &Request) -> String {
    use lambda_http::RequestExt;
    if let Some(lambda_http::request::RequestContext::ApiGatewayV2(context)) = request.request_context_ref()
        && let Some(ip) = &context.http.source_ip
    {
        return ip.clone();
    }
    request.extensions().get::<ClientAddr>().map_or_else(|| "unknown".into(), |a| a.0.ip().to_string())
}

/// The caller's own `X-Request-ID`, if it is a usable one.
pub fn client_request_id(headers: &HeaderMap) -> Option<String> {
    headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map(str::to_owned)
}

/// API Gateway's id of the request (`requestContext.requestId`), which its
/// access log writes too.
fn gateway_request_id(request: &Request) -> Option<String> {
    use lambda_http::RequestExt;
    match request.request_context_ref() {
        Some(lambda_http::request::RequestContext::ApiGatewayV2(context)) => {
            context.request_id.clone().filter(|id| !id.is_empty())
        }
        _ => None,
    }
}

/// The request's id: API Gateway's when deployed (so function logs and the
/// access log share one id), else the caller's `X-Request-ID`, else a new one.
pub fn request_id(app: &App, request: &Request) -> String {
    gateway_request_id(request).or_else(|| client_request_id(request.headers())).unwrap_or_else(|| app.new_id("req"))
}

fn body_bytes(body: &Body) -> &[u8] {
    match body {
        Body::Empty => &[],
        Body::Text(text) => text.as_bytes(),
        Body::Binary(bytes) => bytes,
        _ => &[],
    }
}

/// The media type of the body, lower-cased, without parameters.
fn media_type(headers: &HeaderMap) -> Option<String> {
    headers
        .get(::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
}

fn is_json(headers: &HeaderMap) -> bool {
    media_type(headers)
        .is_some_and(|v| v == "application/json" || (v.starts_with("application/") && v.ends_with("+json")))
}

fn is_form(headers: &HeaderMap) -> bool {
    media_type(headers).is_some_and(|v| v == "application/x-www-form-urlencoded")
}

/// The 405 problem, naming the method the path takes.
pub fn method_not_allowed(allowed: &'static Method) -> Problem {
    let mut problem = Problem::new(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
    problem.allow = Some(allowed.as_str());
    problem
}

/// The 413 problem (also used by the local server before reading a body).
pub fn payload_too_large() -> Problem {
    Problem::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").arg("max", MAX_BODY_BYTES as u64)
}

/// Checks what `route` requires of `request` and makes its context.
pub async fn prepare<'a>(
    app: &'a App,
    route: &'static Route,
    request: &'a Request,
    params: Params,
    lang: &'static str,
    request_id: String,
) -> Result<Ctx<'a>, Problem> {
    if request.method() != route.method {
        return Err(method_not_allowed(&route.method));
    }
    let body = body_bytes(request.body());
    if body.len() > MAX_BODY_BYTES {
        return Err(payload_too_large());
    }
    let headers = request.headers();
    let (tenant, partner_id) = match route.auth {
        Auth::None | Auth::Client => (None, None),
        _ => {
            let (tenant, partner_id) = authenticate(app, headers).await?;
            (Some(tenant), partner_id)
        }
    };
    // The tenant may offer fewer languages than Registrar speaks.
    let lang = match &tenant {
        Some(tenant) => {
            negotiate_within(headers.get("accept-language").and_then(|v| v.to_str().ok()), &tenant.policy.languages)
        }
        None => lang,
    };
    let principal = match (route.auth, &tenant) {
        (Auth::Bearer, Some(tenant)) => Some(bearer(app, headers, tenant).await?),
        _ => None,
    };
    let form = route.auth == Auth::Client && is_form(headers);
    if !body.is_empty() && !is_json(headers) && !form {
        return Err(Problem::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type"));
    }
    let client_ip = client_ip(request);
    let query = request
        .uri()
        .query()
        .map(|q| form_urlencoded::parse(q.as_bytes()).filter(|(k, _)| !k.is_empty()).map(|(k, v)| (k.into(), v.into())))
        .into_iter()
        .flatten()
        .collect();
    let actor = match (route.auth, &tenant) {
        (Auth::Admin, Some(tenant)) => Some(admin_actor(app, headers, tenant).await?),
        _ => None,
    };
    Ok(Ctx {
        app,
        lang,
        request_id,
        headers,
        params,
        body,
        form,
        tenant,
        principal,
        client_ip,
        partner_id,
        actor,
        query,
    })
}

async fn authenticate(app: &App, headers: &HeaderMap) -> Result<(Tenant, Option<String>), Problem> {
    let key = headers
        .get("x-api-key")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|k| !k.is_empty() && k.len() <= 256)
        .ok_or_else(|| Problem::new(StatusCode::UNAUTHORIZED, "unauthorized"))?;
    let now = app.clock.now().timestamp();
    match app.api_keys.tenant_for_api_key(app.store.as_ref(), now, app.settings.api_key_cache_secs, key).await {
        Ok(Some((tenant, grant))) => Ok((tenant, grant.partner_id)),
        Ok(None) => Err(Problem::new(StatusCode::UNAUTHORIZED, "unauthorized")),
        Err(err) => Err(Error::from(err).into()),
    }
}

/// The token of `Authorization: Bearer <token>`.
fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(str::trim)
}

/// The privileged caller of an admin route: an admin token (`adm_…`) of
/// the tenant, or a user's access token with a live session.
async fn admin_actor(app: &App, headers: &HeaderMap, tenant: &Tenant) -> Result<Actor, Problem> {
    let invalid = || Problem::from(Error::InvalidToken);
    let token = bearer_token(headers).ok_or_else(invalid)?;
    if token.starts_with("adm_") {
        let found = crate::domain::tenant::find_admin_token(app.store.as_ref(), token)
            .await
            .map_err(|e| Problem::from(Error::from(e)))?;
        return match found {
            Some(info) if info.tenant_id == tenant.id && info.expires_at > app.clock.now() => {
                Ok(Actor::Admin { token_id: info.token_id })
            }
            _ => Err(invalid()),
        };
    }
    let principal = bearer(app, headers, tenant).await?;
    // A session an app was given (OpenID Connect) speaks for the user to
    // that app, not in the back office: a partner's client never manages
    // users with a staff member's sign-in.
    if principal.session.client_id.is_some() {
        return Err(Problem::new(StatusCode::FORBIDDEN, "app_session"));
    }
    let user = crate::domain::user::load_user(app, &principal.user_id)
        .await
        .map_err(Problem::from)?
        .map(|(user, _)| user)
        .filter(|u| u.is_active())
        .ok_or_else(invalid)?;
    // A privileged user's password alone does not reach the back office
    // (policy `back_office_mfa`): its session must have passed a second
    // factor. Consumers reach nothing there anyway (403 from the rules).
    let privileged = user.user_type.is_staff();
    if privileged && tenant.policy.back_office_mfa && !principal.session.amr.iter().any(|m| m == "mfa") {
        return Err(Problem::new(StatusCode::FORBIDDEN, "second_factor_required"));
    }
    Ok(Actor::User { user_id: user.id.to_string(), user_type: user.user_type, company_id: user.company_id })
}

/// Checks `Authorization: Bearer <access token>`: signature (RS256 only),
/// `kid`, `iss`, `aud`, `exp`, the tenant, and a live session.
async fn bearer(app: &App, headers: &HeaderMap, tenant: &Tenant) -> Result<Principal, Problem> {
    let invalid = || Problem::from(Error::InvalidToken);
    let token = bearer_token(headers).filter(|t| !t.is_empty() && t.len() <= 4096).ok_or_else(invalid)?;
    let now = app.clock.now().timestamp();
    let verify = |ring: &crate::domain::tokens::Keyring| {
        ring.verify_at(token, &app.settings.issuer, &app.settings.audience, now)
    };
    let ring = app.keys.current();
    let claims = match verify(&ring) {
        Some(claims) => claims,
        None => {
            // A key activated since this instance loaded its keys.
            let kid = jsonwebtoken::decode_header(token).ok().and_then(|h| h.kid).ok_or_else(invalid)?;
            if ring.knows(&kid) {
                return Err(invalid());
            }
            app.keys.reload_for_unknown_key(now).await;
            verify(&app.keys.current()).ok_or_else(invalid)?
        }
    };
    let (Some(user_id), Some(session_id)) = (UserId::parse(&claims.sub), SessionId::parse(&claims.sid)) else {
        return Err(invalid());
    };
    if claims.tid != tenant.id || claims.typ != "client" {
        return Err(invalid());
    }
    // The session and its user in one round trip: a session of an ended
    // epoch (logout-all, password reset, status change) or of a user who is
    // no longer active is refused at once.
    let (session, user) = crate::domain::user::load_session_and_user(app, &user_id, &session_id)
        .await
        .map_err(Problem::from)?
        .ok_or_else(invalid)?;
    if session.tenant_id != tenant.id || !user.is_active() || !user.session_valid(&session) {
        return Err(invalid());
    }
    Ok(Principal { user_id, session_id, session, user })
}
