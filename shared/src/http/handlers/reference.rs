//! Reference data (SPEC §8): countries, languages and the rest, localized.

use ::http::StatusCode;
use lambda_http::{Body, Response};
use serde_json::json;

use super::reply::json_response;
use crate::domain::reference;
use crate::http::context::Ctx;
use crate::http::problem::Problem;

pub async fn list_reference(ctx: &Ctx<'_>) -> Result<Response<Body>, Problem> {
    let kind = ctx.param("kind");
    let items = reference::entries(kind, ctx.lang, ctx.tenant()?, ctx.app.clock.now())
        .ok_or_else(|| Problem::new(StatusCode::NOT_FOUND, "reference_not_found"))?;
    Ok(json_response(StatusCode::OK, json!({ "kind": kind, "items": items })))
}

pub async fn get_reference(ctx: &Ctx<'_>) -> Result<Response<Body>, Problem> {
    // A time zone's `/` comes percent-encoded in its path segment
    // (`Europe%2FZurich`).
    let code = ctx.param("code").replace("%2F", "/").replace("%2f", "/");
    let item = reference::entry(ctx.param("kind"), &code, ctx.lang, ctx.tenant()?, ctx.app.clock.now())
        .ok_or_else(|| Problem::new(StatusCode::NOT_FOUND, "reference_not_found"))?;
    Ok(json_response(StatusCode::OK, serde_json::to_value(item).unwrap_or_default()))
}
