//! The Lambda entry point every function binary calls: build the app once
//! per cold start, then serve the function's one route.

use std::convert::Infallible;
use std::sync::Arc;

use lambda_http::{Body, Error, Request, Response, service_fn};

use super::{handle_route, route_for_function};
use crate::config::Config;

/// Sets up JSON or text logs (never secrets: handlers only log ids).
pub fn init_tracing(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_target(false);
    let _ = if json { builder.json().without_time().try_init() } else { builder.try_init() };
}

/// Runs the Lambda function `function` (its name in the route table).
pub async fn run(function: &str) -> Result<(), Error> {
    let config = Config::from_env(true)?;
    init_tracing(config.json_logs);
    let route = route_for_function(function).ok_or_else(|| format!("no route for function {function}"))?;
    let app = config.build_app().await?;
    if config.dev
        && let Some(api_key) = &config.api_key
    {
        tracing::warn!("development mode: seeding the sandbox tenant");
        let tenant = crate::local::sandbox_tenant(&config);
        crate::local::seed_tenant(&app, &tenant, api_key).await?;
        if let Some(token) = &config.admin_token {
            crate::local::seed_admin_token(&app, &tenant, Some(token)).await?;
        }
    }
    let app = Arc::new(app);
    lambda_http::run(service_fn(move |request: Request| {
        let app = app.clone();
        async move { Ok::<Response<Body>, Infallible>(handle_route(&app, route, request).await) }
    }))
    .await
}
