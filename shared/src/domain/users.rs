//! Privileged registration and the account lifecycle (docs/back-office.md):
//! who may create, read and change whom; status moves with their audit trail.

use chrono::Duration;
use serde::Serialize;

use super::account::{close_writes, save_user};
pub use super::actor::Actor;
use super::codes::{PendingCode, draw_code, hash_code};
use super::credentials::{Lockout, lockout};
use super::error::Error;
use super::events::{EventType, user_event, user_summary};
use super::paging::Cursor;
use super::password::{Password, hash_password};
use super::policy::RoleRule;
use super::reset_codes::{INVITATION_TTL_HOURS, send_reset_code};
use super::tenant::Tenant;
use super::user::{Acceptance, Address, User, audit_write, load_user, lock_write, sweep_sessions, user_by_lock};
pub use super::values::Status;
use super::values::{EmailAddress, PersonalDetails, Phone, UserType, Username};
use crate::app::App;
use crate::domain::ids::UserId;
use crate::i18n::{Arg, text};
use crate::ports::{Condition, Email, Item, Write};
use crate::table::{self, AuditEntry, Failed, Kind, Record, ResetRecord, audit_of, email_lock_key};

/// The JSON Schema pattern of [`UserType::parse`]'s spellings: each letter
/// in either case.
pub fn user_type_pattern() -> String {
    let either = |word: &str| -> String {
        word.chars()
            .map(|c| if c.is_ascii_alphabetic() { format!("[{}{}]", c, c.to_ascii_uppercase()) } else { c.to_string() })
            .collect()
    };
    let words: Vec<String> = UserType::ALL.iter().map(|t| t.as_str()).chain(["subscriber"]).map(either).collect();
    format!("^(?:{})$", words.join("|"))
}

/// The catalogue's rule for `role`: its exact name, or else the one name
/// that differs only in case (a seed's `ADMIN` for `admin`); `None` when
/// unknown or ambiguous. The user keeps the spelling given.
fn role_rule<'a>(catalogue: &'a [RoleRule], role: &str) -> Option<&'a RoleRule> {
    catalogue.iter().find(|r| r.name == role).or_else(|| {
        let mut folded = catalogue.iter().filter(|r| r.name.eq_ignore_ascii_case(role));
        folded.next().filter(|_| folded.next().is_none())
    })
}

impl Actor {
    /// The kind of grantor a role rule names: `admin` or the user type.
    fn kind(&self) -> &str {
        match self {
            Actor::Admin { .. } => "admin",
            Actor::User { user_type, .. } => user_type.as_str(),
        }
    }

    /// Who, for the audit trail and logs (`admin:<token id>` or the user id).
    pub fn label(&self) -> String {
        match self {
            Actor::Admin { token_id } => format!("admin:{token_id}"),
            Actor::User { user_id, .. } => user_id.clone(),
        }
    }

    /// Whether this actor may read, audit and change the status of a user
    /// of `user_type` in `company_id` (the back office's reach): admin and service
    /// owners → anyone of the tenant (self-registered consumers included);
    /// company_user → company users and consumers of its own company only;
    /// consumer → nobody.
    pub fn may_reach(&self, user_type: UserType, company_id: Option<&str>) -> bool {
        match self {
            Actor::Admin { .. } => true,
            Actor::User { user_type: own, company_id: own_company, .. } => match own {
                UserType::ServiceOwner => true,
                UserType::CompanyUser => {
                    own_company.is_some()
                        && own_company.as_deref() == company_id
                        && matches!(user_type, UserType::CompanyUser | UserType::Consumer)
                }
                UserType::Consumer => false,
            },
        }
    }

    /// Whether this actor may create a user of `user_type` in `company_id`:
    /// admin → anyone; service_owner → service_owner, company_user;
    /// company_user → company_user and consumers of its own company only;
    /// consumer → nobody.
    pub fn may_manage(&self, user_type: UserType, company_id: Option<&str>) -> bool {
        match self {
            Actor::Admin { .. } => true,
            Actor::User { user_type: own, company_id: own_company, .. } => match own {
                UserType::ServiceOwner => matches!(user_type, UserType::ServiceOwner | UserType::CompanyUser),
                UserType::CompanyUser => {
                    let same_company = own_company.is_some() && own_company.as_deref() == company_id;
                    match user_type {
                        // Only its company's consumers: a self-registered
                        // consumer (no company) is out of its reach.
                        UserType::CompanyUser | UserType::Consumer => same_company,
                        UserType::ServiceOwner => false,
                    }
                }
                UserType::Consumer => false,
            },
        }
    }
}

/// How the new user gets a password.
#[derive(Clone, Debug)]
pub enum Secret {
    Password(Password),
    /// An invitation: a code is e-mailed, with which the user sets a password.
    Invite,
    /// An imported hash, in its stored form (`foreign_hash::import`).
    Hash(String),
}

/// What an import brings besides a creation's fields (SPEC §12).
#[derive(Clone, Debug)]
pub struct Imported {
    pub status: Status,
    pub email_verified: bool,
    pub phone_verified: bool,
    /// When the old system created the user (default: now).
    pub created_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// A user to create, parsed at the edge.
#[derive(Clone, Debug)]
pub struct NewUser {
    pub email: EmailAddress,
    pub username: Option<Username>,
    pub details: PersonalDetails,
    pub phone: Option<Phone>,
    pub secret: Secret,
    pub user_type: UserType,
    pub roles: Vec<String>,
    pub company_id: Option<String>,
    pub reset_required: bool,
    pub nationality: Option<String>,
    pub address: Option<Address>,
    pub attributes: serde_json::Map<String, serde_json::Value>,
    pub references: std::collections::BTreeMap<String, String>,
    pub consent: Consent,
}

/// What the back office records of a new user's consent: when the user
/// consented to the processing of personal data, and whether it accepted
/// the tenant's current terms and privacy policy (at that time, or now).
/// A document not accepted stays pending (`null` in the user).
#[derive(Clone, Debug, Default)]
pub struct Consent {
    pub personal_data_at: Option<chrono::DateTime<chrono::Utc>>,
    pub terms: bool,
    pub privacy: bool,
}

/// What privileged callers see of a user (never hashes or codes).
#[derive(Clone, Debug, Serialize)]
pub struct UserView {
    pub user_id: UserId,
    pub user_type: UserType,
    pub status: Status,
    /// `null` for a user that signed up with its phone alone.
    pub email: Option<String>,
    pub email_verified: bool,
    pub phone: Option<String>,
    pub phone_verified: bool,
    pub username: Option<Username>,
    pub references: std::collections::BTreeMap<String, String>,
    #[serde(flatten, serialize_with = "PersonalDetails::serialize_wire")]
    pub details: PersonalDetails,
    pub nationality: Option<String>,
    pub address: Option<Address>,
    pub roles: Vec<String>,
    pub company_id: Option<String>,
    pub partner_id: Option<String>,
    pub reset_required: bool,
    pub mfa_enabled: bool,
    /// The versions of the terms and privacy policy accepted, and when
    /// (`null`: pending).
    pub terms: Option<Acceptance>,
    pub privacy: Option<Acceptance>,
    pub personal_data_consent_at: Option<chrono::DateTime<chrono::Utc>>,
    pub attributes: serde_json::Map<String, serde_json::Value>,
    pub created_by: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
    /// The account's lockout (read where it is shown: `GET /v1/users/{id}`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lockout: Option<Lockout>,
}

impl From<&User> for UserView {
    fn from(u: &User) -> Self {
        UserView {
            user_id: u.id.clone(),
            user_type: u.user_type,
            status: u.status,
            email: u.email.as_ref().map(ToString::to_string),
            email_verified: u.email_verified_at.is_some(),
            phone: u.phone.clone(),
            phone_verified: u.phone_verified_at.is_some(),
            username: u.username.clone(),
            references: u.references.clone(),
            details: u.details.clone(),
            nationality: u.nationality.clone(),
            address: u.address.clone(),
            roles: u.roles.clone(),
            company_id: u.company_id.clone(),
            partner_id: u.partner_id.clone(),
            reset_required: u.reset_required,
            mfa_enabled: u.mfa_enabled(),
            terms: u.terms.clone(),
            privacy: u.privacy.clone(),
            personal_data_consent_at: u.personal_data_consent_at,
            attributes: u.attributes.clone(),
            created_by: u.created_by.clone(),
            created_at: u.created_at,
            updated_at: u.updated_at,
            lockout: None,
        }
    }
}

/// Creates a user as `actor` may; 409 `email_taken` when the address is in use.
pub async fn create_user(
    app: &App,
    tenant: &Tenant,
    actor: &Actor,
    new: NewUser,
    partner_id: Option<String>,
) -> Result<User, Error> {
    create(app, tenant, actor, new, partner_id, None).await
}

/// Imports one user of another system as `actor` may (with the same rules,
/// locks and indexes as a creation; audited as `imported`): its hash
/// (`Secret::Hash`), status, verified credentials and creation time as
/// given. `email_taken` when the address is in use.
pub async fn import_user(
    app: &App,
    tenant: &Tenant,
    actor: &Actor,
    new: NewUser,
    imported: Imported,
) -> Result<User, Error> {
    if imported.status == Status::Closed {
        return Err(Error::field("status", "invalid_choice"));
    }
    create(app, tenant, actor, new, None, Some(imported)).await
}

/// One user as `registrar-admin user export` writes it: the fields an
/// import reads (its hash in the stored form, PHC or foreign), and, under
/// `exported`, what is kept for the record only (the old id, the versions
/// of the documents accepted, the second factors' public parts); never a
/// TOTP secret or a recovery code. An invitee's line has no hash.
pub fn export_line(user: &User) -> serde_json::Value {
    let view = UserView::from(user);
    let mut line = serde_json::to_value(&view).unwrap_or_default();
    if let Some(object) = line.as_object_mut() {
        for field in ["user_id", "partner_id", "mfa_enabled", "terms", "privacy", "created_by", "updated_at", "lockout"]
        {
            object.remove(field);
        }
        // An invitee has set no password yet: its line has none, and an
        // import refuses it as `required`, never as a malformed hash.
        if !user.password_hash.is_empty() {
            object.insert("password_hash".into(), user.password_hash.clone().into());
        }
        object.insert("terms_accepted".into(), user.terms.is_some().into());
        object.insert("privacy_policy_accepted".into(), user.privacy.is_some().into());
        object.retain(|_, value| !value.is_null());
        object.insert(
            "exported".into(),
            serde_json::json!({
                "user_id": user.id,
                "terms": user.terms,
                "privacy": user.privacy,
                "authenticator_app": user.totp.is_some(),
                "recovery_codes_left": user.recovery_codes.len(),
                "passkeys": user.passkeys,
                "updated_at": user.updated_at,
            }),
        );
    }
    line
}

/// Users an import call takes at most.
pub const IMPORT_BATCH: usize = 100;

/// Imports a batch, each user on its own: one refused never fails the
/// others. The results are in the batch's order.
pub async fn import_users(
    app: &App,
    tenant: &Tenant,
    actor: &Actor,
    batch: Vec<Result<(NewUser, Imported), Error>>,
) -> Vec<Result<UserId, Error>> {
    let mut results = Vec::with_capacity(batch.len());
    for entry in batch {
        results.push(match entry {
            Ok((new, imported)) => import_user(app, tenant, actor, new, imported).await.map(|user| user.id),
            Err(err) => Err(err),
        });
    }
    results
}

async fn create(
    app: &App,
    tenant: &Tenant,
    actor: &Actor,
    mut new: NewUser,
    partner_id: Option<String>,
    imported: Option<Imported>,
) -> Result<User, Error> {
    // A company user's creations belong to its company.
    if let Actor::User { user_type, company_id: Some(own), .. } = actor
        && *user_type == UserType::CompanyUser
        && new.company_id.is_none()
    {
        new.company_id = Some(own.clone());
    }
    if new.user_type == UserType::CompanyUser && new.company_id.is_none() {
        return Err(Error::field("company_id", "required"));
    }
    tenant.policy.usernames.check(new.username.as_ref())?;
    let references = check_references(app, tenant, std::mem::take(&mut new.references))?;
    if !actor.may_manage(new.user_type, new.company_id.as_deref()) {
        return Err(Error::Forbidden);
    }
    // Roles come from the tenant's catalogue, each grantable by some kinds
    // of actor only.
    let rules: Vec<_> = new.roles.iter().map(|role| role_rule(&tenant.policy.roles, role)).collect();
    if rules.iter().any(Option::is_none) {
        return Err(Error::field("roles", "unknown_role"));
    }
    if rules.iter().flatten().any(|rule| !rule.granted_by.iter().any(|g| g == actor.kind())) {
        return Err(Error::Forbidden);
    }
    // A creation passes the tenant's `pre_sign_up` hook, its attributes
    // joining the caller's (the hook's win a clash); an import does not: its
    // users signed up with the system they leave.
    if imported.is_none() {
        let who = super::hooks::Applicant {
            email: Some(&new.email),
            phone: new.phone.as_ref(),
            username: new.username.as_ref(),
            details: &new.details,
        };
        let added = super::hooks::pre_sign_up(app, tenant, "back_office", who).await?;
        new.attributes.extend(added);
    }
    let now = app.clock.now();
    // Recorded now: the versions are the tenant's current ones, which may be
    // newer than a consent given earlier.
    let accepted = |yes: bool, version: &str| yes.then(|| Acceptance { version: version.to_owned(), accepted_at: now });
    let (password_hash, status) = match &new.secret {
        Secret::Password(password) => (hash_password(password, app.random.as_ref()).await?, Status::Active),
        Secret::Invite => (String::new(), Status::Created),
        Secret::Hash(hash) => (hash.clone(), imported.as_ref().map_or(Status::Active, |i| i.status)),
    };
    let created_at = imported.as_ref().and_then(|i| i.created_at).unwrap_or(now);
    let verified = |yes: bool| yes.then_some(created_at);
    let user = User {
        id: UserId::from_new(app.new_id("usr")),
        tenant_id: tenant.id.clone(),
        user_type: new.user_type,
        status,
        email: Some(new.email.clone()),
        email_verified_at: imported.as_ref().and_then(|i| verified(i.email_verified)),
        phone: new.phone.as_ref().map(|p| p.as_str().to_owned()),
        phone_verified_at: imported.as_ref().and_then(|i| verified(i.phone_verified && new.phone.is_some())),
        username: new.username,
        password_hash,
        details: new.details,
        roles: new.roles,
        terms: accepted(new.consent.terms, &tenant.policy.terms_version),
        privacy: accepted(new.consent.privacy, &tenant.policy.privacy_version),
        personal_data_consent_at: new.consent.personal_data_at,
        registration_id: None,
        created_at,
        updated_at: now,
        reset_required: new.reset_required,
        pending_credential: None,
        company_id: new.company_id,
        partner_id,
        nationality: new.nationality,
        address: new.address,
        attributes: new.attributes,
        references,
        created_by: Some(actor.label()),
        session_epoch: 0,
        session_survivor: None,
        totp: None,
        recovery_codes: Vec::new(),
        passkeys: 0,
    };
    let mut writes = vec![
        user.put(Condition::NotExists)?,
        lock_write(email_lock_key(&tenant.id, new.email.as_str()), &user.id)?,
        audit_write(
            app,
            &user.id,
            if imported.is_some() { "imported" } else { "created" },
            serde_json::json!({ "by": actor.label(), "status": status }),
        )?,
        {
            let mut data = user_summary(&user);
            data["source"] = serde_json::json!(if imported.is_some() { "import" } else { "back_office" });
            user_event(app, &user, EventType::UserCreated, Some(actor), data)?
        },
    ];
    writes.extend(table::user_index_writes(None, &user)?);
    let invitation = if matches!(new.secret, Secret::Invite) {
        let code = draw_code(app.random.as_ref(), tenant.policy.codes.length, app.sandbox_code(tenant));
        let hash = hash_code(app.settings.code_key()?, "password-reset", &user.id, &code);
        let expires = now + Duration::hours(INVITATION_TTL_HOURS);
        let record = ResetRecord { user_id: user.id.to_string(), code: PendingCode::issue(app, hash, expires) };
        let subject = super::limits::destination(app, &tenant.id, new.email.as_str())?;
        writes.push(record.put(&subject, Condition::Always)?);
        Some(code)
    } else {
        None
    };
    writes.extend(table::username_lock_writes(None, &user)?);
    match table::commit(app.store.as_ref(), writes).await {
        Ok(()) => {}
        Err(Failed::Condition(Kind::EmailLock)) => return Err(Error::EmailTaken),
        Err(Failed::Condition(Kind::UsernameLock)) => return Err(Error::UsernameTaken),
        Err(err) => return Err(err.into()),
    }
    if let Some(code) = invitation {
        let lang = user.details.language.as_str();
        let mail = Email {
            to: new.email.to_string(),
            subject: text(lang, "email-invite-subject", &[]),
            text: text(
                lang,
                "email-invite-text",
                &[
                    ("name", Arg::Str(&user.details.first_name)),
                    ("code", Arg::Str(&code)),
                    ("hours", Arg::Num(INVITATION_TTL_HOURS)),
                ],
            ),
            language: lang.to_owned(),
        };
        // The user exists either way; a failed invitation is sent again with
        // `POST /v1/auth/password/forgot`.
        app.mailer.send_email(&mail).await?;
    }
    tracing::info!(user_id = %user.id, by = %actor.label(), "user created");
    Ok(user)
}

/// A user of the tenant within the actor's scope.
async fn scoped_user(app: &App, tenant: &Tenant, actor: &Actor, id: &UserId) -> Result<(User, u64), Error> {
    let (user, version) = load_user(app, id).await?.ok_or(Error::UserNotFound)?;
    if user.tenant_id != tenant.id {
        return Err(Error::UserNotFound);
    }
    if !actor.may_reach(user.user_type, user.company_id.as_deref()) {
        return Err(Error::Forbidden);
    }
    Ok((user, version))
}

/// A user found by one of its exact identifiers.
#[derive(Clone, Debug)]
pub enum Lookup {
    Email(EmailAddress),
    Phone(Phone),
    Username(Username),
}

/// The user of the tenant with that e-mail address or phone, if any and
/// within the actor's reach (one outside it is `Forbidden`).
pub async fn find_user(app: &App, tenant: &Tenant, actor: &Actor, by: &Lookup) -> Result<Option<User>, Error> {
    let lock = match by {
        Lookup::Email(email) => email_lock_key(&tenant.id, email.as_str()),
        Lookup::Phone(phone) => table::phone_lock_key(&tenant.id, phone.as_str()),
        Lookup::Username(name) => table::username_lock_key(&tenant.id, name),
    };
    let Some((user, _)) = user_by_lock(app, &lock).await? else {
        return Ok(None);
    };
    if user.tenant_id != tenant.id {
        return Ok(None);
    }
    if !actor.may_reach(user.user_type, user.company_id.as_deref()) {
        return Err(Error::Forbidden);
    }
    Ok(Some(user))
}

/// What the back office searches users by: exact values, combined with AND.
#[derive(Clone, Debug, Default)]
pub struct Search {
    pub lookup: Option<Lookup>,
    pub status: Option<Status>,
    pub company_id: Option<String>,
}

/// A page of users found.
#[derive(Clone, Debug, Serialize)]
pub struct UsersPage {
    pub users: Vec<UserView>,
    /// Pass as `after` for the next page; absent on the last page.
    pub next: Option<String>,
}

/// The users of the tenant that match `search` and are within the actor's
/// reach, in the order they were created, one page of the store's index at
/// a time (`limit` entries after the cursor `after`). A company user
/// searches its own company only.
pub async fn search_users(
    app: &App,
    tenant: &Tenant,
    actor: &Actor,
    search: Search,
    limit: usize,
    after: Option<&Cursor>,
) -> Result<UsersPage, Error> {
    let mut search = search;
    if let Actor::User { user_type, company_id, .. } = actor {
        match (user_type, &search.company_id, company_id) {
            (UserType::ServiceOwner, ..) => {}
            (UserType::CompanyUser, Some(asked), Some(own)) if asked != own => return Err(Error::Forbidden),
            (UserType::CompanyUser, _, Some(own)) => search.company_id = Some(own.clone()),
            // A consumer (or a company user without a company) reaches nobody.
            _ => return Err(Error::Forbidden),
        }
    }
    let matches = |user: &User| {
        search.status.is_none_or(|s| user.status == s)
            && search.company_id.as_ref().is_none_or(|c| user.company_id.as_ref() == Some(c))
            && actor.may_reach(user.user_type, user.company_id.as_deref())
    };
    if let Some(by @ (Lookup::Email(_) | Lookup::Username(_))) = &search.lookup {
        let found = match find_user(app, tenant, actor, by).await {
            Ok(found) => found,
            Err(Error::Forbidden) => None,
            Err(other) => return Err(other),
        };
        let users = found.filter(|u| matches(u)).map(|u| UserView::from(&u)).into_iter().collect();
        return Ok(UsersPage { users, next: None });
    }
    // The narrowest index: a phone's users, a company's, a status's (the
    // last two in shards, read as one partition).
    let (partitions, prefix) = match (&search.lookup, &search.company_id, search.status) {
        (Some(Lookup::Phone(phone)), _, _) => table::users_by(&tenant.id, table::UserIndex::Phone, phone.as_str()),
        (_, Some(company), _) => table::users_by(&tenant.id, table::UserIndex::Company, company),
        (_, None, Some(status)) => table::users_by(&tenant.id, table::UserIndex::Status, status.as_str()),
        (_, None, None) => return Err(Error::field("status", "filter_required")),
    };
    let after = after.map(|cursor| cursor.start_after(prefix, "after")).transpose()?;
    // One page of the index: those out of the search (or of the actor's
    // reach) are left out, so a page may hold fewer users than `limit`,
    // and `next` leads on while the index goes on.
    let page = super::paging::query_merged(app.store.as_ref(), &partitions, prefix, after, limit).await?;
    let entries: Vec<table::UserIndexEntry> = page.items.into_iter().map(table::decode).collect::<Result<_, _>>()?;
    let mut users = Vec::new();
    // BatchGetItem takes at most 100 keys.
    for batch in entries.chunks(100) {
        let keys: Vec<_> = batch.iter().map(|e| table::user_key(&e.user_id)).collect();
        for item in app.store.get_many(&keys).await?.into_iter().flatten() {
            let user: User = table::decode(item)?;
            if user.tenant_id == tenant.id && matches(&user) {
                users.push(UserView::from(&user));
            }
        }
    }
    let next = page.last_evaluated.as_deref().map(Cursor::encode);
    Ok(UsersPage { users, next })
}

/// Reads a user.
pub async fn get_user(app: &App, tenant: &Tenant, actor: &Actor, id: &UserId) -> Result<User, Error> {
    Ok(scoped_user(app, tenant, actor, id).await?.0)
}

/// Moves a user to `to` for `reason`; returns the previous status.
pub async fn change_status(
    app: &App,
    tenant: &Tenant,
    actor: &Actor,
    id: &UserId,
    to: Status,
    reason: &str,
) -> Result<Status, Error> {
    let (mut user, version) = scoped_user(app, tenant, actor, id).await?;
    let from = user.status;
    if !from.allowed_moves().contains(&to) {
        return Err(Error::InvalidStatusChange {
            from: from.as_str(),
            allowed: from.allowed_moves().iter().map(|s| s.as_str()).collect(),
        });
    }
    let detail = serde_json::json!({ "from": from.as_str(), "to": to.as_str(), "reason": reason, "by": actor.label() });
    let writes = if to == Status::Closed {
        // The provider identities go with the account (their locks free).
        let identities = super::federation::identities::removal_writes(app, id, &user.tenant_id).await?;
        let mut writes = close_writes(app, user, version, reason, Some(actor))?;
        writes.extend(identities);
        // close_writes logs the change; add who did it.
        writes.push(audit_write(app, id, "closed_by", serde_json::json!({ "by": actor.label() }))?);
        writes
    } else {
        let before = user.clone();
        user.status = to;
        user.updated_at = app.clock.now();
        if matches!(to, Status::Suspended | Status::Disabled) {
            // Ended for good: a later reactivation does not revive them.
            user.end_sessions(None);
        }
        let data = serde_json::json!({ "from": from.as_str(), "to": to.as_str(), "reason": reason });
        let mut writes = vec![
            user.put(Condition::Version(version))?,
            audit_write(app, id, "status_changed", detail)?,
            user_event(app, &user, EventType::UserStatusChanged, Some(actor), data)?,
        ];
        writes.extend(table::user_index_writes(Some(&before), &user)?);
        writes
    };
    table::commit(app.store.as_ref(), writes).await?;
    if matches!(to, Status::Suspended | Status::Disabled | Status::Closed) {
        // Refused at once (bearer and refresh check the status); the items go.
        if let Ok(Some((user, _))) = load_user(app, id).await {
            sweep_sessions(app, &user).await;
        }
    }
    if to == Status::Closed {
        super::passkeys::sweep(app, id).await;
    }
    Ok(from)
}

/// The back office's changes to a user: `None` leaves a field as it is,
/// `Some(None)` clears an optional one.
#[derive(Clone, Debug, Default)]
pub struct UserChanges {
    pub profile: super::account::ProfileChanges,
    /// The roles the user has afterwards.
    pub roles: Option<Vec<String>>,
    pub company_id: Option<Option<String>>,
    pub nationality: Option<Option<String>>,
    pub address: Option<Option<Address>>,
    pub attributes: Option<serde_json::Map<String, serde_json::Value>>,
    pub references: Option<std::collections::BTreeMap<String, String>>,
}

/// `references` with each code as its kind spells it, or the field errors of
/// those that name no entry of the tenant (`references.<kind>`).
pub fn check_references(
    app: &App,
    tenant: &Tenant,
    references: std::collections::BTreeMap<String, String>,
) -> Result<std::collections::BTreeMap<String, String>, Error> {
    let now = app.clock.now();
    let mut checked = std::collections::BTreeMap::new();
    let mut errors = Vec::new();
    for (kind, code) in references {
        match super::reference::entry(&kind, &code, "en", tenant, now) {
            Some(entry) => {
                checked.insert(kind, entry.code);
            }
            None => errors.push(super::FieldError::new(format!("references.{kind}"), "unknown_reference")),
        }
    }
    if errors.is_empty() { Ok(checked) } else { Err(Error::Validation(errors)) }
}

/// Edits a user within the actor's reach: each role added or removed must
/// be one the actor may grant; a new company must be one the actor may
/// manage (a company user keeps its users in its company). A closed user
/// has nothing left to edit. Audited with the names of the fields changed.
pub async fn update_user(
    app: &App,
    tenant: &Tenant,
    actor: &Actor,
    id: &UserId,
    changes: UserChanges,
) -> Result<User, Error> {
    let (mut user, version) = scoped_user(app, tenant, actor, id).await?;
    if user.status == Status::Closed {
        return Err(Error::AccountInactive);
    }
    let before = user.clone();
    let mut changed = changes.profile.names();
    if let Some(roles) = changes.roles {
        let mut roles = roles;
        roles.sort();
        roles.dedup();
        let moved =
            roles.iter().filter(|r| !user.roles.contains(r)).chain(user.roles.iter().filter(|r| !roles.contains(r)));
        for role in moved {
            let rule = role_rule(&tenant.policy.roles, role).ok_or_else(|| Error::field("roles", "unknown_role"))?;
            if !rule.granted_by.iter().any(|g| g == actor.kind()) {
                return Err(Error::Forbidden);
            }
        }
        user.roles = roles;
        changed.push("roles");
    }
    if let Some(company_id) = changes.company_id {
        if user.user_type == UserType::CompanyUser && company_id.is_none() {
            return Err(Error::field("company_id", "required"));
        }
        if !actor.may_manage(user.user_type, company_id.as_deref()) && company_id != user.company_id {
            return Err(Error::Forbidden);
        }
        user.company_id = company_id;
        changed.push("company_id");
    }
    if let Some(nationality) = changes.nationality {
        user.nationality = nationality;
        changed.push("nationality");
    }
    if let Some(address) = changes.address {
        user.address = address;
        changed.push("address");
    }
    if let Some(attributes) = changes.attributes {
        user.attributes = attributes;
        changed.push("attributes");
    }
    if let Some(references) = changes.references {
        user.references = check_references(app, tenant, references)?;
        changed.push("references");
    }
    changes.profile.apply(tenant, &mut user)?;
    if user == before {
        return Ok(user);
    }
    user.updated_at = app.clock.now();
    let detail = serde_json::json!({ "fields": changed, "by": actor.label() });
    let mut writes = vec![user.put(Condition::Version(version))?];
    if user.roles != before.roles {
        let data = serde_json::json!({ "from": before.roles, "to": user.roles });
        writes.push(user_event(app, &user, EventType::RolesChanged, Some(actor), data)?);
    }
    let fields: Vec<&str> = changed.iter().copied().filter(|field| *field != "roles").collect();
    if !fields.is_empty() {
        let data = serde_json::json!({ "fields": fields });
        writes.push(user_event(app, &user, EventType::UserUpdated, Some(actor), data)?);
    }
    writes.push(audit_write(app, id, "profile_changed", detail)?);
    save_user(app, &before, &user, writes).await?;
    Ok(user)
}

/// Ends the lockout of a user's account (the failures counted toward it are
/// forgotten); returns what it was.
pub async fn unlock(app: &App, tenant: &Tenant, actor: &Actor, id: &UserId, reason: &str) -> Result<Lockout, Error> {
    scoped_user(app, tenant, actor, id).await?;
    let was = lockout(app, id).await?;
    let detail = serde_json::json!({
        "reason": reason, "by": actor.label(), "failed_attempts": was.failed_attempts, "locked_until": was.locked_until,
    });
    let writes = vec![
        Write::Delete { key: table::account_failures_key(id), condition: Condition::Always },
        audit_write(app, id, "unlocked", detail)?,
    ];
    table::commit(app.store.as_ref(), writes).await?;
    Ok(was)
}

/// Ends every session of a user (access tokens stop working at once,
/// refresh tokens and devices' tokens too); returns how many were open.
pub async fn revoke_sessions(
    app: &App,
    tenant: &Tenant,
    actor: &Actor,
    id: &UserId,
    reason: &str,
) -> Result<usize, Error> {
    let (mut user, version) = scoped_user(app, tenant, actor, id).await?;
    user.end_sessions(None);
    user.updated_at = app.clock.now();
    let detail = serde_json::json!({ "reason": reason, "by": actor.label() });
    let writes = vec![
        user.put(Condition::Version(version))?,
        audit_write(app, id, "sessions_revoked", detail)?,
        user_event(app, &user, EventType::SessionsRevoked, Some(actor), serde_json::json!({ "reason": reason }))?,
    ];
    table::commit(app.store.as_ref(), writes).await?;
    Ok(sweep_sessions(app, &user).await)
}

/// How the back office helps a user to a new password.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResetMethod {
    /// E-mail a reset code (an invited user gets the invitation again).
    Email,
    /// Require a new password at the next login (`password_change_required`).
    Required,
}

/// Starts a password reset for a user; audited either way.
pub async fn reset_password(
    app: &App,
    tenant: &Tenant,
    actor: &Actor,
    id: &UserId,
    method: ResetMethod,
    reason: &str,
) -> Result<(), Error> {
    let (mut user, version) = scoped_user(app, tenant, actor, id).await?;
    if !(user.is_active() || (method == ResetMethod::Email && user.status == Status::Created)) {
        return Err(Error::AccountInactive);
    }
    let method_name = if method == ResetMethod::Email { "email" } else { "required" };
    let detail = serde_json::json!({ "method": method_name, "reason": reason, "by": actor.label() });
    match method {
        ResetMethod::Email => {
            send_reset_code(app, tenant, &user).await?;
            table::commit(app.store.as_ref(), vec![audit_write(app, id, "password_reset_sent", detail)?]).await?;
        }
        ResetMethod::Required => {
            // The old password stops working now: every session and every
            // login step under way (a pending 2FA challenge) ends too.
            user.end_sessions(None);
            user.reset_required = true;
            user.updated_at = app.clock.now();
            let writes = vec![user.put(Condition::Version(version))?, audit_write(app, id, "reset_required", detail)?];
            table::commit(app.store.as_ref(), writes).await?;
        }
    }
    Ok(())
}

/// A page of a user's audit trail, newest first.
#[derive(Clone, Debug, Serialize)]
pub struct AuditPage {
    pub user_id: String,
    pub events: Vec<AuditEntry>,
    /// Pass as `before` for the next page; absent on the last page.
    pub next: Option<String>,
}

/// The audit trail of a user: status changes and security events, newest
/// first, one page of the store's query at a time (at most `limit` events
/// before the cursor `before`): every event is reachable, however long the
/// trail. A page may hold fewer events while `next` says more may follow.
pub async fn audit_trail(
    app: &App,
    tenant: &Tenant,
    actor: &Actor,
    id: &UserId,
    limit: usize,
    before: Option<&Cursor>,
) -> Result<AuditPage, Error> {
    scoped_user(app, tenant, actor, id).await?;
    let (pk, prefix) = audit_of(id);
    let before = before.map(|cursor| cursor.start_after(prefix, "before")).transpose()?;
    let page = app.store.query(&pk, prefix, true, before, limit).await?;
    let events = page.items.into_iter().map(table::decode).collect::<Result<_, _>>()?;
    let next = page.last_evaluated.as_deref().map(Cursor::encode);
    Ok(AuditPage { user_id: id.to_string(), events, next })
}

/// Decodes a stored user (for the CLI and tests).
pub fn decode_user(item: Item) -> Result<User, Error> {
    Ok(table::decode(item)?)
}

#[cfg(test)]
mod tests {
    use super::{Actor, UserType};

    type Target = (&'static str, Option<&'static str>);

    /// Every target the creation rules tell apart: each user type in the
    /// actor's company (`acme`), in another one and in none (a type that
    /// does not exist cannot be a `UserType`).
    const TARGETS: [Target; 8] = [
        ("service_owner", None),
        ("service_owner", Some("acme")),
        ("company_user", Some("acme")),
        ("company_user", Some("globex")),
        ("company_user", None),
        ("consumer", Some("acme")),
        ("consumer", Some("globex")),
        ("consumer", None),
    ];

    fn user(user_type: &str, company_id: Option<&str>) -> Actor {
        Actor::User { user_id: "usr_actor".into(), user_type: kind(user_type), company_id: company_id.map(Into::into) }
    }

    fn kind(user_type: &str) -> UserType {
        UserType::parse(user_type).unwrap()
    }

    /// The targets `actor` may create.
    fn managed(actor: &Actor) -> Vec<Target> {
        TARGETS.into_iter().filter(|(user_type, company)| actor.may_manage(kind(user_type), *company)).collect()
    }

    #[test]
    fn an_admin_token_manages_anyone() {
        assert_eq!(managed(&Actor::Admin { token_id: "tok".into() }), TARGETS.to_vec());
    }

    #[test]
    fn a_service_owner_manages_service_owners_and_company_users_but_no_consumer() {
        let expected = [
            ("service_owner", None),
            ("service_owner", Some("acme")),
            ("company_user", Some("acme")),
            ("company_user", Some("globex")),
            ("company_user", None),
        ];
        assert_eq!(managed(&user("service_owner", None)), expected);
        assert_eq!(managed(&user("service_owner", Some("acme"))), expected, "its own company changes nothing");
    }

    #[test]
    fn a_company_user_manages_company_users_and_consumers_of_its_own_company_only() {
        let expected = [("company_user", Some("acme")), ("consumer", Some("acme"))];
        assert_eq!(managed(&user("company_user", Some("acme"))), expected);
    }

    #[test]
    fn a_company_user_without_a_company_manages_nobody() {
        assert_eq!(managed(&user("company_user", None)), Vec::<Target>::new());
    }

    #[test]
    fn consumers_manage_nobody() {
        for actor in [user("consumer", None), user("consumer", Some("acme"))] {
            assert_eq!(managed(&actor), Vec::<Target>::new(), "{actor:?}");
        }
    }
}
