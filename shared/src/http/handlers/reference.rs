//! Reference data (docs/back-office.md, "Reference data"): countries,
//! languages and the rest, localized.

use std::collections::BTreeMap;

use ::http::StatusCode;
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::{Value, json};

use super::reply::{Reply, message};
use crate::domain::reference::Entry;
use crate::domain::tenant::{TenantEntry, valid_entry_code};
use crate::domain::values::LANGUAGES;
use crate::domain::{FieldError, reference};
use crate::http::body::{Cx, FieldKind};
use crate::http::context::Ctx;
use crate::http::input::Fields;
use crate::http::problem::Problem;

/// One entry: its code and name in the caller's language, and what its
/// kind adds.
#[derive(Serialize, JsonSchema)]
pub struct EntryAnswer {
    pub code: String,
    pub name: String,
    /// A legal document's current version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// A nationality's demonym (`Swiss`), where the data has one in the
    /// caller's language (English and French).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub demonym: Option<String>,
    /// A time zone's offset from UTC now (`+01:00`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[+-][0-9]{2}:[0-9]{2}$"))]
    pub utc_offset: Option<String>,
}

impl From<Entry> for EntryAnswer {
    fn from(entry: Entry) -> Self {
        let Entry { code, name, version, demonym, utc_offset } = entry;
        Self { code, name, version, demonym, utc_offset }
    }
}

/// `GET /v1/reference/{kind}`: every entry of a kind.
#[derive(Serialize, JsonSchema)]
pub struct EntryList {
    pub kind: String,
    pub items: Vec<EntryAnswer>,
}

pub async fn list_reference(ctx: &Ctx<'_>) -> Result<Reply<EntryList>, Problem> {
    let kind = ctx.param("kind");
    let items = reference::entries(kind, ctx.lang, ctx.tenant()?, ctx.app.clock.now())
        .ok_or_else(|| Problem::new(StatusCode::NOT_FOUND, "reference_not_found"))?;
    Ok(Reply::ok(EntryList { kind: kind.to_owned(), items: items.into_iter().map(EntryAnswer::from).collect() }))
}

pub async fn get_reference(ctx: &Ctx<'_>) -> Result<Reply<EntryAnswer>, Problem> {
    // A time zone's `/` comes percent-encoded in its path segment
    // (`Europe%2FZurich`).
    let code = ctx.param("code").replace("%2F", "/").replace("%2f", "/");
    let item = reference::entry(ctx.param("kind"), &code, ctx.lang, ctx.tenant()?, ctx.app.clock.now())
        .ok_or_else(|| Problem::new(StatusCode::NOT_FOUND, "reference_not_found"))?;
    Ok(Reply::ok(item.into()))
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

/// `PUT /v1/reference/{kind}/{code}`: the entry as stored (201 when new).
#[derive(Serialize, JsonSchema)]
pub struct StoredEntry {
    pub kind: String,
    pub code: String,
    /// The entry's name per language.
    pub names: BTreeMap<String, String>,
}

pub async fn put_reference(ctx: &Ctx<'_>) -> Result<Reply<StoredEntry>, Problem> {
    let (tenant, actor) = (ctx.tenant()?, ctx.actor()?);
    let body = PutReferenceBody::parse(ctx)?;
    let (kind, code) = kind_and_code(ctx)?;
    let names = body.names;
    let entry = TenantEntry { code: code.to_owned(), names };
    let (entry, created) = reference::put_entry(ctx.app, &tenant.id, actor, kind, entry).await?;
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    let TenantEntry { code, names } = entry;
    Ok(Reply::new(status, StoredEntry { kind: kind.to_owned(), code, names }))
}

/// `DELETE /v1/reference/{kind}/{code}`: the entry removed.
#[derive(Serialize, JsonSchema)]
pub struct RemovedEntry {
    pub kind: String,
    pub code: String,
    pub message: String,
}

pub async fn delete_reference(ctx: &Ctx<'_>) -> Result<Reply<RemovedEntry>, Problem> {
    let (tenant, actor) = (ctx.tenant()?, ctx.actor()?);
    let (kind, code) = kind_and_code(ctx)?;
    reference::remove_entry(ctx.app, &tenant.id, actor, kind, code).await?;
    let message = message(ctx, "reference_removed");
    Ok(Reply::ok(RemovedEntry { kind: kind.to_owned(), code: code.to_owned(), message }))
}
