//! Self-registration: a resource with a TTL that collects the user step by
//! step (e-mail code, then phone code when the tenant requires a phone; or,
//! for tenants whose sign-up starts with the phone, the SMS code, then the
//! e-mail code when an address was given) and ends in one transaction that
//! creates the user and opens a session.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::codes::{PendingCode, draw_code, hash_code, is_right, spend_try, try_write};
use super::error::{Error, Step};
use super::events::{EventType, user_event, user_summary};
use super::limits;
use super::password::{Password, hash_password};
use super::policy::SignUpStart;
use super::tenant::Tenant;
use super::user::{Acceptance, Tokens, User, audit_write, lock_write, open_session};
use super::values::{EmailAddress, PersonalDetails, Phone, Status, UserType, Username};
use crate::app::App;
use crate::domain::ids::{RegistrationId, UserId};
use crate::i18n::{Arg, text};
use crate::ports::{Condition, Email, Sms, Write};
pub use crate::table::Registration;
use crate::table::{self, Failed, Kind, Record, email_lock_key, phone_lock_key, registration_key, username_lock_key};

/// What a sign-up sends, parsed at the edge.
#[derive(Clone, Debug)]
pub struct SignUp {
    /// Required unless the tenant's sign-up starts with the phone and does
    /// not require an address.
    pub email: Option<EmailAddress>,
    /// The phone of a sign-up that starts with it.
    pub phone: Option<Phone>,
    pub password: Password,
    /// The language is the negotiated request language when not given.
    pub details: PersonalDetails,
    /// The partner of the API key the sign-up came through (not from the body).
    pub partner_id: Option<String>,
    /// A username, for tenants that use them.
    pub username: Option<Username>,
}

/// The channel a code travels on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Email,
    Sms,
}

impl Channel {
    fn purpose(self) -> &'static str {
        match self {
            Channel::Email => "registration-email",
            Channel::Sms => "registration-sms",
        }
    }

    /// What a code on this channel is bound to: the registration and the
    /// destination, so a code sent to one phone never verifies another.
    fn owner(self, registration: &Registration) -> String {
        match self {
            Channel::Email => {
                format!("{}:{}", registration.id, registration.email.as_ref().map_or("", |e| e.as_str()))
            }
            Channel::Sms => format!("{}:{}", registration.id, registration.phone.as_ref().map_or("", |p| p.as_str())),
        }
    }
}

impl Registration {
    /// The step this registration expects next.
    pub fn next(&self) -> Step {
        let email_pending = self.email.is_some() && self.email_verified_at.is_none();
        if self.user_id.is_some() {
            Step::Done
        } else if self.starts_with_phone {
            if self.phone_verified_at.is_none() {
                Step::VerifyPhone
            } else if email_pending {
                Step::VerifyEmail
            } else {
                Step::Done
            }
        } else if email_pending {
            Step::VerifyEmail
        } else if self.phone_required && self.phone.is_none() {
            Step::AddPhone
        } else if self.phone_required && self.phone_verified_at.is_none() {
            Step::VerifyPhone
        } else {
            Step::Done
        }
    }

    /// Every step of this registration, in order (done or not).
    pub fn steps(&self) -> Vec<Step> {
        if self.starts_with_phone {
            let email = self.email.is_some().then_some(Step::VerifyEmail);
            [Some(Step::VerifyPhone), email].into_iter().flatten().collect()
        } else if self.phone_required {
            vec![Step::VerifyEmail, Step::AddPhone, Step::VerifyPhone]
        } else {
            vec![Step::VerifyEmail]
        }
    }

    fn last_sent(&mut self, channel: Channel) -> &mut Option<DateTime<Utc>> {
        match channel {
            Channel::Email => &mut self.last_email_sent_at,
            Channel::Sms => &mut self.last_sms_sent_at,
        }
    }

    fn code(&mut self, channel: Channel) -> &mut Option<PendingCode> {
        match channel {
            Channel::Email => &mut self.email_code,
            Channel::Sms => &mut self.sms_code,
        }
    }
}

/// The answer to a started registration.
#[derive(Clone, Debug, Serialize)]
pub struct Started {
    pub registration_id: String,
    pub next: Step,
    pub expires_at: DateTime<Utc>,
}

/// The answer to a verified code: the next step, or the finished sign-up.
#[derive(Debug)]
pub enum Verified {
    Next(Step),
    Completed(Tokens),
}

/// What `GET /v1/registrations/{id}` shows.
#[derive(Clone, Debug, Serialize)]
pub struct RegistrationStatus {
    pub registration_id: String,
    /// `null` for a sign-up that started with the phone and gave no address.
    pub email: Option<String>,
    pub email_verified: bool,
    pub phone_required: bool,
    /// Masked: all but the last two digits hidden.
    pub phone: Option<String>,
    pub phone_verified: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<Username>,
    pub next: Step,
    /// Every step, in order: the e-mail's first, or the phone's for a
    /// sign-up that started with it.
    pub steps: Vec<Step>,
    pub completed: bool,
    pub expires_at: DateTime<Utc>,
}

async fn load(app: &App, tenant: &Tenant, id: &RegistrationId) -> Result<(Registration, u64), Error> {
    let (registration, version) = table::get::<Registration>(app.store.as_ref(), &registration_key(id))
        .await?
        .ok_or(Error::RegistrationNotFound)?;
    // Another tenant's registration does not exist for this caller.
    if registration.tenant_id != tenant.id || registration.expires_at <= app.clock.now() {
        return Err(Error::RegistrationNotFound);
    }
    Ok((registration, version))
}

fn code_minutes(tenant: &Tenant, channel: Channel) -> i64 {
    let secs = match channel {
        Channel::Email => tenant.policy.codes.email_ttl_secs,
        Channel::Sms => tenant.policy.codes.sms_ttl_secs,
    };
    (secs + 59) / 60
}

/// Draws a code for `channel`, stores its hash on `registration`, counts the
/// send, and returns the message to hand to the mailer or texter. A
/// registration whose address is taken gets a notice instead of a code.
fn prepare_send(
    app: &App,
    tenant: &Tenant,
    registration: &mut Registration,
    channel: Channel,
) -> Result<Outgoing, Error> {
    let now = app.clock.now();
    let policy = &tenant.policy.codes;
    let code = draw_code(app.random.as_ref(), policy.length, app.sandbox_code(tenant));
    let owner = channel.owner(registration);
    let hash = hash_code(app.settings.code_key()?, channel.purpose(), &owner, &code);
    let ttl = match channel {
        Channel::Email => policy.email_ttl_secs,
        Channel::Sms => policy.sms_ttl_secs,
    };
    *registration.code(channel) = Some(PendingCode::issue(app, hash, now + Duration::seconds(ttl)));
    *registration.last_sent(channel) = Some(now);
    registration.sends += 1;
    let lang = registration.details.language.as_str();
    let minutes = code_minutes(tenant, channel);
    Ok(match channel {
        Channel::Email if registration.email_taken => Outgoing::Email(Email {
            to: registration.email.as_ref().map(ToString::to_string).unwrap_or_default(),
            subject: text(lang, "email-taken-subject", &[]),
            text: text(lang, "email-taken-text", &[]),
            language: lang.to_owned(),
        }),
        Channel::Email => Outgoing::Email(Email {
            to: registration.email.as_ref().map(ToString::to_string).unwrap_or_default(),
            subject: text(lang, "email-code-subject", &[("code", Arg::Str(&code))]),
            text: text(
                lang,
                "email-code-text",
                &[
                    ("name", Arg::Str(&registration.details.first_name)),
                    ("code", Arg::Str(&code)),
                    ("minutes", Arg::Num(minutes)),
                ],
            ),
            language: lang.to_owned(),
        }),
        Channel::Sms if registration.phone_taken => Outgoing::Sms(Sms {
            to: registration.phone.as_ref().map(|p| p.as_str().to_owned()).unwrap_or_default(),
            text: text(lang, "sms-taken-text", &[]),
            language: lang.to_owned(),
        }),
        Channel::Sms => Outgoing::Sms(Sms {
            to: registration.phone.as_ref().map(|p| p.as_str().to_owned()).unwrap_or_default(),
            text: text(lang, "sms-code-text", &[("code", Arg::Str(&code)), ("minutes", Arg::Num(minutes))]),
            language: lang.to_owned(),
        }),
    })
}

enum Outgoing {
    Email(Email),
    Sms(Sms),
}

/// Hands the message over; if that fails, puts the registration back as it
/// was before the send (best effort: no code pending, the send not counted,
/// no cooldown), so `resend` works at once, and answers 503 with the id.
async fn deliver(
    app: &App,
    message: Outgoing,
    sent: &Registration,
    sent_version: u64,
    before: Registration,
) -> Result<(), Error> {
    let result = match &message {
        Outgoing::Email(email) => app.mailer.send_email(email).await,
        Outgoing::Sms(sms) => app.texter.send_sms(sms).await,
    };
    let Err(err) = result else { return Ok(()) };
    tracing::warn!(registration_id = %sent.id, error = %err.0, "code delivery failed");
    let mut restored = before;
    restored.phone = sent.phone.clone();
    if let Ok(item) = restored.item() {
        // If this fails too, the cooldown simply runs out before resend works.
        let _ = app.store.put(item, Condition::Version(sent_version)).await;
    }
    Err(Error::Unavailable { reason: err.0, registration_id: Some(sent.id.to_string()) })
}

/// Starts a registration and sends the first code: the e-mail's, or the
/// SMS for a tenant whose sign-up starts with the phone (the handler has
/// checked that the first credential is there).
pub async fn start(app: &App, tenant: &Tenant, sign_up: SignUp, ip: &str) -> Result<Started, Error> {
    let starts_with_phone = tenant.policy.sign_up_starts_with == SignUpStart::Phone;
    let first = if starts_with_phone { Channel::Sms } else { Channel::Email };
    let destination = match (first, &sign_up.phone, &sign_up.email) {
        (Channel::Sms, Some(phone), _) => phone.as_str().to_owned(),
        (Channel::Email, _, Some(email)) => email.to_string(),
        _ => return Err(Error::field(if starts_with_phone { "phone" } else { "email" }, "required")),
    };
    if first == Channel::Sms && !limits::sms_country_allowed(tenant, &destination) {
        return Err(Error::field("phone", "country_not_allowed"));
    }
    // Per caller and per destination, whether or not it is taken.
    let per_ip = tenant.policy.ip_limits.signups_per_hour;
    limits::count(app, "signup-ip", &format!("{}#{ip}", tenant.id), 3600, per_ip).await?;
    let per_destination = tenant.policy.codes.max_sends as u64;
    let subject = limits::destination(app, &tenant.id, &destination)?;
    limits::count(app, "signup-dest", &subject, 3600, per_destination).await?;
    // The address of a sign-up that starts with the phone gets its code
    // later; it is counted now, so that step cannot fail on its limit.
    if let (Channel::Sms, Some(email)) = (first, &sign_up.email) {
        let subject = limits::destination(app, &tenant.id, email.as_str())?;
        limits::count(app, "signup-dest", &subject, 3600, per_destination).await?;
    }
    tenant.policy.usernames.check(sign_up.username.as_ref())?;
    if let Some(name) = &sign_up.username
        && app.store.get(&username_lock_key(&tenant.id, name)).await?.is_some()
    {
        // A username is a public name, not a secret: say it is taken (a
        // race between two sign-ups is settled at completion).
        return Err(Error::UsernameTaken);
    }
    // The tenant's own rules, before anything is sent (whether or not the
    // address is taken: the hook's answer tells nothing about that).
    let who = super::hooks::Applicant {
        email: sign_up.email.as_ref(),
        phone: sign_up.phone.as_ref(),
        username: sign_up.username.as_ref(),
        details: &sign_up.details,
    };
    let attributes = super::hooks::pre_sign_up(app, tenant, "sign_up", who).await?;
    let now = app.clock.now();
    let password_hash = hash_password(&sign_up.password, app.random.as_ref()).await?;
    let email_taken = match &sign_up.email {
        Some(email) => app.store.get(&email_lock_key(&tenant.id, email.as_str())).await?.is_some(),
        None => false,
    };
    let phone_taken = match (&sign_up.phone, starts_with_phone) {
        (Some(phone), true) => app.store.get(&phone_lock_key(&tenant.id, phone.as_str())).await?.is_some(),
        _ => false,
    };
    if first == Channel::Sms {
        limits::spend_sms(app, tenant, &destination, limits::SmsAllowance::Open).await?;
    }
    let accepted = |version: &str| Acceptance { version: version.to_owned(), accepted_at: now };
    let mut registration = Registration {
        id: RegistrationId::from_new(app.new_id("reg")),
        tenant_id: tenant.id.clone(),
        email: sign_up.email,
        password_hash,
        details: sign_up.details,
        attributes,
        terms: accepted(&tenant.policy.terms_version),
        privacy: accepted(&tenant.policy.privacy_version),
        phone_required: starts_with_phone || tenant.policy.phone_required,
        email_taken,
        email_verified_at: None,
        phone: sign_up.phone.filter(|_| starts_with_phone),
        phone_verified_at: None,
        email_code: None,
        sms_code: None,
        sends: 0,
        last_email_sent_at: None,
        last_sms_sent_at: None,
        created_at: now,
        expires_at: now + Duration::seconds(tenant.policy.registration_ttl_secs),
        user_id: None,
        partner_id: sign_up.partner_id,
        username: sign_up.username,
        starts_with_phone,
        phone_taken,
    };
    let before = registration.clone();
    let message = prepare_send(app, tenant, &mut registration, first)?;
    app.store.put(registration.item()?, Condition::NotExists).await?;
    deliver(app, message, &registration, 1, before).await?;
    Ok(Started {
        registration_id: registration.id.to_string(),
        next: registration.next(),
        expires_at: registration.expires_at,
    })
}

async fn verify(
    app: &App,
    tenant: &Tenant,
    id: &RegistrationId,
    channel: Channel,
    code: &str,
    device_id: Option<&str>,
) -> Result<Verified, Error> {
    let (mut registration, version) = load(app, tenant, id).await?;
    let expected = match channel {
        Channel::Email => Step::VerifyEmail,
        Channel::Sms => Step::VerifyPhone,
    };
    if registration.next() != expected {
        // This channel is verified already (by the right code, perhaps in
        // the same burst): answer as every failed code does.
        let done = match channel {
            Channel::Email => registration.email_verified_at.is_some(),
            Channel::Sms => registration.phone_verified_at.is_some(),
        };
        return Err(if done { Error::InvalidCode } else { Error::StepOutOfOrder { next: registration.next() } });
    }
    let owner = channel.owner(&registration);
    let candidate = hash_code(app.settings.code_key()?, channel.purpose(), &owner, code);
    let pending = registration.code(channel).clone().ok_or(Error::InvalidCode)?;
    // A taken address (or phone) never verifies, whatever was guessed; the
    // other channel's code still does (its answer must not tell that the
    // address is taken: the owner is told by the notice the next step sends).
    let taken = match channel {
        Channel::Email => registration.email_taken,
        Channel::Sms => registration.phone_taken,
    };
    let expired = app.clock.now() >= pending.expires_at;
    if expired || taken || !is_right(&pending, &candidate) {
        // A wrong guess spends its try on its own.
        spend_try(app, &pending, &candidate, tenant.policy.codes.max_attempts).await?;
        return Err(Error::InvalidCode);
    }
    // The right code's try is spent in the same transaction as what it
    // does (the user, or the next step), so it counts only within the
    // code's tries: one round trip fewer.
    let spent = try_write(&pending, tenant.policy.codes.max_attempts);
    let now = app.clock.now();
    *registration.code(channel) = None;
    match channel {
        Channel::Email => registration.email_verified_at = Some(now),
        Channel::Sms => registration.phone_verified_at = Some(now),
    }
    let outcome = match registration.next() {
        Step::Done => complete(app, tenant, registration, version, device_id, spent).await.map(Verified::Completed),
        Step::VerifyEmail if channel == Channel::Sms => {
            // The phone is proven: now the address's code (or the notice to
            // its owner). If the send fails, the phone stays proven and
            // `resend` sends the e-mail.
            // The address's sends were counted at the start; this send is one
            // per registration, so the per-registration cap does not hold
            // it back (resends of it do count).
            let before = registration.clone();
            let message = prepare_send(app, tenant, &mut registration, Channel::Email)?;
            match save_with_try(app, &registration, version, spent).await {
                Ok(()) => deliver(app, message, &registration, version + 1, before)
                    .await
                    .map(|()| Verified::Next(Step::VerifyEmail)),
                Err(err) => Err(err),
            }
        }
        next => save_with_try(app, &registration, version, spent).await.map(|()| Verified::Next(next)),
    };
    // The right code racing itself (or a resend): the loser's answer is the
    // one every failed code gets.
    outcome.map_err(|err| if err == Error::Conflict { Error::InvalidCode } else { err })
}

/// Stores `registration` (at `version`) with the right code's try `spent`:
/// a code out of tries answers as a wrong one.
async fn save_with_try(app: &App, registration: &Registration, version: u64, spent: Write) -> Result<(), Error> {
    let writes = vec![spent, registration.put(Condition::Version(version))?];
    table::commit(app.store.as_ref(), writes).await.map_err(|err| match err {
        Failed::Condition(Kind::Tries) => Error::InvalidCode,
        other => other.into(),
    })
}

/// Creates the user, its e-mail lock, its audit entry and a session in one
/// transaction with the registration's last change and the code's try
/// `spent`: all or nothing.
async fn complete(
    app: &App,
    tenant: &Tenant,
    mut registration: Registration,
    version: u64,
    device_id: Option<&str>,
    spent: Write,
) -> Result<Tokens, Error> {
    let now = app.clock.now();
    let user = User {
        id: UserId::from_new(app.new_id("usr")),
        tenant_id: tenant.id.clone(),
        user_type: UserType::Consumer,
        status: Status::Active,
        // A user without an address has none (the empty string, as a
        // closed user's).
        email: registration.email.clone(),
        email_verified_at: registration.email_verified_at,
        phone: registration.phone.as_ref().map(|p| p.as_str().to_owned()),
        phone_verified_at: registration.phone_verified_at,
        username: registration.username.clone(),
        password_hash: registration.password_hash.clone(),
        details: registration.details.clone(),
        roles: Vec::new(),
        terms: Some(registration.terms.clone()),
        privacy: Some(registration.privacy.clone()),
        created_at: now,
        updated_at: now,
        reset_required: false,
        pending_credential: None,
        company_id: None,
        partner_id: registration.partner_id.clone(),
        nationality: None,
        address: None,
        attributes: registration.attributes.clone(),
        references: Default::default(),
        created_by: Some("self".into()),
        session_epoch: 0,
        session_survivor: None,
        totp: None,
        recovery_codes: Vec::new(),
        passkeys: 0,
        personal_data_consent_at: None,
        registration_id: Some(registration.id.clone()),
    };
    registration.user_id = Some(user.id.clone());
    // The session's `amr`: the codes the sign-up proved (RFC 8176: `otp`
    // for the e-mailed one, `sms` for the texted one). No `mfa`: a sign-up
    // proves who holds the address and phone, not a second factor.
    let amr = [(user.email_verified_at.is_some(), "otp"), (user.phone_verified_at.is_some(), "sms")]
        .into_iter()
        .filter(|(proved, _)| *proved)
        .map(|(_, method)| method.to_owned())
        .collect();
    let (session_writes, tokens) = open_session(app, tenant, &user, device_id, amr).await?;
    let mut writes = vec![
        spent,
        registration.put(Condition::Version(version))?,
        user.put(Condition::NotExists)?,
        audit_write(app, &user.id, "signed_up", serde_json::json!({ "registration_id": registration.id }))?,
        {
            let mut data = user_summary(&user);
            data["source"] = serde_json::json!("sign_up");
            user_event(app, &user, EventType::UserCreated, None, data)?
        },
    ];
    // The unique locks: a failed one is told by its kind.
    if let Some(email) = &registration.email {
        writes.push(lock_write(email_lock_key(&tenant.id, email.as_str()), &user.id)?);
    }
    if let Some(phone) = &user.phone {
        writes.push(lock_write(phone_lock_key(&tenant.id, phone), &user.id)?);
    }
    if let Some(name) = &user.username {
        writes.push(lock_write(username_lock_key(&tenant.id, name), &user.id)?);
    }
    writes.extend(session_writes);
    writes.extend(table::user_index_writes(None, &user)?);
    match table::commit(app.store.as_ref(), writes).await {
        Ok(()) => {
            tracing::info!(user_id = %user.id, tenant_id = %tenant.id, "user signed up");
            Ok(tokens)
        }
        Err(Failed::Condition(Kind::EmailLock)) => Err(Error::EmailTaken),
        Err(Failed::Condition(Kind::PhoneLock)) => Err(Error::PhoneTaken),
        Err(Failed::Condition(Kind::UsernameLock)) => Err(Error::UsernameTaken),
        // The code ran out of tries (parallel guesses spent them).
        Err(Failed::Condition(Kind::Tries)) => Err(Error::InvalidCode),
        Err(err) => Err(err.into()),
    }
}

/// Checks the e-mail code; completes the sign-up when no phone is required.
pub async fn verify_email(
    app: &App,
    tenant: &Tenant,
    id: &RegistrationId,
    code: &str,
    device_id: Option<&str>,
) -> Result<Verified, Error> {
    verify(app, tenant, id, Channel::Email, code, device_id).await
}

/// Checks the SMS code: completes the sign-up, or (one that started with
/// the phone) sends the e-mail's code next.
pub async fn verify_phone(
    app: &App,
    tenant: &Tenant,
    id: &RegistrationId,
    code: &str,
    device_id: Option<&str>,
) -> Result<Verified, Error> {
    verify(app, tenant, id, Channel::Sms, code, device_id).await
}

/// Refuses a send inside the cooldown or past the cap, with the seconds to wait.
fn check_send_allowed(
    app: &App,
    tenant: &Tenant,
    registration: &mut Registration,
    channel: Channel,
) -> Result<(), Error> {
    let now = app.clock.now();
    let policy = &tenant.policy.codes;
    if registration.sends >= policy.max_sends {
        let retry_after = (registration.expires_at - now).num_seconds().max(1) as u64;
        return Err(Error::SendLimitReached { retry_after });
    }
    if let Some(last) = *registration.last_sent(channel) {
        let ready = last + Duration::seconds(policy.resend_cooldown_secs);
        if ready > now {
            let retry_after = ((ready - now).num_milliseconds() + 999).div_euclid(1000);
            return Err(Error::ResendTooSoon { retry_after: retry_after.max(1) as u64 });
        }
    }
    Ok(())
}

/// Adds (or, before it is verified, replaces) the phone and sends its code.
pub async fn add_phone(app: &App, tenant: &Tenant, id: &RegistrationId, phone: Phone) -> Result<Step, Error> {
    let (mut registration, version) = load(app, tenant, id).await?;
    let next = registration.next();
    // A sign-up that started with the phone keeps it (a new one is a new
    // sign-up: its phone was checked for an owner at the start).
    if (next != Step::AddPhone && next != Step::VerifyPhone) || registration.starts_with_phone {
        return Err(Error::StepOutOfOrder { next });
    }
    check_send_allowed(app, tenant, &mut registration, Channel::Sms)?;
    if !limits::sms_country_allowed(tenant, phone.as_str()) {
        return Err(Error::field("phone", "country_not_allowed"));
    }
    let destination = limits::destination(app, &tenant.id, phone.as_str())?;
    limits::count(app, "signup-dest", &destination, 3600, tenant.policy.codes.max_sends as u64).await?;
    limits::spend_sms(app, tenant, phone.as_str(), limits::SmsAllowance::Open).await?;
    let before = registration.clone();
    registration.phone = Some(phone);
    let message = prepare_send(app, tenant, &mut registration, Channel::Sms)?;
    app.store.put(registration.item()?, Condition::Version(version)).await?;
    deliver(app, message, &registration, version + 1, before).await?;
    Ok(Step::VerifyPhone)
}

/// Sends a new code on `channel` (the old one dies).
pub async fn resend(app: &App, tenant: &Tenant, id: &RegistrationId, channel: Channel) -> Result<Step, Error> {
    let (mut registration, version) = load(app, tenant, id).await?;
    let next = registration.next();
    let expected = match channel {
        Channel::Email => Step::VerifyEmail,
        Channel::Sms => Step::VerifyPhone,
    };
    if next != expected {
        return Err(Error::StepOutOfOrder { next });
    }
    check_send_allowed(app, tenant, &mut registration, channel)?;
    // A resend counts toward its destination's hourly sends like a new
    // sign-up for it (5 an hour, docs/sessions-and-keys.md): starts and
    // resends together stay within it.
    let destination = match channel {
        Channel::Email => registration.email.as_ref().map(ToString::to_string),
        Channel::Sms => registration.phone.as_ref().map(|phone| phone.as_str().to_owned()),
    };
    if let Some(destination) = &destination {
        let subject = limits::destination(app, &tenant.id, destination)?;
        limits::count(app, "signup-dest", &subject, 3600, tenant.policy.codes.max_sends as u64).await?;
    }
    if let (Channel::Sms, Some(phone)) = (channel, &registration.phone) {
        limits::spend_sms(app, tenant, phone.as_str(), limits::SmsAllowance::Open).await?;
    }
    let before = registration.clone();
    let message = prepare_send(app, tenant, &mut registration, channel)?;
    app.store.put(registration.item()?, Condition::Version(version)).await?;
    deliver(app, message, &registration, version + 1, before).await?;
    Ok(next)
}

/// What is done and what is next.
pub async fn status(app: &App, tenant: &Tenant, id: &RegistrationId) -> Result<RegistrationStatus, Error> {
    let (registration, _) = load(app, tenant, id).await?;
    Ok(RegistrationStatus {
        registration_id: registration.id.to_string(),
        email: registration.email.as_ref().map(ToString::to_string),
        email_verified: registration.email_verified_at.is_some(),
        phone_required: registration.phone_required,
        phone: registration.phone.as_ref().map(Phone::masked),
        phone_verified: registration.phone_verified_at.is_some(),
        username: registration.username.clone(),
        next: registration.next(),
        steps: registration.steps(),
        completed: registration.user_id.is_some(),
        expires_at: registration.expires_at,
    })
}
