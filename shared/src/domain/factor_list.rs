//! `GET /v1/me/factors`: every factor of the signed-in user (its address
//! and phone, the app, passkeys, recovery codes left), as the user sees
//! them: no secret, no hash.

use serde::Serialize;

use super::error::Error;
use super::ids::UserId;
use super::policy::Factor;
use super::tenant::Tenant;
use super::user::{User, load_user};
use crate::app::App;

/// A user's factors as `GET /v1/me/factors` shows them (no secret, no hash).
#[derive(Clone, Debug, Serialize)]
pub struct FactorsView {
    pub email: Option<CredentialState>,
    pub phone: Option<CredentialState>,
    pub totp: Option<TotpState>,
    pub passkeys: Vec<super::passkeys::PasskeyView>,
    pub recovery_codes_left: usize,
    /// What the tenant allows, and whether it requires a second factor.
    pub allowed: Vec<Factor>,
    pub required: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct CredentialState {
    pub value: String,
    pub verified: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct TotpState {
    pub confirmed: bool,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub confirmed_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// `GET /v1/me/factors`.
pub async fn factors(app: &App, tenant: &Tenant, user_id: &UserId) -> Result<FactorsView, Error> {
    let (user, _) = load_user(app, user_id).await?.ok_or(Error::InvalidToken)?;
    factors_of(app, tenant, &user).await
}

/// The factors of a `user` already read, as [`factors`] shows them.
pub async fn factors_of(app: &App, tenant: &Tenant, user: &User) -> Result<FactorsView, Error> {
    Ok(FactorsView {
        email: user
            .email
            .as_ref()
            .map(|email| CredentialState { value: email.to_string(), verified: user.email_verified_at.is_some() }),
        phone: user.phone.clone().map(|value| CredentialState { value, verified: user.phone_verified_at.is_some() }),
        totp: user.totp.as_ref().map(|t| TotpState {
            confirmed: t.confirmed_at.is_some(),
            created_at: t.created_at,
            confirmed_at: t.confirmed_at,
        }),
        passkeys: super::passkeys::views(app, user).await?,
        recovery_codes_left: user.recovery_codes.len(),
        allowed: tenant.policy.second_factors.allowed.clone(),
        required: tenant.policy.second_factors.required,
    })
}
