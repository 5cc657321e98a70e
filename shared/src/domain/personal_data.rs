//! `GET /v1/me/export`: everything Registrar holds of the signed-in user, as
//! one document (GDPR Art. 15, access, and Art. 20, portability): the
//! profile and credentials, the consents with the versions accepted, the
//! live sessions, the factors without their secrets, and the audit trail.
//! Never a hash, code, token, TOTP secret or recovery code: each part is a
//! view the user already sees elsewhere (`GET /v1/me`, `/v1/me/sessions`,
//! `/v1/me/factors`), or the trail's entries, which hold none.
//!
//! The trail is the one part that grows: one answer reads at most
//! [`AUDIT_PAGES`] store pages of [`AUDIT_PAGE`] events (1,000 events, ten
//! queries), newest first, and hands on the rest as `next` (passed back as
//! `before`), so one request costs the same however long the trail is.

use chrono::{DateTime, Utc};

use super::error::Error;
use super::factor_list::{FactorsView, factors_of};
use super::ids::{SessionId, UserId};
use super::me::Profile;
use super::paging::Cursor;
use super::sessions::{SessionView, list_of};
use super::tenant::Tenant;
use super::user::load_user;
use crate::app::App;
use crate::table::{self, Acceptance, AuditEntry, audit_of};

/// Events one store query of the trail reads.
pub const AUDIT_PAGE: usize = 100;
/// Store queries of the trail one export makes at most.
pub const AUDIT_PAGES: usize = 10;

/// The user's consents: the documents accepted (which version, when) and
/// the consent to the processing of personal data the back office recorded.
#[derive(Clone, Debug)]
pub struct Consents {
    pub terms: Option<Acceptance>,
    pub privacy: Option<Acceptance>,
    pub personal_data_consent_at: Option<DateTime<Utc>>,
}

/// The signed-in user's data.
#[derive(Clone, Debug)]
pub struct PersonalData {
    pub exported_at: DateTime<Utc>,
    pub profile: Profile,
    /// When the address and the phone were verified.
    pub email_verified_at: Option<DateTime<Utc>>,
    pub phone_verified_at: Option<DateTime<Utc>>,
    pub consents: Consents,
    pub sessions: Vec<SessionView>,
    pub factors: FactorsView,
    /// The trail, newest first, from `before` on (at most
    /// `AUDIT_PAGE * AUDIT_PAGES` events).
    pub audit: Vec<AuditEntry>,
    /// Where the trail goes on, when it does: the next call's `before`.
    pub audit_next: Option<String>,
}

/// The data of `user_id` (the caller, on `current`), its trail from
/// `before` on.
pub async fn export(
    app: &App,
    tenant: &Tenant,
    user_id: &UserId,
    current: &SessionId,
    before: Option<&Cursor>,
) -> Result<PersonalData, Error> {
    let (pk, prefix) = audit_of(user_id);
    let mut start = before.map(|cursor| cursor.start_after(prefix, "before")).transpose()?.map(str::to_owned);
    let (user, _) = load_user(app, user_id).await?.ok_or(Error::InvalidToken)?;
    if !user.is_active() {
        return Err(Error::InvalidToken);
    }
    let (sessions, factors) = tokio::join!(list_of(app, tenant, &user, current), factors_of(app, tenant, &user));
    let mut audit = Vec::new();
    let mut audit_next = None;
    for _ in 0..AUDIT_PAGES {
        let page = app.store.query(&pk, prefix, true, start.as_deref(), AUDIT_PAGE).await?;
        for item in page.items {
            audit.push(table::decode::<AuditEntry>(item)?);
        }
        start = page.last_evaluated;
        if start.is_none() {
            break;
        }
    }
    if let Some(stopped) = start {
        audit_next = Some(Cursor::encode(&stopped));
    }
    Ok(PersonalData {
        exported_at: app.clock.now(),
        profile: Profile::from(&user),
        email_verified_at: user.email_verified_at,
        phone_verified_at: user.phone_verified_at,
        consents: Consents {
            terms: user.terms.clone(),
            privacy: user.privacy.clone(),
            personal_data_consent_at: user.personal_data_consent_at,
        },
        sessions: sessions?,
        factors: factors?,
        audit,
        audit_next,
    })
}
