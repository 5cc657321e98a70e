//! HTTP glue shared by the Lambda functions and the local API: the route
//! table, request context (request id, language, API key), problem+json, and
//! the handlers.

pub mod auth_handlers;
pub mod handlers;
pub mod input;
pub mod lambda;
pub mod problem;
pub mod server;
pub mod users_handlers;

use ::http::{HeaderMap, HeaderValue, Method, StatusCode};
use lambda_http::{Body, Request, Response};

use crate::app::App;
use crate::domain::tenant::Tenant;
use crate::i18n::{negotiate, negotiate_within};
use problem::Problem;

/// The OpenAPI 3.1 document (`docs/openapi.json`), served by the local API.
pub const OPENAPI: &str = include_str!("../../../docs/openapi.json");
/// Where the local API serves it.
pub const OPENAPI_PATH: &str = "/v1/openapi.json";

/// Request bodies larger than this get 413.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// What a route needs from the caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Auth {
    /// Nothing (JWKS, health).
    None,
    /// A valid `X-API-Key`.
    ApiKey,
    /// A valid `X-API-Key` and a bearer access token of that tenant with a
    /// live session.
    Bearer,
    /// A valid `X-API-Key` and either an admin token of that tenant or the
    /// access token of an active user (what they may do follows their type).
    Admin,
}

/// Every endpoint; one Lambda function each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Endpoint {
    Health,
    Jwks,
    OpenidConfiguration,
    Preflight,
    StartRegistration,
    GetRegistration,
    VerifyRegistrationEmail,
    AddRegistrationPhone,
    VerifyRegistrationPhone,
    ResendRegistrationCode,
    Login,
    VerifyMfa,
    CompletePasswordChallenge,
    Refresh,
    Logout,
    LogoutAll,
    ForgotPassword,
    ResetPassword,
    GetMe,
    UpdateMe,
    CloseMe,
    AddCredential,
    VerifyCredential,
    ChangePassword,
    CreateUser,
    GetUser,
    ChangeUserStatus,
    GetUserAudit,
    ListReference,
    GetReference,
}

/// One row of the route table.
#[derive(Clone, Debug)]
pub struct Route {
    /// The Lambda function (binary) name.
    pub function: &'static str,
    pub method: Method,
    /// The API Gateway path, with `{name}` parameters.
    pub path: &'static str,
    pub auth: Auth,
    pub endpoint: Endpoint,
}

/// The route table: the code's single source of truth for paths, checked
/// against `template.yaml` by a test. Each function's IAM permissions live
/// in the template alone, proven by running its flows under them
/// (`tests/iam.rs`).
pub const ROUTES: &[Route] = &[
    Route { function: "health", method: Method::GET, path: "/v1/health", auth: Auth::None, endpoint: Endpoint::Health },
    Route {
        function: "jwks",
        method: Method::GET,
        path: "/.well-known/jwks.json",
        auth: Auth::None,
        endpoint: Endpoint::Jwks,
    },
    Route {
        function: "openid-configuration",
        method: Method::GET,
        path: "/.well-known/openid-configuration",
        auth: Auth::None,
        endpoint: Endpoint::OpenidConfiguration,
    },
    Route {
        function: "preflight",
        method: Method::OPTIONS,
        path: "/{proxy+}",
        auth: Auth::None,
        endpoint: Endpoint::Preflight,
    },
    Route {
        function: "start-registration",
        method: Method::POST,
        path: "/v1/registrations",
        auth: Auth::ApiKey,
        endpoint: Endpoint::StartRegistration,
    },
    Route {
        function: "get-registration",
        method: Method::GET,
        path: "/v1/registrations/{id}",
        auth: Auth::ApiKey,
        endpoint: Endpoint::GetRegistration,
    },
    Route {
        function: "verify-registration-email",
        method: Method::POST,
        path: "/v1/registrations/{id}/email/verify",
        auth: Auth::ApiKey,
        endpoint: Endpoint::VerifyRegistrationEmail,
    },
    Route {
        function: "add-registration-phone",
        method: Method::POST,
        path: "/v1/registrations/{id}/phone",
        auth: Auth::ApiKey,
        endpoint: Endpoint::AddRegistrationPhone,
    },
    Route {
        function: "verify-registration-phone",
        method: Method::POST,
        path: "/v1/registrations/{id}/phone/verify",
        auth: Auth::ApiKey,
        endpoint: Endpoint::VerifyRegistrationPhone,
    },
    Route {
        function: "resend-registration-code",
        method: Method::POST,
        path: "/v1/registrations/{id}/resend",
        auth: Auth::ApiKey,
        endpoint: Endpoint::ResendRegistrationCode,
    },
    Route {
        function: "login",
        method: Method::POST,
        path: "/v1/auth/login",
        auth: Auth::ApiKey,
        endpoint: Endpoint::Login,
    },
    Route {
        function: "verify-mfa",
        method: Method::POST,
        path: "/v1/auth/mfa",
        auth: Auth::ApiKey,
        endpoint: Endpoint::VerifyMfa,
    },
    Route {
        function: "complete-password-challenge",
        method: Method::POST,
        path: "/v1/auth/password/challenge",
        auth: Auth::ApiKey,
        endpoint: Endpoint::CompletePasswordChallenge,
    },
    Route {
        function: "refresh",
        method: Method::POST,
        path: "/v1/auth/refresh",
        auth: Auth::ApiKey,
        endpoint: Endpoint::Refresh,
    },
    Route {
        function: "logout",
        method: Method::POST,
        path: "/v1/auth/logout",
        auth: Auth::Bearer,
        endpoint: Endpoint::Logout,
    },
    Route {
        function: "logout-all",
        method: Method::POST,
        path: "/v1/auth/logout-all",
        auth: Auth::Bearer,
        endpoint: Endpoint::LogoutAll,
    },
    Route {
        function: "forgot-password",
        method: Method::POST,
        path: "/v1/auth/password/forgot",
        auth: Auth::ApiKey,
        endpoint: Endpoint::ForgotPassword,
    },
    Route {
        function: "reset-password",
        method: Method::POST,
        path: "/v1/auth/password/reset",
        auth: Auth::ApiKey,
        endpoint: Endpoint::ResetPassword,
    },
    Route { function: "get-me", method: Method::GET, path: "/v1/me", auth: Auth::Bearer, endpoint: Endpoint::GetMe },
    Route {
        function: "update-me",
        method: Method::PATCH,
        path: "/v1/me",
        auth: Auth::Bearer,
        endpoint: Endpoint::UpdateMe,
    },
    Route {
        function: "close-me",
        method: Method::DELETE,
        path: "/v1/me",
        auth: Auth::Bearer,
        endpoint: Endpoint::CloseMe,
    },
    Route {
        function: "add-credential",
        method: Method::POST,
        path: "/v1/me/credentials",
        auth: Auth::Bearer,
        endpoint: Endpoint::AddCredential,
    },
    Route {
        function: "verify-credential",
        method: Method::POST,
        path: "/v1/me/credentials/verify",
        auth: Auth::Bearer,
        endpoint: Endpoint::VerifyCredential,
    },
    Route {
        function: "change-password",
        method: Method::POST,
        path: "/v1/me/password",
        auth: Auth::Bearer,
        endpoint: Endpoint::ChangePassword,
    },
    Route {
        function: "create-user",
        method: Method::POST,
        path: "/v1/users",
        auth: Auth::Admin,
        endpoint: Endpoint::CreateUser,
    },
    Route {
        function: "get-user",
        method: Method::GET,
        path: "/v1/users/{id}",
        auth: Auth::Admin,
        endpoint: Endpoint::GetUser,
    },
    Route {
        function: "change-user-status",
        method: Method::POST,
        path: "/v1/users/{id}/status",
        auth: Auth::Admin,
        endpoint: Endpoint::ChangeUserStatus,
    },
    Route {
        function: "get-user-audit",
        method: Method::GET,
        path: "/v1/users/{id}/audit",
        auth: Auth::Admin,
        endpoint: Endpoint::GetUserAudit,
    },
    Route {
        function: "list-reference",
        method: Method::GET,
        path: "/v1/reference/{kind}",
        auth: Auth::ApiKey,
        endpoint: Endpoint::ListReference,
    },
    Route {
        function: "get-reference",
        method: Method::GET,
        path: "/v1/reference/{kind}/{code}",
        auth: Auth::ApiKey,
        endpoint: Endpoint::GetReference,
    },
];

/// The route of a Lambda function, by its name.
pub fn route_for_function(function: &str) -> Option<&'static Route> {
    ROUTES.iter().find(|r| r.function == function)
}

/// Matches `path` against a route pattern; returns the parameters. A last
/// `{name+}` takes the rest of the path (API Gateway's greedy parameter).
pub fn match_path(pattern: &str, path: &str) -> Option<Vec<(String, String)>> {
    let mut params = Vec::new();
    let mut pattern_parts = pattern.trim_matches('/').split('/');
    let mut path_parts = path.trim_end_matches('/').trim_start_matches('/').split('/');
    loop {
        match (pattern_parts.next(), path_parts.next()) {
            (None, None) => return Some(params),
            (Some(p), Some(s)) if p.starts_with('{') && p.ends_with("+}") && !s.is_empty() => {
                let rest: Vec<&str> = std::iter::once(s).chain(path_parts.by_ref()).collect();
                params.push((p[1..p.len() - 2].to_owned(), rest.join("/")));
                return Some(params);
            }
            (Some(p), Some(s)) if p.starts_with('{') && p.ends_with('}') && !s.is_empty() => {
                params.push((p[1..p.len() - 1].to_owned(), s.to_owned()));
            }
            (Some(p), Some(s)) if p == s => {}
            _ => return None,
        }
    }
}

/// The request as the handlers see it.
pub struct Ctx<'a> {
    pub app: &'a App,
    pub lang: &'static str,
    pub request_id: String,
    pub headers: &'a HeaderMap,
    pub params: Vec<(String, String)>,
    pub body: &'a [u8],
    /// The caller's tenant (routes with [`Auth::ApiKey`] or [`Auth::Bearer`]).
    pub tenant: Option<Tenant>,
    /// The signed-in user (routes with [`Auth::Bearer`]).
    pub principal: Option<Principal>,
    /// The caller's address (API Gateway's `sourceIp`, or the TCP peer).
    pub client_ip: String,
    /// The partner the API key was issued to.
    pub partner_id: Option<String>,
    /// The privileged caller (routes with [`Auth::Admin`]).
    pub actor: Option<crate::domain::users::Actor>,
    /// The query string's pairs.
    pub query: Vec<(String, String)>,
}

/// Who a bearer token speaks for.
#[derive(Clone, Debug)]
pub struct Principal {
    pub user_id: String,
    pub session_id: String,
    pub session: crate::domain::user::Session,
}

/// The TCP peer of a request to the local server.
#[derive(Clone, Copy, Debug)]
pub struct ClientAddr(pub std::net::SocketAddr);

fn client_ip(request: &Request) -> String {
    use lambda_http::RequestExt;
    if let Some(lambda_http::request::RequestContext::ApiGatewayV2(context)) = request.request_context_ref()
        && let Some(ip) = &context.http.source_ip
    {
        return ip.clone();
    }
    request.extensions().get::<ClientAddr>().map_or_else(|| "unknown".into(), |a| a.0.ip().to_string())
}

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
}

/// The caller's own `X-Request-ID`, if it is a usable one.
fn client_request_id(headers: &HeaderMap) -> Option<String> {
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
fn request_id(app: &App, request: &Request) -> String {
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

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .is_some_and(|v| v == "application/json" || (v.starts_with("application/") && v.ends_with("+json")))
}

fn finish(mut response: Response<Body>, lang: &str, request_id: &str) -> Response<Body> {
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(request_id) {
        headers.insert("x-request-id", value);
    }
    headers.insert(
        ::http::header::CONTENT_LANGUAGE,
        HeaderValue::from_static(match lang {
            "de" => "de",
            "fr" => "fr",
            "it" => "it",
            _ => "en",
        }),
    );
    headers.entry("cache-control").or_insert(HeaderValue::from_static("no-store"));
    response
}

/// The headers a browser may send (CORS).
pub const CORS_ALLOWED_HEADERS: &str =
    "Content-Type, Authorization, X-API-Key, X-Device-ID, Accept-Language, X-Request-ID";

/// Adds CORS headers when the request's `Origin` is one of the tenant's.
fn cors(ctx: &Ctx<'_>, response: &mut Response<Body>) {
    let Some(origin) = ctx.header("origin") else { return };
    let allowed = ctx.tenant.as_ref().is_some_and(|t| t.policy.cors_origins.iter().any(|o| o == origin));
    let headers = response.headers_mut();
    headers.insert(::http::header::VARY, HeaderValue::from_static("Origin"));
    if let (true, Ok(value)) = (allowed, HeaderValue::from_str(origin)) {
        headers.insert(::http::header::ACCESS_CONTROL_ALLOW_ORIGIN, value);
        headers.insert(::http::header::ACCESS_CONTROL_ALLOW_CREDENTIALS, HeaderValue::from_static("true"));
        headers.insert(
            ::http::header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static("X-Request-ID, Retry-After, Location, Content-Language"),
        );
    }
}

/// The routes other than the preflight's that serve `path`.
fn routes_of(path: &str) -> Vec<&'static Route> {
    ROUTES.iter().filter(|r| r.endpoint != Endpoint::Preflight && match_path(r.path, path).is_some()).collect()
}

/// Answers a CORS preflight, locally and as the deployed `preflight`
/// function (`OPTIONS /{proxy+}`). A preflight carries no API key, so it
/// cannot name its tenant: an origin that any tenant allows gets the CORS
/// headers for the path's methods; the actual answer then carries
/// `Access-Control-Allow-Origin` only for the caller's tenant's origins.
/// Any other origin gets no CORS headers, and the browser stops there.
pub(crate) async fn preflight(app: &App, path: &str, origin: Option<&str>) -> Result<Response<Body>, Problem> {
    let routes = routes_of(path);
    if routes.is_empty() {
        return Err(Problem::new(StatusCode::NOT_FOUND, "not_found"));
    }
    let mut response = Response::new(Body::Empty);
    *response.status_mut() = StatusCode::NO_CONTENT;
    response.headers_mut().insert(::http::header::VARY, HeaderValue::from_static("Origin"));
    // Only a well-formed origin can be one a tenant allows: anything else
    // is answered without reading the tenants' list.
    let Some(origin) = origin.filter(|o| crate::domain::tenant::parse_origin(o).as_deref() == Some(*o)) else {
        return Ok(response);
    };
    let now = app.clock.now().timestamp();
    let allowed = app
        .cors_origins
        .origins(app.store.as_ref(), now, app.settings.api_key_cache_secs)
        .await
        .map_err(|e| Problem::from(crate::domain::Error::from(e)))?;
    if !allowed.contains(origin) {
        return Ok(response);
    }
    let methods: Vec<&str> = routes.iter().map(|r| r.method.as_str()).collect();
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(origin) {
        headers.insert(::http::header::ACCESS_CONTROL_ALLOW_ORIGIN, value);
    }
    if let Ok(value) = HeaderValue::from_str(&methods.join(", ")) {
        headers.insert(::http::header::ACCESS_CONTROL_ALLOW_METHODS, value);
    }
    headers.insert(::http::header::ACCESS_CONTROL_ALLOW_HEADERS, HeaderValue::from_static(CORS_ALLOWED_HEADERS));
    headers.insert(::http::header::ACCESS_CONTROL_ALLOW_CREDENTIALS, HeaderValue::from_static("true"));
    headers.insert(::http::header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
    Ok(response)
}

/// Answers a request with any route of the table (the local API).
pub async fn handle(app: &App, request: Request) -> Response<Body> {
    let path = request.uri().path().to_owned();
    if path == OPENAPI_PATH && request.method() == Method::GET {
        let mut response = Response::new(Body::Text(OPENAPI.to_owned()));
        response.headers_mut().insert(::http::header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        return response;
    }
    let route = ROUTES.iter().find(|r| r.method == request.method() && match_path(r.path, &path).is_some());
    match route {
        Some(route) => handle_route(app, route, request).await,
        None => {
            let candidates = routes_of(&path);
            let lang = negotiate(request.headers().get("accept-language").and_then(|v| v.to_str().ok()));
            let id = request_id(app, &request);
            let problem = if candidates.is_empty() {
                Problem::new(StatusCode::NOT_FOUND, "not_found")
            } else {
                let mut problem = Problem::new(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
                problem.allow = Some(candidates[0].method.as_str());
                problem
            };
            finish(problem.render(lang, &id), lang, &id)
        }
    }
}

/// Answers a request for one route (a Lambda function serves exactly one).
pub async fn handle_route(app: &App, route: &'static Route, request: Request) -> Response<Body> {
    let headers = request.headers();
    let lang = negotiate(headers.get("accept-language").and_then(|v| v.to_str().ok()));
    let request_id = request_id(app, &request);
    app.keys.reload_if_due(app.clock.now().timestamp()).await;
    let span = tracing::info_span!(
        "request",
        request_id = %request_id,
        client_request_id = tracing::field::Empty,
        function = route.function
    );
    // The caller's own id is kept beside API Gateway's, never instead of it.
    if let Some(client_id) = client_request_id(headers).filter(|id| *id != request_id) {
        span.record("client_request_id", client_id.as_str());
    }
    let _entered = span.enter();
    let (response, lang) = match prepare(app, route, &request, lang, request_id.clone()).await {
        Ok(ctx) => {
            let mut response = handlers::call(route.endpoint, &ctx).await;
            cors(&ctx, &mut response);
            (response, ctx.lang)
        }
        Err(problem) => (problem.render(lang, &request_id), lang),
    };
    tracing::info!(status = response.status().as_u16(), method = %request.method(), "answered");
    finish(response, lang, &request_id)
}

async fn prepare<'a>(
    app: &'a App,
    route: &'static Route,
    request: &'a Request,
    lang: &'static str,
    request_id: String,
) -> Result<Ctx<'a>, Problem> {
    let params =
        match_path(route.path, request.uri().path()).ok_or_else(|| Problem::new(StatusCode::NOT_FOUND, "not_found"))?;
    if request.method() != route.method {
        let mut problem = Problem::new(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
        problem.allow = Some(route.method.as_str());
        return Err(problem);
    }
    let body = body_bytes(request.body());
    if body.len() > MAX_BODY_BYTES {
        return Err(payload_too_large());
    }
    let headers = request.headers();
    let (tenant, partner_id) = match route.auth {
        Auth::None => (None, None),
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
    if !body.is_empty() && !is_json(headers) {
        return Err(Problem::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type"));
    }
    let client_ip = client_ip(request);
    let query = request
        .uri()
        .query()
        .map(|q| {
            q.split('&')
                .filter_map(|pair| pair.split_once('=').or(Some((pair, ""))))
                .filter(|(k, _)| !k.is_empty())
                .map(|(k, v)| (percent_decode(k), percent_decode(v)))
                .collect()
        })
        .unwrap_or_default();
    let actor = match (route.auth, &tenant) {
        (Auth::Admin, Some(tenant)) => Some(admin_actor(app, headers, tenant).await?),
        _ => None,
    };
    Ok(Ctx { app, lang, request_id, headers, params, body, tenant, principal, client_ip, partner_id, actor, query })
}

/// The 413 problem (also used by the local server before reading a body).
pub fn payload_too_large() -> Problem {
    Problem::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").arg("max", MAX_BODY_BYTES as u64)
}

/// Renders a problem outside a route (the local server's early 413).
pub fn render_early(app: &App, headers: &HeaderMap, problem: Problem) -> Response<Body> {
    let lang = negotiate(headers.get("accept-language").and_then(|v| v.to_str().ok()));
    let id = client_request_id(headers).unwrap_or_else(|| app.new_id("req"));
    finish(problem.render(lang, &id), lang, &id)
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
        Err(err) => Err(crate::domain::Error::from(err).into()),
    }
}

/// Decodes `%XX` escapes and `+` of a query component (lossy on bad UTF-8).
fn percent_decode(text: &str) -> String {
    fn hex(b: u8) -> Option<u8> {
        (b as char).to_digit(16).map(|d| d as u8)
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let decoded = match bytes[i] {
            b'%' => bytes.get(i + 1).and_then(|&h| hex(h)).zip(bytes.get(i + 2).and_then(|&l| hex(l))),
            _ => None,
        };
        match (decoded, bytes[i]) {
            (Some((high, low)), _) => {
                out.push(high * 16 + low);
                i += 3;
            }
            (None, b'+') => {
                out.push(b' ');
                i += 1;
            }
            (None, b) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The privileged caller of an admin route: an admin token (`adm_…`) of
/// the tenant, or a user's access token with a live session.
async fn admin_actor(app: &App, headers: &HeaderMap, tenant: &Tenant) -> Result<crate::domain::users::Actor, Problem> {
    use crate::domain::users::Actor;
    let invalid = || Problem::from(crate::domain::Error::InvalidToken);
    let token = headers
        .get(::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(str::trim)
        .ok_or_else(invalid)?;
    if token.starts_with("adm_") {
        let found = crate::domain::tenant::find_admin_token(app.store.as_ref(), token)
            .await
            .map_err(|e| Problem::from(crate::domain::Error::from(e)))?;
        return match found {
            Some(info) if info.tenant_id == tenant.id && info.expires_at > app.clock.now() => {
                Ok(Actor::Admin { token_id: info.token_id })
            }
            _ => Err(invalid()),
        };
    }
    let principal = bearer(app, headers, tenant).await?;
    let user = crate::domain::user::load_user(app, &principal.user_id)
        .await
        .map_err(Problem::from)?
        .map(|(user, _)| user)
        .filter(|u| u.is_active())
        .ok_or_else(invalid)?;
    Ok(Actor::User { user_id: user.id, user_type: user.user_type, company_id: user.company_id })
}

/// Checks `Authorization: Bearer <access token>`: signature (RS256 only),
/// `kid`, `iss`, `aud`, `exp`, the tenant, and a live session.
async fn bearer(app: &App, headers: &HeaderMap, tenant: &Tenant) -> Result<Principal, Problem> {
    let invalid = || Problem::from(crate::domain::Error::InvalidToken);
    let token = headers
        .get(::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(str::trim)
        .filter(|t| !t.is_empty() && t.len() <= 4096)
        .ok_or_else(invalid)?;
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
    if claims.tid != tenant.id || claims.typ != "client" {
        return Err(invalid());
    }
    // The session and its user in one round trip: a session of an ended
    // epoch (logout-all, password reset, status change) or of a user who is
    // no longer active is refused at once.
    let keys = [crate::domain::user::session_key(&claims.sub, &claims.sid), crate::domain::user::user_key(&claims.sub)];
    let (session_item, user_item) = match app.store.get_many(&keys).await {
        Ok(found) => {
            let mut found = found.into_iter();
            (found.next().flatten(), found.next().flatten())
        }
        Err(err) => return Err(crate::domain::Error::from(err).into()),
    };
    let (Some(session_item), Some(user_item)) = (session_item, user_item) else {
        return Err(invalid());
    };
    let session: crate::domain::user::Session = serde_json::from_value(session_item.body).map_err(|_| invalid())?;
    let user: crate::domain::user::User = serde_json::from_value(user_item.body).map_err(|_| invalid())?;
    if session.tenant_id != tenant.id || !user.is_active() || !user.session_valid(&session) {
        return Err(invalid());
    }
    Ok(Principal { user_id: claims.sub, session_id: claims.sid, session })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_match_patterns() {
        assert_eq!(match_path("/v1/registrations", "/v1/registrations"), Some(vec![]));
        assert_eq!(
            match_path("/v1/registrations/{id}/email/verify", "/v1/registrations/reg_1/email/verify"),
            Some(vec![("id".to_owned(), "reg_1".to_owned())])
        );
        assert_eq!(match_path("/v1/registrations/{id}", "/v1/registrations/"), None);
        assert_eq!(match_path("/v1/registrations/{id}", "/v1/registrations/a/b"), None);
        assert_eq!(match_path("/v1/health", "/v1/healthz"), None);
    }

    #[test]
    fn query_components_decode() {
        assert_eq!(percent_decode("a%20b+c"), "a b c");
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
        assert_eq!(percent_decode("%C3%BC"), "ü");
        assert_eq!(percent_decode("ü%"), "ü%");
    }

    #[test]
    fn every_function_name_is_unique() {
        let mut names: Vec<_> = ROUTES.iter().map(|r| r.function).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), ROUTES.len());
    }
}
