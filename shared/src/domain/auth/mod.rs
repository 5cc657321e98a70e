//! Signing in, as one state machine: a first factor (the password, a code
//! sent to the inbox or phone, a passkey), then, in this order, a second
//! factor the first did not prove, a new password the back office required,
//! the legal documents to accept, and a session. Each method lives in its
//! own module and hands the login to [`continue_login`] with what it
//! proved ([`LoginVia`]); each step is asked for only once every earlier one
//! passed.
//!
//! - [`with_password`]: `POST /v1/auth/login`;
//! - [`second_factor`]: starting the second factor and `POST /v1/auth/mfa`,
//!   dispatching to [`sent_code`] (SMS and e-mail codes, also
//!   `POST /v1/auth/mfa/send`) and [`app_code`] (authenticator app and
//!   recovery codes);
//! - [`with_passkey`]: `POST /v1/auth/passkey/options` and
//!   `POST /v1/auth/passkey`, alone or as the second factor;
//! - [`with_code`]: passwordless, a code sent to the verified address or
//!   phone (`POST /v1/auth/code/send`, `POST /v1/auth/code`);
//! - [`steps`]: the required new password and the legal documents;
//! - [`with_provider`]: another identity provider (`/oauth2/idpresponse`,
//!   `POST /v1/auth/federated/token`), and linking its identity to the
//!   account with its address once that account proves itself;
//! - [`with_session`]: the hosted pages' own session, signing in again
//!   without a password (`GET /oauth2/authorize`).
//!
//! Lockout, step-ups and device tokens are in [`super::credentials`];
//! refresh and logout in [`super::sessions`]; the password's own flows in
//! [`super::passwords`].

use chrono::Duration;

use super::error::Error;
use super::events::{EventType, user_event};
use super::factors;
use super::policy::{Factor, Usernames};
use super::tenant::Tenant;
use super::user::{Tokens, User, audit_write, open_session, user_by_lock};
use super::values::{EmailAddress, Phone, Username};
use crate::app::App;
use crate::domain::ids::ChallengeId;
use crate::ports::{Condition, Write};
use crate::table::{
    self, Challenge, ChallengeKind, Record, challenge_key, email_lock_key, phone_lock_key, username_lock_key,
};

pub mod app_code;
pub mod second_factor;
pub mod sent_code;
pub mod steps;
pub mod with_code;
pub mod with_passkey;
pub mod with_password;
pub mod with_provider;
pub mod with_session;

pub use second_factor::verify_mfa;
pub use sent_code::resend_mfa_code;
pub use steps::{accept_legal_documents, complete_password_challenge};
pub use with_code::{send_sign_in_code, sign_in_with_code};
pub use with_passkey::{passkey_options, sign_in_with_passkey};
pub use with_password::login;

const CHALLENGE_TTL_SECS: i64 = 5 * 60;

/// Where a login came from.
#[derive(Clone, Copy, Debug)]
pub struct Origin<'a> {
    pub ip: &'a str,
    pub device_id: &'a str,
    /// The device token a previous login on this device received.
    pub device_token: Option<&'a str>,
}

/// What a correct password leads to.
#[derive(Debug)]
pub enum LoginOutcome {
    Tokens(Tokens),
    /// The second factor: the factors the user may answer with, strongest
    /// first, and the one a code was sent by (if one was).
    Mfa {
        challenge_id: ChallengeId,
        factors: Vec<Factor>,
        channel: Option<&'static str>,
        /// The seconds until a code may be sent by `sms` (or e-mail) again,
        /// when the login came within the destination's cooldown: the
        /// challenge is answered anyway, with the user's other factors.
        retry_after: Option<u64>,
    },
    PasswordChange {
        challenge_id: ChallengeId,
    },
    /// Legal documents the user has not accepted in their current version.
    LegalAcceptance {
        challenge_id: ChallengeId,
        documents: Vec<PendingDocument>,
    },
}

/// A legal document (`terms` or `privacy`) and the version to accept.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct PendingDocument {
    pub code: &'static str,
    pub version: String,
}

/// The tenant's legal documents that `user` has not accepted in their
/// current version: none accepted yet (a back-office creation left them
/// pending) or an older version than the tenant's.
pub fn pending_documents(tenant: &Tenant, user: &User) -> Vec<PendingDocument> {
    [("terms", &user.terms, &tenant.policy.terms_version), ("privacy", &user.privacy, &tenant.policy.privacy_version)]
        .into_iter()
        .filter(|(_, accepted, current)| accepted.as_ref().is_none_or(|a| &a.version != *current))
        .map(|(code, _, current)| PendingDocument { code, version: current.clone() })
        .collect()
}

/// The lock a login name finds its user by: an e-mail address, an E.164
/// phone (`true`: the name was the phone), or (for tenants with usernames)
/// a username in any case.
fn name_lock(tenant: &Tenant, username: &str) -> Option<(crate::ports::Key, bool)> {
    if let Ok(email) = EmailAddress::parse(username) {
        return Some((email_lock_key(&tenant.id, email.as_str()), false));
    }
    if let Ok(phone) = Phone::parse(username) {
        return Some((phone_lock_key(&tenant.id, phone.as_str()), true));
    }
    if tenant.policy.usernames != Usernames::Off
        && let Ok(name) = Username::parse(username)
    {
        return Some((username_lock_key(&tenant.id, &name), false));
    }
    None
}

/// Finds the user for a login name (see [`name_lock`]).
pub(super) async fn find_user(app: &App, tenant: &Tenant, username: &str) -> Result<Option<(User, u64, bool)>, Error> {
    let Some((lock, by_phone)) = name_lock(tenant, username) else {
        return Ok(None);
    };
    let found = user_by_lock(app, &lock).await?;
    Ok(found.map(|(user, version)| (user, version, by_phone)))
}

/// A login step without a code (a new password, legal documents), stored
/// with `writes` in one transaction.
pub(super) async fn step_challenge(
    app: &App,
    tenant: &Tenant,
    user: &User,
    via: &LoginVia<'_>,
    mut writes: Vec<Write>,
    kind: ChallengeKind,
) -> Result<ChallengeId, Error> {
    let challenge = new_challenge(app, tenant, user, via, kind);
    writes.push(Write::Put { item: challenge.item()?, condition: Condition::NotExists });
    table::commit(app.store.as_ref(), writes).await?;
    Ok(challenge.id)
}

/// After the first factor, in this order: the second factor, a
/// new password the back office required, the legal documents to accept,
/// then a new session (with `writes` in the same transaction). Each step
/// is asked for only once every earlier one passed, so nothing a later
/// step stores (a new password, a consent) can be chosen with the password
/// alone.
pub(super) async fn continue_login(
    app: &App,
    tenant: &Tenant,
    user: &User,
    via: LoginVia<'_>,
    mut writes: Vec<Write>,
) -> Result<LoginOutcome, Error> {
    let device_id = via.device_id;
    if !via.mfa_passed {
        // The code key's id matters only to a user with an app.
        let key_id = if user.totp.is_some() { factors::key_id(app)? } else { String::new() };
        let mut offered = factors::offered(tenant, user, via.by_phone, &key_id);
        // Two factors are two different ones: an e-mailed sign-in code is
        // never followed by another e-mailed code.
        offered.retain(|factor| Some(*factor) != via.first_factor);
        if !offered.is_empty() {
            return second_factor::start(app, tenant, user, &via, writes, offered).await;
        }
        // Required by the tenant, or the user had 2FA on with factors the
        // tenant no longer allows: never a password-only sign-in.
        if tenant.policy.second_factors.required || user.mfa_enabled() {
            return Err(Error::MfaUnavailable);
        }
    }
    if user.reset_required {
        let challenge_id = step_challenge(app, tenant, user, &via, writes, ChallengeKind::PasswordChange).await?;
        return Ok(LoginOutcome::PasswordChange { challenge_id });
    }
    let documents = pending_documents(tenant, user);
    if !documents.is_empty() {
        let challenge_id = step_challenge(app, tenant, user, &via, writes, ChallengeKind::LegalAcceptance).await?;
        return Ok(LoginOutcome::LegalAcceptance { challenge_id, documents });
    }
    let mfa_passed = via.mfa_passed;
    let signed_in = serde_json::json!({ "amr": via.amr, "mfa": mfa_passed });
    let (session_writes, mut tokens) = open_session(app, tenant, user, Some(device_id), via.amr).await?;
    tokens.device_token = Some(super::credentials::device_token(app, &tenant.id, user)?);
    writes.extend(session_writes);
    let detail = if mfa_passed {
        serde_json::json!({ "device_id": device_id, "mfa": true })
    } else {
        serde_json::json!({ "device_id": device_id })
    };
    writes.push(audit_write(app, &user.id, "logged_in", detail)?);
    writes.push(user_event(app, user, EventType::UserSignedIn, None, signed_in)?);
    table::commit(app.store.as_ref(), writes).await?;
    Ok(LoginOutcome::Tokens(tokens))
}

/// The factors a challenge offers (its channel alone for challenges
/// written before there were others).
pub(super) fn challenge_factors(challenge: &Challenge) -> Vec<Factor> {
    if challenge.factors.is_empty() {
        challenge.channel.as_deref().and_then(Factor::parse).into_iter().collect()
    } else {
        challenge.factors.clone()
    }
}

/// A new step of `user`'s login (no code, no factors yet), for
/// [`CHALLENGE_TTL_SECS`].
pub(super) fn new_challenge(
    app: &App,
    tenant: &Tenant,
    user: &User,
    via: &LoginVia<'_>,
    kind: ChallengeKind,
) -> Challenge {
    Challenge {
        id: ChallengeId::from_new(app.new_id("chl")),
        kind,
        tenant_id: tenant.id.clone(),
        user_id: user.id.clone(),
        device_id: via.device_id.to_owned(),
        channel: None,
        factors: Vec::new(),
        by_phone: via.by_phone,
        code: None,
        expires_at: app.clock.now() + Duration::seconds(CHALLENGE_TTL_SECS),
        epoch: user.session_epoch,
        mfa_passed: via.mfa_passed,
        amr: via.amr.clone(),
    }
}

/// How the login named the user, from which device, and what it proved.
#[derive(Clone, Debug)]
pub(super) struct LoginVia<'a> {
    pub(super) device_id: &'a str,
    pub(super) by_phone: bool,
    /// The second factor is proven already.
    pub(super) mfa_passed: bool,
    /// The methods proven so far (RFC 8176), for the session's `amr`.
    pub(super) amr: Vec<String>,
    /// The factor the first step proved, where it is one a second factor
    /// could also be (a sign-in code by e-mail or SMS): never offered again
    /// as the second.
    pub(super) first_factor: Option<Factor>,
}

impl LoginVia<'_> {
    /// A login step's `via` after `challenge`, with `factor` proven now
    /// (a second factor: `mfa` joins the methods).
    pub(super) fn after<'d>(challenge: &Challenge, device_id: &'d str, factor: Option<Factor>) -> LoginVia<'d> {
        let mut amr = challenge.amr.clone();
        if amr.is_empty() {
            // A challenge stored before challenges carried their methods
            // came after the password.
            amr.push("pwd".into());
        }
        let mut mfa_passed = challenge.mfa_passed;
        if let Some(factor) = factor {
            amr.push(factors::amr_of(factor).into());
            mfa_passed = true;
        }
        if mfa_passed && !amr.iter().any(|m| m == "mfa") {
            amr.push("mfa".into());
        }
        amr.dedup();
        LoginVia { device_id, by_phone: challenge.by_phone, mfa_passed, amr, first_factor: None }
    }
}

pub(super) async fn load_challenge(
    app: &App,
    tenant: &Tenant,
    id: &ChallengeId,
    kind: ChallengeKind,
    device_id: &str,
) -> Result<(Challenge, u64), Error> {
    let item = app.store.get(&challenge_key(id)).await?.ok_or(Error::ChallengeNotFound)?;
    let version = item.version;
    let challenge: Challenge = table::decode(item)?;
    if challenge.tenant_id != tenant.id || challenge.kind != kind || challenge.expires_at <= app.clock.now() {
        return Err(Error::ChallengeNotFound);
    }
    if challenge.device_id != device_id {
        return Err(Error::InvalidDevice);
    }
    Ok((challenge, version))
}

/// Writes a refused first factor of a known user to its audit trail: once
/// per lock episode, with a count, so a flood cannot bury the trail. Never
/// changes the answer: a store hiccup here must not turn a known name's
/// refusal into a 503 an unknown name never gets.
pub(super) async fn note_refusal(
    app: &App,
    user: &User,
    failures: &crate::ports::Key,
    refused: &Error,
    device_id: &str,
    trusted_device: bool,
) {
    let Error::InvalidCredentials { retry_after } = refused else {
        return;
    };
    let refusal = super::refusals::Refusal {
        tenant_id: &user.tenant_id,
        failures,
        retry_after: *retry_after,
        forgotten_after_secs: super::credentials::FAILURE_MEMORY_SECS,
        device_id,
        trusted_device,
    };
    if let Err(err) = super::refusals::audit_refusal(app, &user.id, refusal).await {
        tracing::warn!(user_id = %user.id, error = %err, "refused sign-in not audited");
    }
}

/// Counts one sign-in request from the caller's address against the
/// tenant's `ip_limits.logins_per_5_min`: `login-ip` for first factors and
/// passkey ceremonies, `mfa-ip` for second-factor answers.
pub(super) async fn count_ip(app: &App, tenant: &Tenant, origin: &Origin<'_>, scope: &str) -> Result<(), Error> {
    let per_ip = tenant.policy.ip_limits.logins_per_5_min;
    super::limits::count(app, scope, &format!("{}#{}", tenant.id, origin.ip), 300, per_ip).await
}

/// [`count_ip`] as a gate to fold into the spend of an attempt.
pub(super) fn ip_gate(tenant: &Tenant, app: &App, origin: &Origin<'_>, scope: &str) -> super::limits::Gate {
    let per_ip = tenant.policy.ip_limits.logins_per_5_min;
    super::limits::gate(app, scope, &format!("{}#{}", tenant.id, origin.ip), 300, per_ip)
}

/// Who a first factor (a password, a sign-in code) claims to be: the user
/// the name finds (with its version and whether the name was its phone),
/// the device token's id if the device proved it signed in before, and the
/// lockout counter the attempt spends from (the device's, the account's,
/// or the unknown name's).
pub(super) struct Claimant {
    pub(super) found: Option<(User, u64, bool)>,
    pub(super) trusted: Option<String>,
    pub(super) failures: crate::ports::Key,
    /// The lockout counter as [`Claimant::read`] found it (`Some(None)`:
    /// none live); `None` when it was not read.
    pub(super) counter: Option<Option<crate::ports::Item>>,
}

impl Claimant {
    pub(super) async fn of(app: &App, tenant: &Tenant, username: &str, origin: &Origin<'_>) -> Result<Self, Error> {
        let found = find_user(app, tenant, username).await?;
        let user = found.as_ref().map(|(user, ..)| user);
        let trusted = user.and_then(|user| super::credentials::trusted_device(app, tenant, user, origin.device_token));
        let failures = super::credentials::failures_key(app, tenant, user, username, trusted.as_deref())?;
        Ok(Self { found, trusted, failures, counter: None })
    }

    /// [`Claimant::of`] in two round trips, with the lockout counter: the
    /// name's lock, then the user and its counters together (the
    /// account's, and the one of the device a device token names, which
    /// counts only once the token proves itself against the user).
    pub(super) async fn read(app: &App, tenant: &Tenant, username: &str, origin: &Origin<'_>) -> Result<Self, Error> {
        let store = app.store.as_ref();
        let lock = match name_lock(tenant, username) {
            Some((key, by_phone)) => table::get::<table::Lock>(store, &key).await?.map(|(lock, _)| (lock, by_phone)),
            None => None,
        };
        let Some((lock, by_phone)) = lock else {
            let failures = super::credentials::failures_key(app, tenant, None, username, None)?;
            let counter = store.get(&failures).await?;
            return Ok(Self { found: None, trusted: None, failures, counter: Some(counter) });
        };
        let claimed = origin.device_token.and_then(super::credentials::claimed_device);
        let mut keys = vec![table::user_key(&lock.user_id), table::account_failures_key(&lock.user_id)];
        keys.extend(claimed.map(|device| table::device_failures_key(&lock.user_id, device)));
        let mut items = store.get_many(&keys).await?.into_iter();
        let (user_item, account, device) = (items.next().flatten(), items.next().flatten(), items.next().flatten());
        let Some(user_item) = user_item else {
            // A lock whose user is gone: as an unknown name.
            let failures = super::credentials::failures_key(app, tenant, None, username, None)?;
            let counter = store.get(&failures).await?;
            return Ok(Self { found: None, trusted: None, failures, counter: Some(counter) });
        };
        let version = user_item.version;
        let user: User = table::decode(user_item)?;
        let trusted = super::credentials::trusted_device(app, tenant, &user, origin.device_token);
        let failures = super::credentials::failures_key(app, tenant, Some(&user), username, trusted.as_deref())?;
        let counter = if trusted.is_some() { device } else { account };
        Ok(Self { found: Some((user, version, by_phone)), trusted, failures, counter: Some(counter) })
    }

    pub(super) fn user(&self) -> Option<&User> {
        self.found.as_ref().map(|(user, ..)| user)
    }

    /// `refused`, after noting it in a known user's audit trail.
    pub(super) async fn refused(&self, app: &App, refused: Error, device_id: &str) -> Error {
        if let Some(user) = self.user() {
            note_refusal(app, user, &self.failures, &refused, device_id, self.trusted.is_some()).await;
        }
        refused
    }
}

/// A wrong second factor, sent code or app or recovery code alike: audited
/// (`mfa_failed`, the factor and the device), then answered as every failed
/// code is.
pub(super) async fn wrong_second_factor(
    app: &App,
    user_id: &crate::domain::ids::UserId,
    factor: Factor,
    device_id: &str,
) -> Error {
    let detail = serde_json::json!({ "factor": factor, "device_id": device_id });
    let audited = match audit_write(app, user_id, "mfa_failed", detail) {
        Ok(write) => table::commit(app.store.as_ref(), vec![write]).await.map_err(Error::from),
        Err(err) => Err(err),
    };
    match audited {
        Ok(()) => Error::InvalidCode,
        Err(err) => err,
    }
}
