//! Second factors (docs/second-factors.md): the signed-in user's
//! authenticator app, recovery codes and passkeys, and signing in with a
//! passkey.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::Serialize;

use super::auth::LoginAnswer;
use super::reply::{FactorName, Message, Reply, message};
use crate::domain::auth::{self, Origin};
use crate::domain::factor_list::{CredentialState, FactorsView, TotpState};
use crate::domain::factors::{self, TotpEnrollment};
use crate::domain::me::StepUp;
use crate::domain::passkeys::{self, PasskeyView, Registered};
use crate::domain::password::{CurrentPassword, Password};
use crate::domain::policy::Factor;
use crate::http::body::{
    Challenge, Code, Cx, Id, NoChallenge, PasskeyName, Password as PasswordField, WebAuthnCredential,
};
use crate::http::context::Ctx;
use crate::http::input::Fields;
use crate::http::problem::Problem;

crate::body! {
    /// `POST /v1/me/factors/totp`, `DELETE /v1/me/factors/totp` and
    /// `POST /v1/me/factors/recovery-codes`: the step-up.
    pub struct StepUpBody {
        current_password: required PasswordField,
    }
}

crate::body! {
    /// `POST /v1/me/factors/totp/confirm`: the app's current code.
    pub struct ConfirmTotpBody {
        code: required Code,
    }
}

/// The current password a step-up body holds, from the caller's session.
fn step_up(ctx: &Ctx<'_>) -> Result<CurrentPassword, Problem> {
    let session_id = ctx.principal()?.session_id.clone();
    let password = Password::new(StepUpBody::parse(ctx)?.current_password);
    Ok(CurrentPassword { password, session_id })
}

/// `GET /v1/me/factors`: every factor of the user, as the user sees them
/// (no secret, no hash).
#[derive(Serialize, JsonSchema)]
pub struct FactorsAnswer {
    pub email: Option<FactorCredential>,
    pub phone: Option<FactorCredential>,
    pub totp: Option<TotpAnswer>,
    pub passkeys: Vec<PasskeyAnswer>,
    pub recovery_codes_left: usize,
    /// What the tenant allows, and whether it requires a second factor.
    #[schemars(with = "Vec<FactorName>")]
    pub allowed: Vec<Factor>,
    pub required: bool,
}

/// The address or the phone, and whether it is verified.
#[derive(Serialize, JsonSchema)]
pub struct FactorCredential {
    pub value: String,
    pub verified: bool,
}

/// The authenticator app.
#[derive(Serialize, JsonSchema)]
pub struct TotpAnswer {
    pub confirmed: bool,
    pub created_at: DateTime<Utc>,
    pub confirmed_at: Option<DateTime<Utc>>,
}

impl From<FactorsView> for FactorsAnswer {
    fn from(view: FactorsView) -> Self {
        let FactorsView { email, phone, totp, passkeys, recovery_codes_left, allowed, required } = view;
        let credential = |CredentialState { value, verified }| FactorCredential { value, verified };
        Self {
            email: email.map(credential),
            phone: phone.map(credential),
            totp: totp.map(|TotpState { confirmed, created_at, confirmed_at }| TotpAnswer {
                confirmed,
                created_at,
                confirmed_at,
            }),
            passkeys: passkeys.into_iter().map(PasskeyAnswer::from).collect(),
            recovery_codes_left,
            allowed,
            required,
        }
    }
}

/// A passkey as its owner sees it (no key material).
#[derive(Serialize, JsonSchema)]
pub struct PasskeyAnswer {
    pub id: String,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    /// The credential may be synced to the owner's other devices.
    pub backup_eligible: bool,
    pub backed_up: bool,
}

impl From<PasskeyView> for PasskeyAnswer {
    fn from(view: PasskeyView) -> Self {
        let PasskeyView { id, name, created_at, last_used_at, backup_eligible, backed_up } = view;
        Self { id, name, created_at, last_used_at, backup_eligible, backed_up }
    }
}

pub async fn get_factors(ctx: &Ctx<'_>) -> Result<Reply<FactorsAnswer>, Problem> {
    let tenant = ctx.tenant()?;
    let principal = ctx.principal()?;
    let view = crate::domain::factor_list::factors(ctx.app, tenant, &principal.user_id).await?;
    Ok(Reply::ok(view.into()))
}

/// `POST /v1/me/factors/totp`: what an enrollment shows once.
#[derive(Serialize, JsonSchema)]
pub struct TotpEnrolled {
    /// The secret, base32.
    #[schemars(regex(pattern = r"^[A-Z2-7]+=*$"))]
    pub secret: String,
    #[schemars(regex(pattern = r"^otpauth://totp/"))]
    pub otpauth_uri: String,
    /// A QR code of the URI, as SVG.
    pub qr_svg: String,
    pub message: String,
}

pub async fn enroll_totp(ctx: &Ctx<'_>) -> Result<Reply<TotpEnrolled>, Problem> {
    let tenant = ctx.tenant()?;
    let principal = ctx.principal()?;
    let password = step_up(ctx)?;
    let TotpEnrollment { secret, otpauth_uri, qr_svg } =
        factors::enroll_totp(ctx.app, tenant, &principal.user_id, &password).await?;
    Ok(Reply::created(TotpEnrolled { secret, otpauth_uri, qr_svg, message: message(ctx, "totp_enrolled") }))
}

/// `POST /v1/me/factors/totp/confirm`: the app is a factor now.
#[derive(Serialize, JsonSchema)]
pub struct TotpConfirmed {
    #[schemars(extend("const" = "enabled"))]
    pub totp: &'static str,
    /// The recovery codes, when the app is the user's first strong factor
    /// (shown once).
    pub recovery_codes: Option<Vec<String>>,
    pub message: String,
}

pub async fn confirm_totp(ctx: &Ctx<'_>) -> Result<Reply<TotpConfirmed>, Problem> {
    let tenant = ctx.tenant()?;
    let principal = ctx.principal()?;
    let code = ConfirmTotpBody::parse(ctx)?.code;
    let recovery_codes = factors::confirm_totp(ctx.app, tenant, &principal.user_id, &code).await?;
    let key = if recovery_codes.is_some() { "recovery_codes_created" } else { "totp_enabled" };
    Ok(Reply::ok(TotpConfirmed { totp: "enabled", recovery_codes, message: message(ctx, key) }))
}

pub async fn remove_totp(ctx: &Ctx<'_>) -> Result<Reply<Message>, Problem> {
    let principal = ctx.principal()?;
    let password = step_up(ctx)?;
    factors::remove_totp(ctx.app, &principal.user_id, &password).await?;
    Ok(Reply::ok(Message::new(ctx, "totp_removed")))
}

/// `POST /v1/me/factors/recovery-codes`: ten new codes (shown once), the
/// old ones void.
#[derive(Serialize, JsonSchema)]
pub struct RecoveryCodes {
    #[schemars(length(equal = 10))]
    pub recovery_codes: Vec<String>,
    pub message: String,
}

pub async fn regenerate_recovery_codes(ctx: &Ctx<'_>) -> Result<Reply<RecoveryCodes>, Problem> {
    let principal = ctx.principal()?;
    let password = step_up(ctx)?;
    let recovery_codes = factors::regenerate_recovery_codes(ctx.app, &principal.user_id, &password).await?;
    Ok(Reply::ok(RecoveryCodes { recovery_codes, message: message(ctx, "recovery_codes_created") }))
}

crate::body! {
    /// `POST /v1/me/passkeys`: the browser's new credential for the ceremony.
    pub struct RegisterPasskeyBody {
        ceremony_id: required Id,
        /// `PublicKeyCredential.toJSON()` of `navigator.credentials.create()`.
        credential: required WebAuthnCredential,
        /// What the owner calls it (`Laptop`); `Passkey` when absent.
        name: optional PasskeyName,
    }
}

crate::body! {
    /// `POST /v1/auth/passkey/options`: no `challenge_id` for a sign-in with
    /// a passkey alone; a login's `challenge_id` to answer its 2FA with one.
    pub struct SignInOptionsBody {
        challenge_id: optional Challenge<NoChallenge>,
    }
}

crate::body! {
    /// `POST /v1/auth/passkey`: the browser's assertion for the ceremony.
    pub struct PasskeySignInBody {
        ceremony_id: required Id,
        /// `PublicKeyCredential.toJSON()` of `navigator.credentials.get()`.
        credential: required WebAuthnCredential,
    }
}

/// A body that may be absent (`{}` then).
fn fields(ctx: &Ctx<'_>) -> Result<Fields, Problem> {
    Fields::parse(if ctx.body.is_empty() { b"{}" } else { ctx.body })
}

/// A WebAuthn ceremony's start: what `navigator.credentials.create()` or
/// `.get()` needs (through `PublicKeyCredential.parse…OptionsFromJSON`).
#[derive(Serialize, JsonSchema)]
pub struct Ceremony {
    #[schemars(regex(pattern = r"^cer_[0-9a-f]{32}$"))]
    pub ceremony_id: String,
    #[serde(rename = "publicKey")]
    #[schemars(with = "PublicKeyOptions")]
    pub public_key: serde_json::Value,
}

/// The options of `navigator.credentials`, as WebAuthn defines them.
#[derive(JsonSchema)]
#[schemars(inline, extend("additionalProperties" = true))]
pub struct PublicKeyOptions {
    pub challenge: String,
}

pub async fn begin_passkey_registration(ctx: &Ctx<'_>) -> Result<Reply<Ceremony>, Problem> {
    let tenant = ctx.tenant()?;
    let principal = ctx.principal()?;
    // The password, always: a stolen access token (even a fresh one) must
    // not add a way in that outlives a password reset.
    let proof = StepUp::Password(step_up(ctx)?);
    let (ceremony_id, public_key) = passkeys::begin_registration(ctx.app, tenant, &principal.user_id, proof).await?;
    Ok(Reply::ok(Ceremony { ceremony_id, public_key }))
}

/// `POST /v1/me/passkeys`: the passkey added.
#[derive(Serialize, JsonSchema)]
pub struct PasskeyAdded {
    pub passkey: PasskeyAnswer,
    /// The recovery codes, when the passkey is the user's first strong
    /// factor (shown once).
    pub recovery_codes: Option<Vec<String>>,
    pub message: String,
}

pub async fn finish_passkey_registration(ctx: &Ctx<'_>) -> Result<Reply<PasskeyAdded>, Problem> {
    let tenant = ctx.tenant()?;
    let principal = ctx.principal()?;
    let RegisterPasskeyBody { ceremony_id, credential, name } = RegisterPasskeyBody::parse(ctx)?;
    let Registered { passkey, recovery_codes } =
        passkeys::finish_registration(ctx.app, tenant, &principal.user_id, &ceremony_id, name, credential).await?;
    let message = message(ctx, "passkey_added");
    Ok(Reply::created(PasskeyAdded { passkey: passkey.into(), recovery_codes, message }))
}

pub async fn delete_passkey(ctx: &Ctx<'_>) -> Result<Reply<Message>, Problem> {
    let tenant = ctx.tenant()?;
    let principal = ctx.principal()?;
    let password = step_up(ctx)?;
    let id = ctx.param("id");
    let valid = id
        .strip_prefix("pk_")
        .is_some_and(|r| (1..=64).contains(&r.len()) && r.bytes().all(|b| b.is_ascii_alphanumeric()));
    if !valid {
        return Err(crate::domain::Error::PasskeyNotFound.into());
    }
    passkeys::remove(ctx.app, &principal.user_id, id, StepUp::Password(password), tenant).await?;
    Ok(Reply::ok(Message::new(ctx, "passkey_removed")))
}

pub async fn passkey_sign_in_options(ctx: &Ctx<'_>) -> Result<Reply<Ceremony>, Problem> {
    let tenant = ctx.tenant()?;
    let device = ctx.required_device()?;
    let mut f = fields(ctx)?;
    let read = SignInOptionsBody::read(&mut f, &Cx::of(ctx));
    let SignInOptionsBody { challenge_id } = SignInOptionsBody::complete(f, read)?;
    let origin = Origin { ip: &ctx.client_ip, device_id: device, device_token: None };
    let (ceremony_id, public_key) = auth::passkey_options(ctx.app, tenant, challenge_id.as_ref(), origin).await?;
    Ok(Reply::ok(Ceremony { ceremony_id, public_key }))
}

pub async fn passkey_sign_in(ctx: &Ctx<'_>) -> Result<Reply<LoginAnswer>, Problem> {
    let tenant = ctx.tenant()?;
    let device = ctx.required_device()?;
    let PasskeySignInBody { ceremony_id, credential } = PasskeySignInBody::parse(ctx)?;
    let origin = Origin { ip: &ctx.client_ip, device_id: device, device_token: None };
    let outcome = auth::sign_in_with_passkey(ctx.app, tenant, &ceremony_id, credential, origin).await?;
    Ok(super::auth::login_answer(ctx, outcome))
}
