//! Second factors beyond the e-mailed and texted codes (docs/second-factors.md): the
//! authenticator app (TOTP, RFC 6238) and recovery codes, and which factors
//! a login offers.
//!
//! The app's secret is never stored: it is derived from the code key, the
//! user and a salt kept on the user, so a copy of the table alone cannot
//! compute a single code. Rotating the code secret therefore voids every
//! enrollment and recovery code, as it voids every code in flight: each is
//! tagged with the key's id, so one made under another key is no factor (the
//! login falls back to the e-mail or SMS code) and the user may enroll again.

use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::Sha256;
use subtle::ConstantTimeEq;
use totp_rs::{Algorithm, Builder, Totp};

use super::codes::hash_code;
use super::credentials::check_current_password;
use super::error::Error;
use super::events::{EventType, user_event};
use super::ids::UserId;
use super::limits;
use super::password::CurrentPassword;
use super::policy::Factor;
use super::tenant::Tenant;
use super::user::{User, audit_write, load_user};
use crate::app::App;
use crate::i18n::text;
use crate::ports::{Condition, Email, Key, Write};
use crate::table::{self, Record, TotpFactor};

/// Recovery codes a user gets at a time.
pub const RECOVERY_CODE_COUNT: usize = 10;
/// A recovery code's characters (RFC 4648 base32, lower case): ten of them
/// carry 50 bits.
const RECOVERY_ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
const RECOVERY_CODE_LEN: usize = 10;
/// Tries of an authenticator or recovery code per user in 15 minutes and
/// per day, across every login: new logins cannot buy new guesses. A
/// device that signed in before (its device token) has allowances of its
/// own, so a guesser who has the password cannot lock the owner out.
pub const USER_TRIES_PER_15_MIN: u64 = 15;
pub const USER_TRIES_PER_DAY: u64 = 50;
/// How long an enrollment waits for its first code.
pub const ENROLLMENT_TTL_SECS: i64 = 15 * 60;

/// The factors a login that named the user by `by_phone` (or not) offers,
/// strongest first: the app once confirmed; the SMS code after an e-mail
/// (or username) login with a verified phone; the e-mail code after a phone
/// login, or as the only factor where the tenant requires one or the user
/// had 2FA on (a tenant that stops allowing a user's factor must not turn
/// its logins into password-only ones); recovery codes beside a strong
/// factor. Each only if the tenant allows it.
pub fn offered(tenant: &Tenant, user: &User, by_phone: bool, key_id: &str) -> Vec<Factor> {
    let policy = &tenant.policy.second_factors;
    let email_verified = user.email_verified_at.is_some() && user.email.is_some();
    let totp = app_usable(user, key_id);
    let sms = !by_phone && user.phone.is_some() && user.phone_verified_at.is_some();
    let passkey = user.passkeys > 0 && tenant.policy.passkeys_available();
    let mut factors: Vec<Factor> = [(Factor::Passkey, passkey), (Factor::Totp, totp), (Factor::Sms, sms)]
        .into_iter()
        .filter(|(factor, has)| *has && policy.allows(*factor))
        .map(|(factor, _)| factor)
        .collect();
    let needs_one = policy.required || user.mfa_enabled();
    if email_verified && policy.allows(Factor::Email) && (by_phone || (needs_one && factors.is_empty())) {
        factors.push(Factor::Email);
    }
    let strong = factors.iter().any(|f| matches!(f, Factor::Totp | Factor::Passkey));
    if strong && !user.recovery_codes.is_empty() && policy.allows(Factor::RecoveryCode) {
        factors.push(Factor::RecoveryCode);
    }
    factors
}

/// The RFC 8176 `amr` value of a second factor: `sms` for a texted code,
/// `otp` for an e-mailed, app or recovery code, `hwk` for a passkey.
pub fn amr_of(factor: Factor) -> &'static str {
    match factor {
        Factor::Sms => "sms",
        Factor::Email | Factor::Totp | Factor::RecoveryCode => "otp",
        Factor::Passkey => "hwk",
    }
}

/// Ten new recovery codes for `user` if it has none under the current key
/// (its first strong factor): set on the user as hashes, returned to show
/// once.
pub(crate) fn first_strong_factor_codes(app: &App, user: &mut User) -> Result<Option<Vec<String>>, Error> {
    let prefix = format!("{}:", key_id(app)?);
    if user.recovery_codes.iter().any(|hash| hash.starts_with(&prefix)) {
        return Ok(None);
    }
    let codes = draw_recovery_codes(app);
    user.recovery_codes = hash_recovery_codes(app, &user.id, &codes)?;
    Ok(Some(codes))
}

/// Whether `user`'s app is confirmed and made under the current code key.
fn app_usable(user: &User, key_id: &str) -> bool {
    user.totp.as_ref().is_some_and(|t| t.confirmed_at.is_some() && t.key_id == key_id)
}

/// The id of the current code key: what enrollments and recovery codes are
/// tagged with.
pub fn key_id(app: &App) -> Result<String, Error> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(app.settings.code_key()?)
        .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
    mac.update(b"factor-key-id");
    Ok(hex::encode(&mac.finalize().into_bytes()[..4]))
}

/// The app's secret for `user`: 160 bits (RFC 4226's recommendation)
/// derived from the code key, the user and the enrollment's salt.
fn totp_secret(app: &App, user_id: &UserId, salt: &str) -> Result<Vec<u8>, Error> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(app.settings.code_key()?)
        .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
    for part in ["totp-secret", user_id.as_str(), salt] {
        mac.update(&(part.len() as u64).to_be_bytes());
        mac.update(part.as_bytes());
    }
    Ok(mac.finalize().into_bytes()[..20].to_vec())
}

/// The name an app shows the account by: the username, else the e-mail
/// address, else the phone (`:` is not allowed in either part).
fn account_name(user: &User) -> String {
    user.sign_in_name().replace(':', " ")
}

/// The RFC 6238 generator of `user`'s enrollment: SHA-1, 6 digits, 30 s,
/// ±1 step (what authenticator apps expect).
fn totp(app: &App, tenant: &Tenant, user: &User, factor: &TotpFactor) -> Result<Totp, Error> {
    let secret = totp_secret(app, &user.id, &factor.salt)?;
    let issuer = tenant.name.replace(':', " ");
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(6)
        .with_step_duration(30)
        .with_skew(1)
        .with_secret(secret)
        .with_account_name(account_name(user))
        .with_issuer(Some(if issuer.trim().is_empty() { "Registrar".to_owned() } else { issuer }))
        .build()
        .map_err(|err| Error::Unavailable { reason: format!("totp: {err}"), registration_id: None })
}

/// The time step whose code `code` is, if it is right now (±1 step) and
/// newer than the last step accepted: each code is accepted once.
fn accepted_step(app: &App, generator: &Totp, factor: &TotpFactor, code: &str) -> Option<u64> {
    let now = app.clock.now().timestamp().max(0) as u64;
    let step = generator.check(code.trim(), now)?;
    (step > factor.last_step).then_some(step)
}

/// Spends one try of `subject`'s authenticator and recovery codes (a
/// user, or a user's trusted device): 429 past [`USER_TRIES_PER_15_MIN`]
/// or [`USER_TRIES_PER_DAY`].
async fn spend_user_try(app: &App, scope: &str, subject: &str) -> Result<(), Error> {
    limits::count(app, scope, subject, 15 * 60, USER_TRIES_PER_15_MIN).await?;
    limits::count(app, &format!("{scope}-day"), subject, 24 * 3600, USER_TRIES_PER_DAY).await
}

/// Tells the owner by e-mail that its second factors changed (`event`:
/// `totp_enabled`, `totp_removed`, `recovery_codes_regenerated`), before
/// the change is written: a failed send changes nothing. A user without an
/// address is not told.
pub(crate) async fn notify(app: &App, user: &User, event: &str) -> Result<(), Error> {
    let Some(email) = &user.email else {
        return Ok(());
    };
    let lang = user.details.language.as_str();
    let mail = Email {
        to: email.to_string(),
        subject: text(lang, &format!("email-{event}-subject"), &[]),
        text: text(lang, &format!("email-{event}-text"), &[]),
        language: lang.to_owned(),
    };
    app.mailer.send_email(&mail).await?;
    Ok(())
}

/// Writes a change of `user`'s second factors: the owner is told first
/// ([`notify`]), then the user (under `version`), `others` and the audit
/// entry `event` go in one transaction.
pub(crate) async fn save_factor_change(
    app: &App,
    user: &mut User,
    version: u64,
    event: &str,
    detail: serde_json::Value,
    others: Vec<Write>,
) -> Result<(), Error> {
    user.updated_at = app.clock.now();
    notify(app, user, event).await?;
    let mut writes = vec![user.put(Condition::Version(version))?];
    writes.extend(others);
    // What the tenant hears of it: a factor added or removed (new recovery
    // codes are a factor added again).
    let (event_type, factor) = match event {
        "totp_enabled" => (EventType::FactorAdded, "totp"),
        "totp_removed" => (EventType::FactorRemoved, "totp"),
        "passkey_removed" => (EventType::FactorRemoved, "passkey"),
        _ => (EventType::FactorAdded, "recovery_codes"),
    };
    let mut data = serde_json::json!({ "factor": factor });
    if let Some(passkey_id) = detail.get("passkey_id") {
        data["passkey_id"] = passkey_id.clone();
    }
    writes.push(user_event(app, user, event_type, None, data)?);
    writes.push(audit_write(app, &user.id, event, detail)?);
    table::commit(app.store.as_ref(), writes).await?;
    Ok(())
}

/// What an enrollment shows once: the secret (base32), the `otpauth://`
/// URI and a QR code of the URI as SVG.
#[derive(Clone, Debug, Serialize)]
pub struct TotpEnrollment {
    pub secret: String,
    pub otpauth_uri: String,
    pub qr_svg: String,
}

/// `POST /v1/me/factors/totp`: a new app enrollment (replacing one not
/// confirmed yet) after the current password. Not a factor until its
/// first code confirms it.
pub async fn enroll_totp(
    app: &App,
    tenant: &Tenant,
    user_id: &UserId,
    password: &CurrentPassword,
) -> Result<TotpEnrollment, Error> {
    if !tenant.policy.second_factors.allows(Factor::Totp) {
        return Err(Error::FactorNotAllowed);
    }
    let (mut user, version) = load_user(app, user_id).await?.ok_or(Error::InvalidToken)?;
    check_current_password(app, &user, password, "current_password").await?;
    let key_id = key_id(app)?;
    if app_usable(&user, &key_id) {
        return Err(Error::TotpAlreadyEnabled);
    }
    let factor = TotpFactor {
        salt: app.random_token(16),
        created_at: app.clock.now(),
        confirmed_at: None,
        last_step: 0,
        key_id,
    };
    let generator = totp(app, tenant, &user, &factor)?;
    let otpauth_uri = generator
        .to_url()
        .map_err(|err| Error::Unavailable { reason: format!("totp: {err}"), registration_id: None })?;
    let qr_svg = qrcode::QrCode::new(otpauth_uri.as_bytes())
        .map_err(|err| Error::Unavailable { reason: format!("qr: {err}"), registration_id: None })?
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(200, 200)
        .build();
    let enrollment = TotpEnrollment { secret: generator.secret().to_base32(), otpauth_uri, qr_svg };
    user.totp = Some(factor);
    user.updated_at = app.clock.now();
    table::commit(app.store.as_ref(), vec![user.put(Condition::Version(version))?]).await?;
    Ok(enrollment)
}

/// `POST /v1/me/factors/totp/confirm`: the enrollment's first code turns
/// the app on. The first strong factor comes with ten recovery codes,
/// shown this once.
pub async fn confirm_totp(
    app: &App,
    tenant: &Tenant,
    user_id: &UserId,
    code: &str,
) -> Result<Option<Vec<String>>, Error> {
    if !tenant.policy.second_factors.allows(Factor::Totp) {
        return Err(Error::FactorNotAllowed);
    }
    let (mut user, version) = load_user(app, user_id).await?.ok_or(Error::InvalidToken)?;
    let factor = match &user.totp {
        Some(factor) if factor.confirmed_at.is_some() => return Err(Error::TotpAlreadyEnabled),
        // An enrollment left unconfirmed too long is gone (enroll again).
        Some(factor) if app.clock.now() < factor.created_at + chrono::Duration::seconds(ENROLLMENT_TTL_SECS) => {
            factor.clone()
        }
        _ => return Err(Error::TotpNotEnrolled),
    };
    // Its own allowance: confirming guesses do not spend the logins'.
    spend_user_try(app, "totp-confirm", user.id.as_str()).await?;
    let generator = totp(app, tenant, &user, &factor)?;
    let step = accepted_step(app, &generator, &factor, code).ok_or(Error::InvalidCode)?;
    let now = app.clock.now();
    user.totp = Some(TotpFactor { confirmed_at: Some(now), last_step: step, ..factor });
    // The first strong factor (or the first under this key) gets codes.
    let codes = first_strong_factor_codes(app, &mut user)?;
    let detail = serde_json::json!({ "recovery_codes": codes.is_some() });
    save_factor_change(app, &mut user, version, "totp_enabled", detail, Vec::new()).await?;
    Ok(codes)
}

/// `DELETE /v1/me/factors/totp`: the app off, after the current password.
/// With no strong factor left, the recovery codes go too.
pub async fn remove_totp(app: &App, user_id: &UserId, password: &CurrentPassword) -> Result<(), Error> {
    let (mut user, version) = load_user(app, user_id).await?.ok_or(Error::InvalidToken)?;
    check_current_password(app, &user, password, "current_password").await?;
    if user.totp.take().is_none() {
        return Err(Error::TotpNotEnrolled);
    }
    if !user.has_strong_factor() {
        user.recovery_codes.clear();
    }
    save_factor_change(app, &mut user, version, "totp_removed", serde_json::json!({}), Vec::new()).await
}

/// `POST /v1/me/factors/recovery-codes`: ten new codes (the old ones stop
/// working), after the current password; only beside a strong factor.
pub async fn regenerate_recovery_codes(
    app: &App,
    user_id: &UserId,
    password: &CurrentPassword,
) -> Result<Vec<String>, Error> {
    let (mut user, version) = load_user(app, user_id).await?.ok_or(Error::InvalidToken)?;
    check_current_password(app, &user, password, "current_password").await?;
    if user.passkeys == 0 && !app_usable(&user, &key_id(app)?) {
        return Err(Error::NoStrongFactor);
    }
    let codes = draw_recovery_codes(app);
    user.recovery_codes = hash_recovery_codes(app, &user.id, &codes)?;
    save_factor_change(app, &mut user, version, "recovery_codes_regenerated", serde_json::json!({}), Vec::new())
        .await?;
    Ok(codes)
}

/// Ten fresh recovery codes, `xxxxx-xxxxx`.
fn draw_recovery_codes(app: &App) -> Vec<String> {
    (0..RECOVERY_CODE_COUNT)
        .map(|_| {
            let chars: String =
                (0..RECOVERY_CODE_LEN).map(|_| char::from(RECOVERY_ALPHABET[app.random.below(32) as usize])).collect();
            format!("{}-{}", &chars[..5], &chars[5..])
        })
        .collect()
}

/// A recovery code as typed, reduced to its ten characters (case, spaces
/// and dashes do not matter).
fn normalize_recovery_code(code: &str) -> String {
    code.chars().filter(|c| !matches!(c, '-' | ' ')).flat_map(char::to_lowercase).collect()
}

/// The stored form of recovery codes: the key's id and the keyed hash.
fn hash_recovery_codes(app: &App, user_id: &UserId, codes: &[String]) -> Result<Vec<String>, Error> {
    codes.iter().map(|code| hash_recovery_code(app, user_id, code)).collect()
}

fn hash_recovery_code(app: &App, user_id: &UserId, code: &str) -> Result<String, Error> {
    let hash = hash_code(app.settings.code_key()?, "recovery", user_id.as_str(), &normalize_recovery_code(code));
    Ok(format!("{}:{hash}", key_id(app)?))
}

/// What a right answer to a login's app or recovery code changes on the
/// user: the step accepted, or the code used (removed).
pub enum Proof {
    Totp { step: u64 },
    RecoveryCode { left: usize },
}

/// Checks an authenticator or recovery code of `user` for a login: one try
/// of the challenge (`challenge_tries`, at most `max_tries`) and one of the
/// user's, then the comparison. On success `user` is changed as the proof
/// requires; the caller writes it under its version, so of two parallel
/// right answers one wins.
pub async fn prove(
    app: &App,
    tenant: &Tenant,
    user: &mut User,
    factor: Factor,
    code: &str,
    challenge_tries: (&Key, i64),
    trusted_device: Option<&str>,
) -> Result<Proof, Error> {
    let (tries_key, expiry) = challenge_tries;
    let max_tries = u64::from(tenant.policy.codes.max_attempts);
    if app.store.increment_below(tries_key, max_tries, expiry).await?.is_none() {
        return Err(Error::InvalidCode);
    }
    let subject = match trusted_device {
        Some(device) => format!("{}#{device}", user.id),
        None => user.id.to_string(),
    };
    spend_user_try(app, "factor-tries", &subject).await?;
    match factor {
        Factor::Totp => {
            let key_id = key_id(app)?;
            let enrolled = user.totp.clone().filter(|_| app_usable(user, &key_id)).ok_or(Error::InvalidCode)?;
            let generator = totp(app, tenant, user, &enrolled)?;
            let step = accepted_step(app, &generator, &enrolled, code).ok_or(Error::InvalidCode)?;
            user.totp = Some(TotpFactor { last_step: step, ..enrolled });
            Ok(Proof::Totp { step })
        }
        Factor::RecoveryCode => {
            let candidate = hash_recovery_code(app, &user.id, code)?;
            // Every stored hash is compared (in constant time each), so the
            // time does not tell which one matched.
            let mut found = None;
            for (n, hash) in user.recovery_codes.iter().enumerate() {
                if bool::from(hash.as_bytes().ct_eq(candidate.as_bytes())) {
                    found = Some(n);
                }
            }
            let n = found.ok_or(Error::InvalidCode)?;
            user.recovery_codes.remove(n);
            Ok(Proof::RecoveryCode { left: user.recovery_codes.len() })
        }
        _ => Err(Error::InvalidCode),
    }
}

/// The counter of a challenge's app and recovery-code tries.
pub fn challenge_tries_key(challenge_id: &str) -> Key {
    Key::new(format!("TRIES#{challenge_id}"), "TRIES")
}

/// The audit entry of a login's strong proof.
pub fn proof_audit(app: &App, user_id: &UserId, proof: &Proof, device_id: &str) -> Result<Write, Error> {
    match proof {
        Proof::Totp { .. } => audit_write(app, user_id, "totp_used", serde_json::json!({ "device_id": device_id })),
        Proof::RecoveryCode { left } => audit_write(
            app,
            user_id,
            "recovery_code_used",
            serde_json::json!({ "device_id": device_id, "recovery_codes_left": left }),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Which factors a login offers (`offered`).

    use crate::domain::policy::{PasskeyPolicy, SecondFactorPolicy};
    use crate::domain::tenant::Policy;
    use chrono::Utc;

    /// The current code key's id.
    const KEY: &str = "key1";

    /// A tenant that allows `allowed` (passkeys set up) and requires a
    /// second factor or not.
    fn tenant(allowed: &[Factor], required: bool) -> Tenant {
        let policy = Policy {
            second_factors: SecondFactorPolicy { allowed: allowed.to_vec(), required },
            passkeys: PasskeyPolicy { rp_id: Some("example.com".into()), origins: vec!["https://example.com".into()] },
            ..Policy::default()
        };
        Tenant { id: "t".into(), name: "T".into(), policy }
    }

    /// A user with a verified e-mail address and nothing else.
    fn user() -> User {
        serde_json::from_value(serde_json::json!({
            "id": "usr_1", "tenant_id": "t", "user_type": "consumer", "status": "active",
            "email": "a@example.com", "email_verified_at": "2026-01-02T03:04:05Z", "phone": null,
            "phone_verified_at": null, "password_hash": "$argon2id$x", "first_name": "Ada",
            "last_name": "Muster", "language": "en", "terms": null, "privacy": null,
            "created_at": "2026-01-02T03:04:05Z", "updated_at": "2026-01-02T03:04:05Z",
        }))
        .expect("a user")
    }

    fn with_phone(mut user: User) -> User {
        user.phone = Some("+41791234567".into());
        user.phone_verified_at = user.email_verified_at;
        user
    }

    /// `user` with a confirmed app made under `key_id`, and recovery codes.
    fn with_app(mut user: User, key_id: &str) -> User {
        let now = Utc::now();
        let app = TotpFactor {
            salt: "s".into(),
            created_at: now,
            confirmed_at: Some(now),
            last_step: 0,
            key_id: key_id.into(),
        };
        user.totp = Some(app);
        user.recovery_codes = vec![format!("{key_id}:hash")];
        user
    }

    #[test]
    fn a_user_with_the_email_alone_signs_in_with_the_password_alone() {
        assert_eq!(offered(&tenant(&Factor::ALL, false), &user(), false, KEY), []);
    }

    #[test]
    fn a_verified_phone_is_the_factor_of_an_email_login_and_the_email_of_a_phone_login() {
        let (tenant, user) = (tenant(&Factor::ALL, false), with_phone(user()));
        assert_eq!(offered(&tenant, &user, false, KEY), [Factor::Sms]);
        assert_eq!(offered(&tenant, &user, true, KEY), [Factor::Email], "the phone named the user");
    }

    #[test]
    fn a_tenant_that_requires_a_second_factor_sends_the_email_code_to_a_user_with_none() {
        assert_eq!(offered(&tenant(&Factor::ALL, true), &user(), false, KEY), [Factor::Email]);
    }

    #[test]
    fn strong_factors_come_first_and_bring_the_recovery_codes() {
        let tenant = tenant(&Factor::ALL, false);
        let mut strong = with_app(with_phone(user()), KEY);
        strong.passkeys = 1;
        let all = [Factor::Passkey, Factor::Totp, Factor::Sms, Factor::RecoveryCode];
        assert_eq!(offered(&tenant, &strong, false, KEY), all);
        // Without a strong factor the recovery codes are no factor.
        let mut weak = with_phone(user());
        weak.recovery_codes = vec![format!("{KEY}:hash")];
        assert_eq!(offered(&tenant, &weak, false, KEY), [Factor::Sms]);
    }

    #[test]
    fn an_unconfirmed_app_or_one_under_an_earlier_key_is_no_factor() {
        let tenant = tenant(&Factor::ALL, false);
        let mut pending = with_app(user(), KEY);
        pending.totp.as_mut().unwrap().confirmed_at = None;
        pending.recovery_codes.clear();
        assert_eq!(offered(&tenant, &pending, false, KEY), []);
        // The user had 2FA on: the e-mail code stands in, never the password alone.
        assert_eq!(offered(&tenant, &with_app(user(), "key0"), false, KEY), [Factor::Email]);
    }

    #[test]
    fn a_factor_the_tenant_stops_allowing_falls_back_to_the_email_code() {
        let no_sms = tenant(&[Factor::Passkey, Factor::Totp, Factor::Email, Factor::RecoveryCode], false);
        assert_eq!(offered(&no_sms, &with_phone(user()), false, KEY), [Factor::Email]);
        // A tenant that allows none has no second factor at all.
        let nothing = tenant(&[], false);
        assert_eq!(offered(&nothing, &with_app(with_phone(user()), KEY), false, KEY), []);
    }

    #[test]
    fn passkeys_are_offered_only_where_the_tenant_set_them_up() {
        let mut with_passkey = user();
        with_passkey.passkeys = 1;
        let mut tenant = tenant(&Factor::ALL, false);
        assert_eq!(offered(&tenant, &with_passkey, false, KEY), [Factor::Passkey]);
        tenant.policy.passkeys.rp_id = None;
        assert_eq!(offered(&tenant, &with_passkey, false, KEY), [Factor::Email], "2FA was on: the e-mail code instead");
    }

    #[test]
    fn recovery_codes_normalize_case_spaces_and_dashes() {
        assert_eq!(normalize_recovery_code("ABCDE-fgh23"), "abcdefgh23");
        assert_eq!(normalize_recovery_code(" abcde fgh23 "), "abcdefgh23");
    }

    #[test]
    fn rfc6238_sha1_vectors() {
        // RFC 6238 Appendix B, SHA-1 (8 digits there; the 6-digit codes
        // are their last six).
        let secret = b"12345678901234567890".to_vec();
        let generator = Builder::new().with_digits(8).with_secret(secret).build().expect("valid");
        for (time, code) in [
            (59u64, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ] {
            assert_eq!(generator.generate(time).to_string(), code, "at {time}");
        }
    }
}
