//! The path of every request: route, prepare the context (authentication
//! included), run the endpoint's handler, add CORS and the common headers,
//! log one line. The same for a Lambda function (one endpoint) and the local
//! API (every endpoint).

use ::http::{HeaderMap, HeaderValue, Method, StatusCode};
use lambda_http::{Body, Request, Response};

use super::context::{Ctx, client_request_id, method_not_allowed, prepare, request_id};
use super::endpoints::{Any, Handler};
use super::openapi::OPENAPI_PATH;
use super::problem::Problem;
use super::routes::{self, route_of};
use tracing::Instrument;

use crate::app::App;
use crate::i18n::negotiate;

/// Answers a request with any route of the table (the local API).
pub async fn handle(app: &App, request: Request) -> Response<Body> {
    let path = request.uri().path().to_owned();
    if path == OPENAPI_PATH && request.method() == Method::GET {
        let mut response = Response::new(Body::Text(super::openapi::served().to_owned()));
        response.headers_mut().insert(::http::header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        security_headers(response.headers_mut());
        return response;
    }
    if matches!(path.as_str(), "/demo" | "/demo/") && request.method() == Method::GET {
        return demo_page();
    }
    match routes::find(request.method(), &path) {
        Some((route, _)) => handle_endpoint(app, Any(route.endpoint), request).await,
        None => {
            let problem = match routes::routes_of(&path) {
                Some((candidates, _)) => method_not_allowed(&candidates[0].method),
                None => Problem::new(StatusCode::NOT_FOUND, "not_found"),
            };
            render_early(app, request.headers(), problem)
        }
    }
}

/// The passkey demo page of the local API (`/demo/`): an integration
/// example, not a product UI; no Lambda function serves it.
fn demo_page() -> Response<Body> {
    let mut response = Response::new(Body::Text(include_str!("demo.html").to_owned()));
    let headers = response.headers_mut();
    headers.insert(::http::header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    headers.insert(
        ::http::header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; frame-ancestors 'none'",
        ),
    );
    security_headers(headers);
    response
}

/// The headers every answer carries (docs/security.md): no MIME sniffing, HTTPS
/// only (for a year, subdomains too), and no `Referer` leaking a page's URL
/// (with its codes or ids) to another site.
fn security_headers(headers: &mut HeaderMap) {
    headers.insert(::http::header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(
        ::http::header::STRICT_TRANSPORT_SECURITY,
        HeaderValue::from_static("max-age=31536000; includeSubDomains"),
    );
    headers.insert(::http::header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
}

/// Answers a request for the route of `route` (tests and benches drive a
/// function's route by its row).
pub async fn handle_route(app: &App, route: &'static routes::Route, request: Request) -> Response<Body> {
    handle_endpoint(app, Any(route.endpoint), request).await
}

/// Answers a request for one endpoint (a Lambda function serves exactly one).
pub async fn handle_endpoint<H: Handler>(app: &App, handler: H, request: Request) -> Response<Body> {
    let route = route_of(handler.endpoint());
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
    // The span is the request's only while the request is polled (entering
    // it across an await would lend it to whatever else the thread runs).
    async {
        let prepared = match routes::match_route(route, request.uri().path()) {
            Some(params) => prepare(app, route, &request, params, lang, request_id.clone()).await,
            None => Err(Problem::new(StatusCode::NOT_FOUND, "not_found")),
        };
        let (response, lang) = match prepared {
            Ok(ctx) => {
                let mut response = handler.handle(&ctx).await.unwrap_or_else(|p| p.render(ctx.lang, &ctx.request_id));
                cors(&ctx, &mut response);
                (response, ctx.lang)
            }
            Err(problem) => (problem.render(lang, &request_id), lang),
        };
        tracing::info!(status = response.status().as_u16(), method = %request.method(), "answered");
        finish(response, lang, &request_id)
    }
    .instrument(span)
    .await
}

/// Renders a problem outside a route (no route matched, or the local
/// server's early 413).
pub fn render_early(app: &App, headers: &HeaderMap, problem: Problem) -> Response<Body> {
    let lang = negotiate(headers.get("accept-language").and_then(|v| v.to_str().ok()));
    let id = client_request_id(headers).unwrap_or_else(|| app.new_id("req"));
    finish(problem.render(lang, &id), lang, &id)
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
    // Tokens and personal data must not be kept by a browser or a proxy;
    // the public documents (JWKS, discovery) say otherwise themselves.
    headers.entry("cache-control").or_insert(HeaderValue::from_static("no-store"));
    security_headers(headers);
    response
}

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
