//! Lazy migration from the system a tenant leaves (the `user_migration`
//! hook, docs/hooks.md): a password sign-in or a forgotten password that
//! names no user asks the old system, and a user it knows is created here
//! as an import is (audited `imported`), with an argon2id hash of the
//! password the old system just accepted, or, for a forgotten password,
//! an invitation to set one. Once created it is a user like any other: the
//! hook is never asked about it again.

use serde_json::{Map, Value};

use super::actor::Actor;
use super::error::Error;
use super::password::Password;
use super::tenant::Tenant;
use super::users::{Consent, Imported, NewUser, Secret, import_user};
use super::values::{EmailAddress, PersonalDetails, Phone, Status, UserType, Username, parse_name};
use crate::app::App;

/// Asks the tenant's `user_migration` hook about `name`, which no user has,
/// and creates the user it answers (`password` given: a sign-in; `None`: a
/// forgotten password, answered with an invitation). Whether a user now
/// has the name: `false` when the old system knows none, or answered one
/// that cannot be created here (logged for the operator).
pub async fn migrate(app: &App, tenant: &Tenant, name: &str, password: Option<&Password>) -> Result<bool, Error> {
    let trigger = if password.is_some() { "sign_in" } else { "forgot_password" };
    let Some(answer) = super::hooks::user_migration(app, tenant, trigger, name, password).await? else {
        return Ok(false);
    };
    let (new, imported) = match read(tenant, &answer, password) {
        Ok(user) => user,
        Err(field) => {
            tracing::warn!(tenant_id = %tenant.id, field, "user_migration hook answered a user that cannot be created");
            return Ok(false);
        }
    };
    let actor = Actor::Admin { token_id: "user_migration".into() };
    match import_user(app, tenant, &actor, new, imported).await {
        Ok(user) => {
            tracing::info!(user_id = %user.id, tenant_id = %tenant.id, "user migrated");
            Ok(true)
        }
        // The same user's first sign-ins at once: one created it.
        Err(Error::EmailTaken | Error::UsernameTaken) => Ok(true),
        Err(err @ Error::Unavailable { .. }) => Err(err),
        Err(err) => {
            tracing::warn!(tenant_id = %tenant.id, error = %err, "migrated user refused");
            Ok(false)
        }
    }
}

/// The user a hook answered, as a creation here: its e-mail (required),
/// phone, username, names and language, which of its credentials the old
/// system verified, and whether its acceptance of the terms and privacy
/// policy stands for the tenant's current ones. The field that is wrong, if one is.
fn read(
    tenant: &Tenant,
    user: &Map<String, Value>,
    password: Option<&Password>,
) -> Result<(NewUser, Imported), &'static str> {
    let text = |key: &str| user.get(key).and_then(Value::as_str).filter(|t| !t.trim().is_empty());
    let flag = |key: &str| user.get(key).and_then(Value::as_bool).unwrap_or(false);
    let email = EmailAddress::parse(text("email").ok_or("email")?).map_err(|_| "email")?;
    let phone = text("phone").map(Phone::parse).transpose().map_err(|_| "phone")?;
    let username = match text("username") {
        Some(name) if tenant.policy.usernames != super::policy::Usernames::Off => {
            Some(Username::parse(name).map_err(|_| "username")?)
        }
        _ => None,
    };
    let name = |key: &'static str| text(key).map(parse_name).transpose().map_err(|_| key);
    let languages = &tenant.policy.languages;
    let language = text("preferred_language")
        .filter(|l| languages.iter().any(|known| known == l))
        .map(str::to_owned)
        .or_else(|| languages.first().cloned())
        .unwrap_or_else(|| "en".into());
    let details = PersonalDetails {
        first_name: name("first_name")?.unwrap_or_default(),
        last_name: name("last_name")?.unwrap_or_default(),
        gender: None,
        birth_date: None,
        language,
        time_zone: None,
    };
    let new = NewUser {
        email,
        username,
        details,
        phone,
        secret: password.map_or(Secret::Invite, |password| Secret::Password(password.clone())),
        user_type: UserType::Consumer,
        roles: Vec::new(),
        company_id: None,
        reset_required: false,
        nationality: None,
        address: None,
        attributes: Map::new(),
        references: Default::default(),
        // The tenant decides whether the old system's acceptances stand for
        // its current documents; without them the sign-in asks for them.
        consent: Consent {
            personal_data_at: None,
            terms: flag("terms_accepted"),
            privacy: flag("privacy_policy_accepted"),
        },
    };
    let imported = Imported {
        status: Status::Active,
        email_verified: flag("email_verified"),
        phone_verified: flag("phone_verified"),
        created_at: None,
    };
    Ok((new, imported))
}
