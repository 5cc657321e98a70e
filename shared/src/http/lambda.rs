//! The Lambda entry point every function binary calls with its endpoint's
//! type (`lambda::run(endpoints::Refresh)`): build the app once per cold
//! start, with only what the endpoint needs, then serve its one route.

use std::convert::Infallible;
use std::sync::Arc;

use lambda_http::{Body, Error, Request, Response, service_fn};

use super::endpoints::Handler;
use super::pipeline::handle_endpoint;
use crate::config::{Config, Senders};

/// Runs the Lambda function of `handler`'s endpoint.
pub async fn run<H: Handler>(handler: H) -> Result<(), Error> {
    let config = Config::from_env(true)?;
    crate::logs::init(config.json_logs);
    // Constant per binary: the SES and SNS clients are linked only into the
    // functions that send.
    let senders = Senders {
        mailer: if H::NEEDS.email { Some(crate::config::ses_mailer) } else { None },
        texter: if H::NEEDS.sms { Some(crate::config::sns_texter) } else { None },
    };
    let app = config.build_app_with(senders).await?;
    if config.dev
        && let Some(api_key) = &config.api_key
    {
        tracing::warn!("development mode: seeding the sandbox tenant");
        let tenant = crate::local::sandbox_tenant(&config, config.addr.port());
        crate::local::seed_tenant(&app, &tenant, api_key).await?;
        crate::local::seed_clients(&app, &tenant, &config).await.map_err(|e| e.to_string())?;
        if let Some(token) = &config.admin_token {
            crate::local::seed_admin_token(&app, &tenant, Some(token)).await?;
        }
    }
    let app = Arc::new(app);
    // One request at a time per process, as Lambda runs functions; several
    // when the environment sets `AWS_LAMBDA_MAX_CONCURRENCY` (Lambda Managed
    // Instances, `cargo lambda watch`): the app is shared and every counter
    // is atomic in the store, so that is safe.
    lambda_http::run_concurrent(service_fn(move |request: Request| {
        let app = app.clone();
        async move { Ok::<Response<Body>, Infallible>(handle_endpoint(&app, handler, request).await) }
    }))
    .await
}
