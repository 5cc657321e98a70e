//! The second factor: which one a login asks for (and whether a code goes
//! out at once), and `POST /v1/auth/mfa`, which hands the answer to the
//! factor's module ([`super::sent_code`], [`super::app_code`]; a passkey
//! answers through [`super::with_passkey`]).

use super::sent_code::{Sent, code_destination, pending_mfa, send_mfa_code};
use super::{LoginOutcome, LoginVia, Origin, challenge_factors, load_challenge, new_challenge};
use crate::app::App;
use crate::domain::error::Error;
use crate::domain::ids::ChallengeId;
use crate::domain::limits;
use crate::domain::policy::Factor;
use crate::domain::tenant::Tenant;
use crate::domain::user::User;
use crate::ports::{Condition, Write};
use crate::table::{self, ChallengeKind, Record};

/// Starts the second factor. A user with an app (or a passkey) gets a
/// challenge listing its factors and no code: SMS or e-mail only go out if
/// the client picks them (`POST /v1/auth/mfa/send`). A user whose one
/// factor is a sent code gets it at once, sent to the credential the login
/// did not name. A login again within the code's cooldown (an abandoned
/// attempt, a second tab) gets the challenge still pending for the user on
/// that device back, and no new code; with none pending (signed out and in
/// again, another device), a challenge without a code, listing the factors
/// the login offers (an app or a passkey answer at once) and when a text
/// may be sent again (`POST /v1/auth/mfa/send`). The cooldown itself is never a 429 here: the owner
/// did nothing wrong.
pub(super) async fn start(
    app: &App,
    tenant: &Tenant,
    user: &User,
    via: &LoginVia<'_>,
    mut writes: Vec<Write>,
    offered: Vec<Factor>,
) -> Result<LoginOutcome, Error> {
    let sent = offered.iter().copied().find(|f| f.is_sent());
    let strong = offered.iter().any(|f| matches!(f, Factor::Totp | Factor::Passkey));
    let Some(sent) = sent.filter(|_| !strong) else {
        let mut challenge = new_challenge(app, tenant, user, via, ChallengeKind::Mfa);
        challenge.factors = offered.clone();
        writes.push(Write::Put { item: challenge.item()?, condition: Condition::NotExists });
        table::commit(app.store.as_ref(), writes).await?;
        return Ok(LoginOutcome::Mfa {
            challenge_id: challenge.id,
            factors: offered,
            channel: None,
            retry_after: None,
        });
    };
    let channel = sent.as_str();
    let (destination, _) = code_destination(tenant, user, channel);
    let subject = limits::destination(app, &tenant.id, &destination)?;
    let cooldown_secs = tenant.policy.codes.resend_cooldown_secs;
    // The destination's cooldown starts in the same write as the challenge
    // and the sends' counts.
    let mut challenge = new_challenge(app, tenant, user, via, ChallengeKind::Mfa);
    challenge.factors = offered.clone();
    challenge.channel = Some(channel.into());
    let id = challenge.id.clone();
    let cooldown = limits::cooldown_write(app, "mfa-dest", &subject, cooldown_secs);
    match send_mfa_code(app, tenant, user, challenge, Condition::NotExists, writes.clone(), Some(cooldown)).await? {
        Sent::Sent => {
            return Ok(LoginOutcome::Mfa {
                challenge_id: id,
                factors: offered,
                channel: Some(channel),
                retry_after: None,
            });
        }
        Sent::CoolingDown => {}
    }
    let retry_after = limits::cooldown_left(app, "mfa-dest", &subject).await?;
    if let Some(pending) = pending_mfa(app, tenant, user, via.device_id, channel).await? {
        if !writes.is_empty() {
            table::commit(app.store.as_ref(), writes).await?;
        }
        let challenge_id = pending;
        return Ok(LoginOutcome::Mfa { challenge_id, factors: offered, channel: Some(channel), retry_after: None });
    }
    // Exactly the factors the login offers: adding the e-mail's code
    // here would let whoever holds the inbox (and the password)
    // answer for an SMS-protected account.
    let mut challenge = new_challenge(app, tenant, user, via, ChallengeKind::Mfa);
    challenge.factors = offered.clone();
    writes.push(Write::Put { item: challenge.item()?, condition: Condition::NotExists });
    table::commit(app.store.as_ref(), writes).await?;
    let (challenge_id, retry_after) = (challenge.id, Some(retry_after));
    Ok(LoginOutcome::Mfa { challenge_id, factors: offered, channel: None, retry_after })
}

/// The second factor: a code of one of the factors the login offered
/// (`factor`; by default the one a code was sent by, else the app).
/// Limited per IP (like the login), per challenge (its tries) and, for app
/// and recovery codes, per user across logins.
pub async fn verify_mfa(
    app: &App,
    tenant: &Tenant,
    challenge_id: &ChallengeId,
    factor: Option<Factor>,
    code: &str,
    origin: Origin<'_>,
) -> Result<LoginOutcome, Error> {
    // The caller's address is counted in every answer; for a code sent by
    // SMS or e-mail in the same write as the code's try.
    let gate = super::ip_gate(tenant, app, &origin, "mfa-ip");
    let device_id = origin.device_id;
    // A challenge that is gone (spent by the right code, expired) answers
    // like a wrong code: during a burst, the requests after a success must
    // not look different from those before it.
    let (challenge, version) = match load_challenge(app, tenant, challenge_id, ChallengeKind::Mfa, device_id).await {
        Ok(found) => found,
        Err(err) => {
            gate.pass(app).await?;
            return Err(if err == Error::ChallengeNotFound { Error::InvalidCode } else { err });
        }
    };
    let offered = challenge_factors(&challenge);
    let factor = factor
        .or_else(|| challenge.channel.as_deref().and_then(Factor::parse))
        .or_else(|| offered.iter().copied().find(|f| *f == Factor::Totp));
    let factor = match factor {
        Some(factor) if offered.contains(&factor) && factor != Factor::Passkey => factor,
        chosen => {
            gate.pass(app).await?;
            let problem = if chosen.is_none() { "required" } else { "invalid_choice" };
            return Err(Error::field("factor", problem));
        }
    };
    if factor.is_sent() {
        super::sent_code::verify(app, tenant, challenge, version, factor, code, device_id, gate).await
    } else {
        gate.pass(app).await?;
        super::app_code::verify(app, tenant, challenge, version, factor, code, origin).await
    }
}
