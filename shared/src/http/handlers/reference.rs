//! Reference data (docs/back-office.md, "Reference data"): countries,
//! languages and the rest, localized.

use ::http::StatusCode;
use lambda_http::{Body, Response};
use serde_json::json;

use serde_json::Value;

use super::reply::{json_response, message};
use crate::domain::tenant::{TenantEntry, valid_entry_code};
use crate::domain::values::LANGUAGES;
use crate::domain::{FieldError, reference};
use crate::http::body::{Cx, FieldKind};
use crate::http::context::Ctx;
use crate::http::input::Fields;
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

/// An entry's names: `{"en": "Single", "de": "Ledig"}`, English required,
/// each 1–200 characters.
pub struct EntryNames;

impl FieldKind for EntryNames {
    type Out = std::collections::BTreeMap<String, String>;
    fn read(f: &mut Fields, name: &str, _: &Cx) -> Option<Self::Out> {
        let Some(Value::Object(map)) = f.raw(name) else {
            f.errors.push(FieldError::new(name, "wrong_type").with_text("expected", "object"));
            return None;
        };
        let before = f.errors.len();
        let mut names = std::collections::BTreeMap::new();
        for (lang, text) in map {
            let field = format!("{name}.{lang}");
            match text {
                _ if !LANGUAGES.contains(&lang.as_str()) => f.errors.push(FieldError::new(field, "unknown_field")),
                Value::String(text) if !text.trim().is_empty() && text.chars().count() <= 200 => {
                    names.insert(lang, text.trim().to_owned());
                }
                _ => f.errors.push(FieldError::new(field, "invalid_characters")),
            }
        }
        if f.errors.len() == before && !names.contains_key("en") {
            f.errors.push(FieldError::new(format!("{name}.en"), "required"));
        }
        (f.errors.len() == before).then_some(names)
    }
    fn schema() -> Value {
        let name = json!({ "type": "string", "minLength": 1, "maxLength": 200, "pattern": "\\S" });
        let properties: serde_json::Map<String, Value> =
            LANGUAGES.iter().map(|l| ((*l).to_owned(), name.clone())).collect();
        json!({ "type": "object", "properties": properties, "required": ["en"], "additionalProperties": false })
    }
}

crate::body! {
    /// `PUT /v1/reference/{kind}/{code}`: an entry of a kind of the
    /// tenant's own (not a built-in one), added or renamed.
    pub struct PutReferenceBody {
        /// The entry's name per language (`en` required; `de`, `fr`, `it`).
        names: required EntryNames,
    }
}

/// The path's kind and code, checked.
fn kind_and_code<'a>(ctx: &'a Ctx<'_>) -> Result<(&'a str, &'a str), Problem> {
    let code = ctx.param("code");
    if !valid_entry_code(code) {
        return Err(Problem::validation(vec![FieldError::new("code", "invalid_entry_code")]));
    }
    Ok((ctx.param("kind"), code))
}

pub async fn put_reference(ctx: &Ctx<'_>) -> Result<Response<Body>, Problem> {
    let (tenant, actor) = (ctx.tenant()?, ctx.actor()?);
    let body = PutReferenceBody::parse(ctx)?;
    let (kind, code) = kind_and_code(ctx)?;
    let names = body.names;
    let entry = TenantEntry { code: code.to_owned(), names };
    let (entry, created) = reference::put_entry(ctx.app, &tenant.id, actor, kind, entry).await?;
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    Ok(json_response(status, json!({ "kind": kind, "code": entry.code, "names": entry.names })))
}

pub async fn delete_reference(ctx: &Ctx<'_>) -> Result<Response<Body>, Problem> {
    let (tenant, actor) = (ctx.tenant()?, ctx.actor()?);
    let (kind, code) = kind_and_code(ctx)?;
    reference::remove_entry(ctx.app, &tenant.id, actor, kind, code).await?;
    Ok(json_response(
        StatusCode::OK,
        json!({ "kind": kind, "code": code, "message": message(ctx, "reference_removed") }),
    ))
}
