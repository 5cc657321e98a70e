//! The back office (docs/back-office.md): privileged registration, reading
//! users, status changes and the audit trail.

use std::collections::BTreeMap;

use ::http::HeaderValue;
use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::{Value, json};

use super::reply::{DetailsAnswer, Reply, StatusName, message};
use crate::domain::FieldError;
use crate::domain::credentials::{Lockout, lockout};
use crate::domain::foreign_hash::{self, FirebaseProject};
use crate::domain::ids::UserId;
use crate::domain::paging::Cursor;
use crate::domain::password::Password;
use crate::domain::reference;
use crate::domain::user::{Acceptance, Address};
use crate::domain::users::{self, AuditPage, NewUser, Secret, UserView, UsersPage};
use crate::domain::values::{self, Status, Username};
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

/// What the back office sees of a user (never hashes or codes).
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "User")]
pub struct UserAnswer {
    #[schemars(with = "String")]
    pub user_id: UserId,
    #[schemars(with = "String", extend("enum" = crate::domain::values::UserType::NAMES))]
    pub user_type: crate::domain::values::UserType,
    #[schemars(with = "StatusName")]
    pub status: Status,
    /// `null` for a user that signed up with its phone alone.
    pub email: Option<String>,
    pub email_verified: bool,
    pub phone: Option<String>,
    pub phone_verified: bool,
    #[schemars(with = "Option<String>")]
    pub username: Option<Username>,
    /// Entries of reference kinds, by kind.
    pub references: BTreeMap<String, String>,
    #[serde(flatten)]
    pub details: DetailsAnswer,
    pub nationality: Option<String>,
    pub address: Option<AddressAnswer>,
    pub roles: Vec<String>,
    pub company_id: Option<String>,
    pub partner_id: Option<String>,
    pub reset_required: bool,
    pub mfa_enabled: bool,
    /// The versions of the terms and privacy policy accepted, and when
    /// (`null`: pending).
    pub terms: Option<AcceptanceAnswer>,
    pub privacy: Option<AcceptanceAnswer>,
    pub personal_data_consent_at: Option<DateTime<Utc>>,
    pub attributes: serde_json::Map<String, Value>,
    pub created_by: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The account's lockout (`GET /v1/users/{id}` shows it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lockout: Option<LockoutAnswer>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl UserAnswer {
    fn new(view: UserView, message: Option<String>) -> Self {
        let UserView {
            user_id,
            user_type,
            status,
            email,
            email_verified,
            phone,
            phone_verified,
            username,
            references,
            details,
            nationality,
            address,
            roles,
            company_id,
            partner_id,
            reset_required,
            mfa_enabled,
            terms,
            privacy,
            personal_data_consent_at,
            attributes,
            created_by,
            created_at,
            updated_at,
            lockout,
        } = view;
        Self {
            user_id,
            user_type,
            status,
            email,
            email_verified,
            phone,
            phone_verified,
            username,
            references,
            details: details.into(),
            nationality,
            address: address.map(AddressAnswer::from),
            roles,
            company_id,
            partner_id,
            reset_required,
            mfa_enabled,
            terms: terms.map(AcceptanceAnswer::from),
            privacy: privacy.map(AcceptanceAnswer::from),
            personal_data_consent_at,
            attributes,
            created_by,
            created_at,
            updated_at,
            lockout: lockout.map(LockoutAnswer::from),
            message,
        }
    }
}

/// A postal address.
#[derive(Serialize, JsonSchema)]
pub struct AddressAnswer {
    #[schemars(length(max = 200))]
    pub street: Option<String>,
    #[schemars(length(max = 200))]
    pub street_nr: Option<String>,
    #[schemars(length(max = 200))]
    pub zip: Option<String>,
    #[schemars(length(max = 200))]
    pub city: Option<String>,
    /// ISO 3166-1 alpha-2.
    #[schemars(regex(pattern = r"^[A-Za-z]{2}$"))]
    pub country: Option<String>,
    #[schemars(length(max = 200))]
    pub c_o: Option<String>,
}

impl From<Address> for AddressAnswer {
    fn from(address: Address) -> Self {
        let Address { street, street_nr, zip, city, country, c_o } = address;
        Self { street, street_nr, zip, city, country, c_o }
    }
}

/// A legal document's accepted version, and when.
#[derive(Serialize, JsonSchema)]
pub struct AcceptanceAnswer {
    pub version: String,
    pub accepted_at: DateTime<Utc>,
}

impl From<Acceptance> for AcceptanceAnswer {
    fn from(acceptance: Acceptance) -> Self {
        let Acceptance { version, accepted_at } = acceptance;
        Self { version, accepted_at }
    }
}

/// An account's lockout: the failures counted (0 once forgotten), when the
/// last one was, and until when the account is locked, if it is.
#[derive(Serialize, JsonSchema)]
pub struct LockoutAnswer {
    pub failed_attempts: u64,
    pub last_failure_at: Option<DateTime<Utc>>,
    pub locked_until: Option<DateTime<Utc>>,
}

impl From<Lockout> for LockoutAnswer {
    fn from(lockout: Lockout) -> Self {
        let Lockout { failed_attempts, last_failure_at, locked_until } = lockout;
        Self { failed_attempts, last_failure_at, locked_until }
    }
}

pub async fn create_user(ctx: &Ctx<'_>) -> Result<Reply<UserAnswer>, Problem> {
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
    // Password or invitation: which one was decided (and refused) above.
    let (
        CreateUserBody {
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
        },
        secret,
    ) = CreateUserBody::complete_with(f, read, secret)?;
    let reset_required = reset_required.unwrap_or(false);
    let details = details.details(ctx.lang);
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
    let reply = Reply::created(UserAnswer::new(UserView::from(&user), Some(message(ctx, "user_created"))));
    Ok(match HeaderValue::from_str(&format!("/v1/users/{}", user.id)) {
        Ok(location) => reply.header(::http::header::LOCATION, location),
        Err(_) => reply,
    })
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
            Some(Value::Array(list)) if list.len() <= users::IMPORT_BATCH => {
                // A user that is not an object at all breaks the documented
                // shape and refuses the call; an object whose fields do not
                // match is refused in `results` alone.
                let before = f.errors.len();
                for (index, _) in list.iter().enumerate().filter(|(_, user)| !user.is_object()) {
                    f.errors
                        .push(FieldError::new(format!("{name}.{index}"), "wrong_type").with_text("expected", "object"));
                }
                (f.errors.len() == before).then_some(list)
            }
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
        // Each user is checked on its own, and one that does not match is
        // reported in the answer's `results`, never refusing the call: the
        // array takes any objects (anything else refuses the call); what
        // each should hold is `x-item`.
        json!({
            "type": "array",
            "maxItems": users::IMPORT_BATCH,
            "items": {
                "type": "object",
                "description": "A user as `x-item` describes it (a back-office creation with `password_hash`); one \
                                that does not match is refused in `results`, the others are imported.",
                "x-item": ImportUserBody::schema(),
            },
        })
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

/// What `POST /v1/users/import` answers: how many users were imported,
/// and each one's result in the order given.
#[derive(Serialize, JsonSchema)]
pub struct ImportAnswer {
    pub imported: usize,
    pub results: Vec<ImportResult>,
}

/// One user's result of an import: its id, or why it was refused.
#[derive(Serialize, JsonSchema)]
pub struct ImportResult {
    pub index: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<String>")]
    pub user_id: Option<UserId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ImportError>,
}

/// Why a user of an import was refused: the first field error's code and
/// field, or the problem's code (`field` null).
#[derive(Serialize, JsonSchema)]
pub struct ImportError {
    pub code: String,
    pub field: Option<String>,
}

/// One user's result of an import: its id, or why it was refused.
pub fn import_result(index: usize, result: Result<UserId, crate::domain::Error>) -> ImportResult {
    let error = |code: &str, field: Option<String>| ImportError { code: code.to_owned(), field };
    match result {
        Ok(user_id) => ImportResult { index, user_id: Some(user_id), error: None },
        Err(crate::domain::Error::Validation(errors)) => {
            let first = errors.first();
            let refused = error(first.map_or("validation_failed", |e| e.code), first.map(|e| e.field.clone()));
            ImportResult { index, user_id: None, error: Some(refused) }
        }
        Err(err) => ImportResult { index, user_id: None, error: Some(error(Problem::from(err).code, None)) },
    }
}

pub async fn import_users(ctx: &Ctx<'_>) -> Result<Reply<ImportAnswer>, Problem> {
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
    let results = results.into_iter().enumerate().map(|(i, r)| import_result(i, r)).collect();
    Ok(Reply::ok(ImportAnswer { imported, results }))
}

/// The user of the path (a malformed id is as unknown as any other).
fn user_id(ctx: &Ctx<'_>) -> Result<UserId, Problem> {
    UserId::parse(ctx.param("id")).ok_or_else(|| crate::domain::Error::UserNotFound.into())
}

pub async fn get_user(ctx: &Ctx<'_>) -> Result<Reply<UserAnswer>, Problem> {
    let user = users::get_user(ctx.app, ctx.tenant()?, ctx.actor()?, &user_id(ctx)?).await?;
    let mut view = UserView::from(&user);
    view.lockout = Some(lockout(ctx.app, &user.id).await?);
    Ok(Reply::ok(UserAnswer::new(view, None)))
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

pub async fn update_user(ctx: &Ctx<'_>) -> Result<Reply<UserAnswer>, Problem> {
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
    Ok(Reply::ok(UserAnswer::new(UserView::from(&user), Some(message(ctx, "user_updated")))))
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

/// `POST /v1/users/{id}/unlock`: the lockout that was lifted.
#[derive(Serialize, JsonSchema)]
pub struct Unlocked {
    #[schemars(with = "String")]
    pub user_id: UserId,
    pub previous: LockoutAnswer,
    pub message: String,
}

pub async fn unlock_user(ctx: &Ctx<'_>) -> Result<Reply<Unlocked>, Problem> {
    let (tenant, actor) = (ctx.tenant()?, ctx.actor()?);
    let reason = reason(ctx)?;
    let user_id = user_id(ctx)?;
    let was = users::unlock(ctx.app, tenant, actor, &user_id, &reason).await?;
    Ok(Reply::ok(Unlocked { user_id, previous: was.into(), message: message(ctx, "user_unlocked") }))
}

/// `POST /v1/users/{id}/sessions/revoke`: how many sessions ended.
#[derive(Serialize, JsonSchema)]
pub struct SessionsRevoked {
    #[schemars(with = "String")]
    pub user_id: UserId,
    pub sessions_revoked: usize,
    pub message: String,
}

pub async fn revoke_user_sessions(ctx: &Ctx<'_>) -> Result<Reply<SessionsRevoked>, Problem> {
    let (tenant, actor) = (ctx.tenant()?, ctx.actor()?);
    let reason = reason(ctx)?;
    let user_id = user_id(ctx)?;
    let sessions_revoked = users::revoke_sessions(ctx.app, tenant, actor, &user_id, &reason).await?;
    Ok(Reply::ok(SessionsRevoked { user_id, sessions_revoked, message: message(ctx, "user_sessions_revoked") }))
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

/// `POST /v1/users/{id}/password-reset`: how the password is reset.
#[derive(Serialize, JsonSchema)]
pub struct PasswordResetStarted {
    #[schemars(with = "String")]
    pub user_id: UserId,
    #[schemars(extend("enum" = ResetMethods::CHOICES))]
    pub method: &'static str,
    pub message: String,
}

pub async fn reset_user_password(ctx: &Ctx<'_>) -> Result<Reply<PasswordResetStarted>, Problem> {
    let (tenant, actor) = (ctx.tenant()?, ctx.actor()?);
    let ResetUserPasswordBody { method, reason } = ResetUserPasswordBody::parse(ctx)?;
    let user_id = user_id(ctx)?;
    let (how, text) = match method {
        "email" => (users::ResetMethod::Email, "user_reset_code_sent"),
        _ => (users::ResetMethod::Required, "user_reset_required"),
    };
    users::reset_password(ctx.app, tenant, actor, &user_id, how, &reason).await?;
    Ok(Reply::ok(PasswordResetStarted { user_id, method, message: message(ctx, text) }))
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

/// `POST /v1/users/{id}/status`: the status now, and before.
#[derive(Serialize, JsonSchema)]
pub struct StatusChanged {
    #[schemars(with = "String")]
    pub user_id: UserId,
    #[schemars(with = "StatusName")]
    pub status: Status,
    #[schemars(with = "StatusName")]
    pub previous_status: Status,
    pub message: String,
}

pub async fn change_user_status(ctx: &Ctx<'_>) -> Result<Reply<StatusChanged>, Problem> {
    let tenant = ctx.tenant()?;
    let actor = ctx.actor()?;
    let ChangeUserStatusBody { status, reason } = ChangeUserStatusBody::parse(ctx)?;
    let user_id = user_id(ctx)?;
    let previous_status = users::change_status(ctx.app, tenant, actor, &user_id, status, &reason).await?;
    Ok(Reply::ok(StatusChanged { user_id, status, previous_status, message: message(ctx, "status_changed") }))
}

/// `GET /v1/users?email=|phone=|username=|status=|company_id=&limit=&after=`: exact
/// matches, combined; every query error at once.
/// `GET /v1/users`: a page of the users found.
#[derive(Serialize, JsonSchema)]
pub struct UserPage {
    pub users: Vec<UserAnswer>,
    /// Pass as `after` for the next page; `null` on the last page.
    pub next: Option<String>,
}

pub async fn list_users(ctx: &Ctx<'_>) -> Result<Reply<UserPage>, Problem> {
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
    let UsersPage { users, next } = users::search_users(ctx.app, tenant, actor, search, limit, after.as_ref()).await?;
    let users = users.into_iter().map(|user| UserAnswer::new(user, None)).collect();
    Ok(Reply::ok(UserPage { users, next }))
}

/// `GET /v1/users/{id}/audit`: a page of the user's audit trail, newest
/// first.
#[derive(Serialize, JsonSchema)]
pub struct AuditAnswer {
    pub user_id: String,
    pub events: Vec<AuditEvent>,
    /// Pass as `before` for the next page; `null` on the last page.
    pub next: Option<String>,
}

/// One event of the trail.
#[derive(Serialize, JsonSchema)]
pub struct AuditEvent {
    pub event: String,
    pub at: DateTime<Utc>,
    #[schemars(extend("type" = "object"))]
    pub detail: Value,
}

/// `GET /v1/users/{id}/audit?limit=&before=`: one page of the trail, newest
/// first; every query error at once.
pub async fn get_user_audit(ctx: &Ctx<'_>) -> Result<Reply<AuditAnswer>, Problem> {
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
    let AuditPage { user_id, events, next } =
        users::audit_trail(ctx.app, ctx.tenant()?, ctx.actor()?, &user_id(ctx)?, limit, before.as_ref()).await?;
    // The stored entry's fields, each named: what the trail shows of it.
    let events =
        events.into_iter().map(|entry| AuditEvent { event: entry.event, at: entry.at, detail: entry.detail }).collect();
    Ok(Reply::ok(AuditAnswer { user_id, events, next }))
}
