//! The back office (docs/back-office.md): privileged registration, reading
//! users, status changes and the audit trail.

use ::http::{HeaderValue, StatusCode};
use lambda_http::{Body, Response};
use serde_json::{Value, json};

use super::reply::{json_response, message};
use crate::domain::FieldError;
use crate::domain::credentials::lockout;
use crate::domain::foreign_hash::{self, FirebaseProject};
use crate::domain::ids::UserId;
use crate::domain::paging::Cursor;
use crate::domain::password::Password;
use crate::domain::reference;
use crate::domain::user::Address;
use crate::domain::users::{self, NewUser, Secret, UserView};
use crate::domain::values;
use crate::http::body::{
    Choice, CompanyId, Country, Cx, Email, FieldKind, Flag, NewPassword, NewUsername, OneOf, Password as PasswordField,
    PastInstant, PersonalBody, PhoneBody, ProfilePatchBody, Reason, StatusField, UserType, check_confirmation,
};
use crate::http::context::Ctx;
use crate::http::input::Fields;
use crate::http::problem::Problem;

crate::body! {
    /// `POST /v1/users`: a user created by the back office, with a password
    /// or an invitation (`invite: true`: a code to set one, by e-mail).
    pub struct CreateUserBody {
        email: required Email,
        /// For tenants with usernames (required where they require one).
        username: optional NewUsername,
        details: flatten PersonalBody,
        phone: flatten PhoneBody,
        /// When the user consented to the processing of its personal data.
        personal_data_consent_at: optional PastInstant,
        /// The user accepted the tenant's current terms (at
        /// `personal_data_consent_at`, or now); absent or `false`: pending.
        terms_accepted: optional Flag,
        /// The same for the privacy policy.
        privacy_policy_accepted: optional Flag,
        /// An ISO 3166-1 alpha-2 country code.
        nationality: optional Country,
        /// `service_owner`, `company_user` or `consumer`, in any case
        /// (`SERVICE_OWNER`); `subscriber` is a consumer.
        user_type: required UserType,
        /// Required for company users.
        company_id: optional CompanyId,
        /// Roles of the tenant's catalogue that the caller may grant.
        roles: optional Roles,
        reset_required: optional Flag,
        invite: optional Flag,
        password: optional PasswordField,
        /// The password typed again (optional); when given, it must be
        /// the same (`password_mismatch`).
        confirm_password: optional NewPassword,
        address: optional AddressField,
        /// Free attributes of the tenant's own (at most 50).
        attributes: optional Attributes,
        /// Entries of reference kinds by code (`{"civil-statuses":
        /// "SINGLE", "time-zones": "Europe/Zurich"}`), each one that exists.
        references: optional References,
    }
}

/// A postal address.
pub struct AddressField;

impl FieldKind for AddressField {
    type Out = Address;
    fn read(f: &mut Fields, name: &str, _: &Cx) -> Option<Address> {
        read_address(f, name)
    }
    fn schema() -> Value {
        let properties: serde_json::Map<String, Value> = ADDRESS_FIELDS
            .iter()
            .map(|name| {
                let schema = match *name {
                    "country" => json!({ "type": ["string", "null"], "pattern": "^[A-Za-z]{2}$" }),
                    _ => json!({ "type": ["string", "null"], "maxLength": 200 }),
                };
                ((*name).to_owned(), schema)
            })
            .collect();
        json!({ "type": "object", "properties": properties, "additionalProperties": false })
    }
}

const ADDRESS_FIELDS: [&str; 6] = ["street", "street_nr", "zip", "city", "country", "c_o"];

fn read_address(f: &mut Fields, name: &str) -> Option<Address> {
    let value = f.raw(name)?;
    let Value::Object(map) = value else {
        f.errors.push(FieldError::new(name, "wrong_type").with_text("expected", "object"));
        return None;
    };
    let mut address = Address::default();
    for (key, value) in &map {
        let field = format!("address.{key}");
        if !ADDRESS_FIELDS.contains(&key.as_str()) {
            f.errors.push(FieldError::new(field, "unknown_field"));
            continue;
        }
        let text = match value {
            Value::Null => continue,
            Value::String(s) if s.chars().count() <= 200 && !s.chars().any(char::is_control) => s.trim().to_owned(),
            Value::String(_) => {
                f.errors.push(FieldError::new(field, "too_long"));
                continue;
            }
            _ => {
                f.errors.push(FieldError::new(field, "wrong_type").with_text("expected", "string"));
                continue;
            }
        };
        let slot = match key.as_str() {
            "street" => &mut address.street,
            "street_nr" => &mut address.street_nr,
            "zip" => &mut address.zip,
            "city" => &mut address.city,
            "c_o" => &mut address.c_o,
            _ => match reference::parse_country(&text) {
                Ok(code) => {
                    address.country = Some(code);
                    continue;
                }
                Err(code) => {
                    f.errors.push(FieldError::new(field, code));
                    continue;
                }
            },
        };
        *slot = Some(text);
    }
    Some(address)
}

/// Free attributes: an object of at most 50 members.
pub struct Attributes;

impl FieldKind for Attributes {
    type Out = serde_json::Map<String, Value>;
    fn read(f: &mut Fields, name: &str, _: &Cx) -> Option<Self::Out> {
        match f.raw(name) {
            Some(Value::Object(map)) if map.len() <= 50 => Some(map),
            Some(Value::Object(_)) => {
                f.errors.push(FieldError::new(name, "too_many"));
                None
            }
            _ => {
                f.errors.push(FieldError::new(name, "wrong_type").with_text("expected", "object"));
                None
            }
        }
    }
    fn schema() -> Value {
        json!({ "type": "object", "maxProperties": 50 })
    }
}

/// References to reference entries: `{kind: code}` (at most 20), each
/// checked against the kind's entries (`unknown_reference`).
pub struct References;

impl FieldKind for References {
    type Out = std::collections::BTreeMap<String, String>;
    fn read(f: &mut Fields, name: &str, _: &Cx) -> Option<Self::Out> {
        let Some(Value::Object(map)) = f.raw(name) else {
            f.errors.push(FieldError::new(name, "wrong_type").with_text("expected", "object"));
            return None;
        };
        if map.len() > 20 {
            f.errors.push(FieldError::new(name, "too_many"));
            return None;
        }
        let mut out = std::collections::BTreeMap::new();
        let before = f.errors.len();
        for (kind, code) in map {
            match code {
                Value::String(code) if crate::domain::tenant::valid_entry_code(code.trim()) || code.contains('/') => {
                    out.insert(kind, code.trim().to_owned());
                }
                _ => f.errors.push(FieldError::new(format!("{name}.{kind}"), "unknown_reference")),
            }
        }
        (f.errors.len() == before).then_some(out)
    }
    fn schema() -> Value {
        json!({
            "type": "object", "maxProperties": 20,
            "additionalProperties": { "type": "string", "pattern": "^[A-Za-z0-9._/+-]{1,64}$" },
        })
    }
}

/// Role names (at most 20, each of the catalogue's spelling).
pub struct Roles;

impl FieldKind for Roles {
    type Out = Vec<String>;
    fn read(f: &mut Fields, name: &str, _: &Cx) -> Option<Vec<String>> {
        f.string_list(name, 20, crate::domain::tenant::valid_role_name, "invalid_role")
    }
    fn schema() -> Value {
        json!({ "type": "array", "items": { "type": "string", "pattern": "^[A-Za-z0-9._:-]{1,64}$" }, "maxItems": 20 })
    }
}

pub async fn create_user(ctx: &Ctx<'_>) -> Result<Response<Body>, Problem> {
    let tenant = ctx.tenant()?;
    let actor = ctx.actor()?;
    let mut f = Fields::parse(ctx.body)?;
    let read = CreateUserBody::read(&mut f, &Cx::of(ctx));
    let phone = read.phone.phone(&mut f);
    let invite = read.invite.unwrap_or(false);
    let secret = match (&read.password, invite) {
        (Some(password), false) => {
            let email = read.email.as_ref();
            f.errors.extend(values::password_errors(&tenant.policy.password, "password", password, email));
            check_confirmation(&mut f, Some(password), read.confirm_password.as_ref());
            Some(Secret::Password(Password::new(password.clone())))
        }
        (None, true) => Some(Secret::Invite),
        _ => {
            f.errors.push(FieldError::new("password", "password_or_invite"));
            None
        }
    };
    let CreateUserBody {
        email,
        username,
        details,
        personal_data_consent_at,
        terms_accepted,
        privacy_policy_accepted,
        nationality,
        user_type,
        company_id,
        roles,
        reset_required,
        address,
        attributes,
        references,
        ..
    } = CreateUserBody::complete(f, read)?;
    let reset_required = reset_required.unwrap_or(false);
    let details = details.details(ctx.lang);
    // Password or invitation: which one was decided (and refused) above.
    let secret = secret.ok_or_else(|| Problem::validation(Vec::new()))?;
    let new = NewUser {
        email,
        username,
        details,
        phone,
        secret,
        user_type,
        roles: roles.unwrap_or_default(),
        company_id,
        reset_required,
        nationality,
        address,
        attributes: attributes.unwrap_or_default(),
        references: references.unwrap_or_default(),
        consent: users::Consent {
            personal_data_at: personal_data_consent_at,
            terms: terms_accepted.unwrap_or(false),
            privacy: privacy_policy_accepted.unwrap_or(false),
        },
    };
    let user = users::create_user(ctx.app, tenant, actor, new, ctx.partner_id.clone()).await?;
    let mut body = serde_json::to_value(UserView::from(&user)).unwrap_or_default();
    if let Some(object) = body.as_object_mut() {
        object.insert("message".into(), message(ctx, "user_created"));
    }
    let mut response = json_response(StatusCode::CREATED, body);
    if let Ok(location) = HeaderValue::from_str(&format!("/v1/users/{}", user.id)) {
        response.headers_mut().insert(::http::header::LOCATION, location);
    }
    Ok(response)
}

crate::body! {
    /// One user of `POST /v1/users/import` (and of a line of
    /// `registrar-admin users import`): a back-office creation's fields
    /// with the old system's `password_hash` instead of a password.
    pub struct ImportUserBody {
        email: required Email,
        /// For tenants with usernames (required where they require one).
        username: optional NewUsername,
        details: flatten PersonalBody,
        phone: flatten PhoneBody,
        /// When the user consented to the processing of its personal data.
        personal_data_consent_at: optional PastInstant,
        /// The user accepted the tenant's current terms.
        terms_accepted: optional Flag,
        /// The same for the privacy policy.
        privacy_policy_accepted: optional Flag,
        /// An ISO 3166-1 alpha-2 country code.
        nationality: optional Country,
        /// `service_owner`, `company_user` or `consumer`, in any case.
        user_type: required UserType,
        /// Required for company users.
        company_id: optional CompanyId,
        /// Roles of the tenant's catalogue.
        roles: optional Roles,
        reset_required: optional Flag,
        /// The old system's hash: argon2 PHC, bcrypt, scrypt PHC, Django or
        /// passlib PBKDF2-SHA256, or Firebase's (with `password_salt` and
        /// the import's `firebase`); `unsupported_hash` otherwise,
        /// `hash_too_costly` beyond the cost bounds (docs/import-export.md).
        password_hash: required HashText,
        /// Firebase's per-user salt (base64).
        password_salt: optional HashText,
        email_verified: optional Flag,
        phone_verified: optional Flag,
        /// When the old system created the user (default: now).
        created_at: optional PastInstant,
        /// `active` (default), `created`, `suspended` or `disabled`.
        status: optional StatusField,
        address: optional AddressField,
        /// Free attributes of the tenant's own (at most 50).
        attributes: optional Attributes,
        /// Entries of reference kinds by code.
        references: optional References,
    }
}

/// A hash or salt as another system wrote it (at most 2048 characters).
pub struct HashText;

impl FieldKind for HashText {
    type Out = String;
    fn read(f: &mut Fields, name: &str, _: &Cx) -> Option<String> {
        let text = f.str(name)?;
        if text.len() > 2048 {
            f.errors.push(FieldError::new(name, "too_long"));
            return None;
        }
        Some(text)
    }
    fn schema() -> Value {
        json!({ "type": "string", "minLength": 1, "maxLength": 2048 })
    }
}

crate::body! {
    /// `POST /v1/users/import` (admin token only): up to 100 users of
    /// another system, each imported on its own.
    pub struct ImportUsersBody {
        /// At most 100 users (`ImportUserBody` each).
        users: required ImportList,
        /// The Firebase project's password-hash parameters, for users
        /// with a Firebase hash.
        firebase: optional FirebaseField,
    }
}

/// The users of an import call: at most [`users::IMPORT_BATCH`], each read
/// on its own.
pub struct ImportList;

impl FieldKind for ImportList {
    type Out = Vec<Value>;
    fn read(f: &mut Fields, name: &str, _: &Cx) -> Option<Vec<Value>> {
        match f.raw(name) {
            Some(Value::Array(list)) if list.len() <= users::IMPORT_BATCH => Some(list),
            Some(Value::Array(_)) => {
                f.errors.push(FieldError::new(name, "too_many").with("max", users::IMPORT_BATCH as i64));
                None
            }
            _ => {
                f.errors.push(FieldError::new(name, "wrong_type").with_text("expected", "array"));
                None
            }
        }
    }
    fn schema() -> Value {
        json!({ "type": "array", "maxItems": users::IMPORT_BATCH, "items": ImportUserBody::schema() })
    }
}

/// Firebase's password-hash parameters: `signer_key` and `salt_separator`
/// (base64), `rounds` and `mem_cost`.
pub struct FirebaseField;

impl FieldKind for FirebaseField {
    type Out = FirebaseProject;
    fn read(f: &mut Fields, name: &str, _: &Cx) -> Option<FirebaseProject> {
        let Some(Value::Object(map)) = f.raw(name) else {
            f.errors.push(FieldError::new(name, "wrong_type").with_text("expected", "object"));
            return None;
        };
        let text = |key: &str| map.get(key).and_then(Value::as_str).unwrap_or("");
        let number = |key: &str| map.get(key).and_then(Value::as_u64).and_then(|n| u32::try_from(n).ok()).unwrap_or(0);
        match FirebaseProject::parse(text("signer_key"), text("salt_separator"), number("rounds"), number("mem_cost")) {
            Ok(project) => Some(project),
            Err(field) => {
                f.errors.push(FieldError::new(format!("{name}.{field}"), "invalid"));
                None
            }
        }
    }
    fn schema() -> Value {
        json!({
            "type": "object",
            "properties": {
                "signer_key": { "type": "string" },
                "salt_separator": { "type": "string" },
                "rounds": { "type": "integer", "minimum": 1, "maximum": 32 },
                "mem_cost": { "type": "integer", "minimum": 1, "maximum": 20 },
            },
            "required": ["signer_key", "salt_separator", "rounds", "mem_cost"],
            "additionalProperties": false,
        })
    }
}

/// One user of an import, read as `POST /v1/users/import` reads it (the
/// operator CLI reads its file's lines with it too): every field error of
/// that user, or what to import.
pub fn read_import_user(
    value: Value,
    cx: &Cx,
    lang: &str,
    firebase: Option<&FirebaseProject>,
) -> Result<(NewUser, users::Imported), crate::domain::Error> {
    let Value::Object(map) = value else {
        return Err(crate::domain::Error::field("", "wrong_type"));
    };
    let mut f = Fields::of(map);
    let read = ImportUserBody::read(&mut f, cx);
    let phone = read.phone.phone(&mut f);
    let hash = read.password_hash.as_ref().and_then(|hash| {
        foreign_hash::import(hash, read.password_salt.as_deref(), firebase)
            .map_err(|refusal| f.errors.push(FieldError::new("password_hash", refusal.code())))
            .ok()
    });
    let body = ImportUserBody::complete(f, read).map_err(|problem| crate::domain::Error::Validation(problem.errors))?;
    let hash = hash.ok_or_else(|| crate::domain::Error::field("password_hash", "unsupported_hash"))?;
    let new = NewUser {
        email: body.email,
        username: body.username,
        details: body.details.details(lang),
        phone,
        secret: Secret::Hash(hash),
        user_type: body.user_type,
        roles: body.roles.unwrap_or_default(),
        company_id: body.company_id,
        reset_required: body.reset_required.unwrap_or(false),
        nationality: body.nationality,
        address: body.address,
        attributes: body.attributes.unwrap_or_default(),
        references: body.references.unwrap_or_default(),
        consent: users::Consent {
            personal_data_at: body.personal_data_consent_at,
            terms: body.terms_accepted.unwrap_or(false),
            privacy: body.privacy_policy_accepted.unwrap_or(false),
        },
    };
    let imported = users::Imported {
        status: body.status.unwrap_or(users::Status::Active),
        email_verified: body.email_verified.unwrap_or(false),
        phone_verified: body.phone_verified.unwrap_or(false),
        created_at: body.created_at,
    };
    Ok((new, imported))
}

/// One user's result of an import: its id, or why it was refused (the
/// first field error's code and field, or the problem's code).
pub fn import_result(index: usize, result: Result<UserId, crate::domain::Error>) -> Value {
    match result {
        Ok(user_id) => json!({ "index": index, "user_id": user_id }),
        Err(crate::domain::Error::Validation(errors)) => {
            let first = errors.first();
            json!({ "index": index, "error": {
                "code": first.map_or("validation_failed", |e| e.code),
                "field": first.map(|e| e.field.clone()),
            } })
        }
        Err(err) => {
            let problem = Problem::from(err);
            json!({ "index": index, "error": { "code": problem.code, "field": null } })
        }
    }
}

pub async fn import_users(ctx: &Ctx<'_>) -> Result<Response<Body>, Problem> {
    let (tenant, actor) = (ctx.tenant()?, ctx.actor()?);
    // Machines bring users: an admin token, never a signed-in user.
    if !matches!(actor, users::Actor::Admin { .. }) {
        return Err(crate::domain::Error::Forbidden.into());
    }
    let body = ImportUsersBody::parse(ctx)?;
    let cx = Cx::of(ctx);
    let batch =
        body.users.into_iter().map(|user| read_import_user(user, &cx, ctx.lang, body.firebase.as_ref())).collect();
    let results = users::import_users(ctx.app, tenant, actor, batch).await;
    let imported = results.iter().filter(|r| r.is_ok()).count();
    let results: Vec<Value> = results.into_iter().enumerate().map(|(i, r)| import_result(i, r)).collect();
    Ok(json_response(StatusCode::OK, json!({ "imported": imported, "results": results })))
}

/// The user of the path (a malformed id is as unknown as any other).
fn user_id(ctx: &Ctx<'_>) -> Result<UserId, Problem> {
    UserId::parse(ctx.param("id")).ok_or_else(|| crate::domain::Error::UserNotFound.into())
}

pub async fn get_user(ctx: &Ctx<'_>) -> Result<Response<Body>, Problem> {
    let user = users::get_user(ctx.app, ctx.tenant()?, ctx.actor()?, &user_id(ctx)?).await?;
    let mut view = UserView::from(&user);
    view.lockout = Some(lockout(ctx.app, &user.id).await?);
    Ok(json_response(StatusCode::OK, serde_json::to_value(view).unwrap_or_default()))
}

crate::body! {
    /// `PATCH /v1/users/{id}`: only the fields given change; `null` clears
    /// an optional one.
    pub struct UpdateUserBody {
        profile: flatten ProfilePatchBody,
        /// An ISO 3166-1 alpha-2 country code.
        nationality: patch Country,
        address: patch AddressField,
        /// The user's roles afterwards (each one added or removed must be
        /// one the caller may grant).
        roles: present Roles,
        /// A company the caller may manage (a company user: its own).
        company_id: patch CompanyId,
        /// The tenant's own attributes, replaced as a whole (at most 50).
        attributes: present Attributes,
        /// References to reference entries, replaced as a whole.
        references: present References,
    }
}

pub async fn update_user(ctx: &Ctx<'_>) -> Result<Response<Body>, Problem> {
    let (tenant, actor) = (ctx.tenant()?, ctx.actor()?);
    let body = UpdateUserBody::parse(ctx)?;
    let id = &user_id(ctx)?;
    let changes = users::UserChanges {
        profile: body.profile.changes(),
        roles: body.roles,
        company_id: body.company_id,
        nationality: body.nationality,
        address: body.address,
        attributes: body.attributes,
        references: body.references,
    };
    let user = users::update_user(ctx.app, tenant, actor, id, changes).await?;
    let mut body = serde_json::to_value(UserView::from(&user)).unwrap_or_default();
    if let Some(object) = body.as_object_mut() {
        object.insert("message".into(), message(ctx, "user_updated"));
    }
    Ok(json_response(StatusCode::OK, body))
}

crate::body! {
    /// `POST /v1/users/{id}/unlock`, `POST /v1/users/{id}/sessions/revoke`.
    pub struct ReasonBody {
        /// Why (written to the audit trail): 1–500 characters.
        reason: required Reason,
    }
}

/// The reason of a back-office action's body.
fn reason(ctx: &Ctx<'_>) -> Result<String, Problem> {
    Ok(ReasonBody::parse(ctx)?.reason)
}

pub async fn unlock_user(ctx: &Ctx<'_>) -> Result<Response<Body>, Problem> {
    let (tenant, actor) = (ctx.tenant()?, ctx.actor()?);
    let reason = reason(ctx)?;
    let id = &user_id(ctx)?;
    let was = users::unlock(ctx.app, tenant, actor, id, &reason).await?;
    Ok(json_response(
        StatusCode::OK,
        json!({ "user_id": id, "previous": was, "message": message(ctx, "user_unlocked") }),
    ))
}

pub async fn revoke_user_sessions(ctx: &Ctx<'_>) -> Result<Response<Body>, Problem> {
    let (tenant, actor) = (ctx.tenant()?, ctx.actor()?);
    let reason = reason(ctx)?;
    let id = &user_id(ctx)?;
    let revoked = users::revoke_sessions(ctx.app, tenant, actor, id, &reason).await?;
    Ok(json_response(
        StatusCode::OK,
        json!({ "user_id": id, "sessions_revoked": revoked, "message": message(ctx, "user_sessions_revoked") }),
    ))
}

/// How the back office resets a password.
pub struct ResetMethods;

impl Choice for ResetMethods {
    const CHOICES: &'static [&'static str] = &["email", "required"];
}

crate::body! {
    /// `POST /v1/users/{id}/password-reset`
    pub struct ResetUserPasswordBody {
        /// `email`: e-mail the user a reset code (an invited user: the
        /// invitation again); `required`: a new password at the next sign-in.
        method: required OneOf<ResetMethods>,
        /// Why (written to the audit trail): 1–500 characters.
        reason: required Reason,
    }
}

pub async fn reset_user_password(ctx: &Ctx<'_>) -> Result<Response<Body>, Problem> {
    let (tenant, actor) = (ctx.tenant()?, ctx.actor()?);
    let ResetUserPasswordBody { method, reason } = ResetUserPasswordBody::parse(ctx)?;
    let id = &user_id(ctx)?;
    let (how, text) = match method {
        "email" => (users::ResetMethod::Email, "user_reset_code_sent"),
        _ => (users::ResetMethod::Required, "user_reset_required"),
    };
    users::reset_password(ctx.app, tenant, actor, id, how, &reason).await?;
    Ok(json_response(StatusCode::OK, json!({ "user_id": id, "method": method, "message": message(ctx, text) })))
}

crate::body! {
    /// `POST /v1/users/{id}/status`
    pub struct ChangeUserStatusBody {
        /// The new status, by name or by letter (`C`, `A`, `S`, `D`, `X`).
        status: required StatusField,
        /// Why (written to the audit trail): 1–500 characters.
        reason: required Reason,
    }
}

pub async fn change_user_status(ctx: &Ctx<'_>) -> Result<Response<Body>, Problem> {
    let tenant = ctx.tenant()?;
    let actor = ctx.actor()?;
    let ChangeUserStatusBody { status, reason } = ChangeUserStatusBody::parse(ctx)?;
    let id = &user_id(ctx)?;
    let previous = users::change_status(ctx.app, tenant, actor, id, status, &reason).await?;
    Ok(json_response(
        StatusCode::OK,
        json!({
            "user_id": id,
            "status": status.as_str(),
            "previous_status": previous.as_str(),
            "message": message(ctx, "status_changed"),
        }),
    ))
}

/// `GET /v1/users?email=|phone=|username=|status=|company_id=&limit=&after=`: exact
/// matches, combined; every query error at once.
pub async fn list_users(ctx: &Ctx<'_>) -> Result<Response<Body>, Problem> {
    let (tenant, actor) = (ctx.tenant()?, ctx.actor()?);
    const KNOWN: [&str; 7] = ["email", "phone", "username", "status", "company_id", "limit", "after"];
    let mut errors: Vec<FieldError> = (ctx.query.iter())
        .filter(|(name, _)| !KNOWN.contains(&name.as_str()))
        .map(|(name, _)| FieldError::new(name.clone(), "unknown_field"))
        .collect();
    let mut parsed = |name: &'static str, parse: &dyn Fn(&str) -> Result<(), &'static str>| {
        if let Some(raw) = ctx.query_param(name)
            && let Err(code) = parse(raw)
        {
            errors.push(FieldError::new(name, code));
        }
    };
    parsed("email", &|raw| values::EmailAddress::parse(raw).map(drop));
    parsed("phone", &|raw| values::Phone::parse(raw).map(drop));
    parsed("username", &|raw| values::Username::parse(raw).map(drop));
    parsed("status", &|raw| users::Status::parse(raw).map(drop).ok_or("invalid_choice"));
    parsed("company_id", &|raw| crate::domain::values::parse_company_id(raw).map(drop));
    parsed("limit", &|raw| raw.parse::<usize>().ok().filter(|n| (1..=200).contains(n)).map(drop).ok_or("out_of_range"));
    parsed("after", &|raw| Cursor::parse(raw).map(drop));
    // One identifier at a time: the later ones conflict with the first.
    let identifiers = ["email", "phone", "username"].into_iter().filter(|n| ctx.query_param(n).is_some());
    errors.extend(identifiers.skip(1).map(|name| FieldError::new(name, "conflicting_fields")));
    if !errors.is_empty() {
        return Err(Problem::validation(errors));
    }
    let lookup = match (ctx.query_param("email"), ctx.query_param("phone"), ctx.query_param("username")) {
        (Some(email), ..) => values::EmailAddress::parse(email).ok().map(users::Lookup::Email),
        (None, Some(phone), _) => values::Phone::parse(phone).ok().map(users::Lookup::Phone),
        (None, None, Some(name)) => values::Username::parse(name).ok().map(users::Lookup::Username),
        (None, None, None) => None,
    };
    let search = users::Search {
        lookup,
        status: ctx.query_param("status").and_then(users::Status::parse),
        company_id: ctx.query_param("company_id").and_then(|c| values::parse_company_id(c).ok()),
    };
    let limit = ctx.query_param("limit").and_then(|l| l.parse().ok()).unwrap_or(50);
    let after = ctx.query_param("after").and_then(|raw| Cursor::parse(raw).ok());
    let page = users::search_users(ctx.app, tenant, actor, search, limit, after.as_ref()).await?;
    Ok(json_response(StatusCode::OK, serde_json::to_value(page).unwrap_or_default()))
}

/// `GET /v1/users/{id}/audit?limit=&before=`: one page of the trail, newest
/// first; every query error at once.
pub async fn get_user_audit(ctx: &Ctx<'_>) -> Result<Response<Body>, Problem> {
    let mut errors = Vec::new();
    let limit = match ctx.query_param("limit").map(|raw| raw.parse::<usize>()) {
        None => 50,
        Some(Ok(n)) if (1..=200).contains(&n) => n,
        Some(_) => {
            errors.push(FieldError::new("limit", "out_of_range"));
            50
        }
    };
    let before = match ctx.query_param("before").map(Cursor::parse).transpose() {
        Ok(before) => before,
        Err(code) => {
            errors.push(FieldError::new("before", code));
            None
        }
    };
    if !errors.is_empty() {
        return Err(Problem::validation(errors));
    }
    let page = users::audit_trail(ctx.app, ctx.tenant()?, ctx.actor()?, &user_id(ctx)?, limit, before.as_ref()).await?;
    Ok(json_response(StatusCode::OK, serde_json::to_value(page).unwrap_or_default()))
}
