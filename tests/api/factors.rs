//! Second factors (docs/second-factors.md) end to end over HTTP on both stores:
//! the authenticator app (TOTP) checked against an RFC 6238 implementation of
//! the test's own, recovery codes, the factor chosen at login (no SMS unless
//! picked), and a tenant without SMS that requires 2FA.

use reqwest::StatusCode;
use serde_json::{Value, json};
use shared::domain::policy::{Factor, SecondFactorPolicy};
use shared::domain::tenant::{IpLimits, Policy};

use crate::common::{Answer, Api, Backend, CODE, Flows, PASSWORD, base32, totp_at};

#[test]
fn the_tests_totp_meets_rfc_6238s_vectors() {
    let secret = b"12345678901234567890";
    for (time, code) in
        [(59, "94287082"), (1_111_111_109, "07081804"), (1_234_567_890, "89005924"), (20_000_000_000, "65353130")]
    {
        assert_eq!(totp_at(secret, time, 8), code);
    }
    assert_eq!(base32("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"), secret);
}

/// A tenant whose IP limits stay out of the way (the bursts below come from
/// one address; what they test is the per-login and per-user counts).
async fn api(backend: Backend) -> Api {
    let ip_limits = IpLimits { logins_per_5_min: 10_000, ..IpLimits::default() };
    let policy = Policy { phone_required: false, sandbox_code: Some(CODE.into()), ip_limits, ..Policy::default() };
    Api::start(backend, policy).await
}

/// A tenant without SMS that requires a second factor.
async fn no_sms_api(backend: Backend) -> Api {
    let second_factors = SecondFactorPolicy {
        allowed: vec![Factor::Passkey, Factor::Totp, Factor::Email, Factor::RecoveryCode],
        required: true,
    };
    let policy = Policy { phone_required: false, sandbox_code: Some(CODE.into()), second_factors, ..Policy::default() };
    Api::start(backend, policy).await
}

/// A signed-in user and its bearer header.
struct Signed {
    email: String,
    bearer: String,
}

impl Signed {
    fn auth(&self) -> [(&str, &str); 1] {
        [("Authorization", self.bearer.as_str())]
    }
}

impl Api {
    async fn delete(&self, path: &str, body: Value, auth: &[(&str, &str)]) -> Answer {
        self.send(reqwest::Method::DELETE, path, Some(body), auth).await
    }

    /// Signs up with the e-mail alone and signs in.
    async fn signed_up(&self, email: &str) -> Signed {
        let done = self.sign_up(email).await;
        let bearer = format!("Bearer {}", done["access_token"].as_str().unwrap());
        Signed { email: email.to_owned(), bearer }
    }

    /// Enrolls and confirms the app; returns its secret and the recovery codes.
    async fn with_app(&self, user: &Signed) -> (Vec<u8>, Vec<String>) {
        let enrolled = self.post("/v1/me/factors/totp", json!({ "current_password": PASSWORD }), &user.auth()).await;
        assert_eq!(enrolled.status, StatusCode::CREATED, "{}", enrolled.body);
        let secret = base32(enrolled.body["secret"].as_str().unwrap());
        let code = totp_at(&secret, self.now().timestamp(), 6);
        let confirmed = self.post("/v1/me/factors/totp/confirm", json!({ "code": code }), &user.auth()).await;
        assert_eq!(confirmed.status, StatusCode::OK, "{}", confirmed.body);
        let codes = confirmed.body["recovery_codes"].as_array().expect("recovery codes").iter();
        (secret, codes.map(|c| c.as_str().unwrap().to_owned()).collect())
    }
}

on_both_stores!(
    api;
    an_app_is_enrolled_confirmed_and_answers_the_login_once_per_code,
    recovery_codes_sign_in_once_each_are_emailed_and_regenerate,
    a_user_with_an_app_gets_no_sms_unless_it_picks_it,
    app_codes_have_five_tries_per_login_and_fifteen_per_user,
    fifty_parallel_app_codes_spend_five_tries_and_one_right_code_signs_in_once,
    one_recovery_code_sent_fifty_times_at_once_signs_in_once,
    a_tenant_that_stops_allowing_a_users_factor_never_lets_the_password_alone_in,
    a_guesser_with_the_password_cannot_lock_the_owners_device_out,
    an_enrollment_waits_fifteen_minutes_for_its_first_code,
    an_app_made_under_an_earlier_code_key_is_no_factor_and_may_be_replaced,
);

mod no_sms {
    use super::*;

    on_both_stores!(
        no_sms_api;
        a_tenant_without_sms_requires_a_second_factor_by_email_or_app,
    );
}

async fn an_app_is_enrolled_confirmed_and_answers_the_login_once_per_code(api: Api) {
    let user = api.signed_up("app@example.com").await;
    let plain = api.login(&user.email, PASSWORD, "d1").await;
    assert!(plain.body["access_token"].is_string(), "no factor, no 2FA: {}", plain.body);

    let wrong = api.post("/v1/me/factors/totp", json!({ "current_password": "Wr0ng!Pass" }), &user.auth()).await;
    assert_eq!(wrong.body["errors"][0]["code"], "incorrect_password", "{}", wrong.body);
    let enrolled = api.post("/v1/me/factors/totp", json!({ "current_password": PASSWORD }), &user.auth()).await;
    assert_eq!(enrolled.status, StatusCode::CREATED, "{}", enrolled.body);
    let secret_text = enrolled.body["secret"].as_str().unwrap();
    let secret = base32(secret_text);
    assert_eq!(secret.len(), 20, "160 bits");
    let uri = enrolled.body["otpauth_uri"].as_str().unwrap();
    assert!(uri.starts_with("otpauth://totp/"), "{uri}");
    assert!(uri.contains(&format!("secret={secret_text}")) && uri.contains("app%40example.com"), "{uri}");
    let svg = enrolled.body["qr_svg"].as_str().unwrap();
    assert!(svg.contains("<svg") && svg.contains("</svg>"), "an SVG image");

    // Not a factor yet: the login goes on without it, and the view shows it pending.
    assert!(api.login(&user.email, PASSWORD, "d1").await.body["access_token"].is_string());
    let view = api.get("/v1/me/factors", &user.auth()).await;
    assert_eq!(
        (view.body["totp"]["confirmed"].clone(), view.body["recovery_codes_left"].clone()),
        (json!(false), json!(0))
    );
    assert!(!view.body.to_string().contains(secret_text), "the secret is never shown again");

    let bad = api.post("/v1/me/factors/totp/confirm", json!({ "code": "000000" }), &user.auth()).await;
    assert_eq!(bad.code(), "invalid_code", "{}", bad.body);
    let first = totp_at(&secret, api.now().timestamp(), 6);
    let confirmed = api.post("/v1/me/factors/totp/confirm", json!({ "code": first }), &user.auth()).await;
    assert_eq!(confirmed.status, StatusCode::OK, "{}", confirmed.body);
    let codes = confirmed.body["recovery_codes"].as_array().unwrap();
    assert_eq!(codes.len(), 10);
    assert!(codes.iter().all(|c| c.as_str().unwrap().len() == 11), "{codes:?}");
    let again = api.post("/v1/me/factors/totp", json!({ "current_password": PASSWORD }), &user.auth()).await;
    assert_eq!((again.status, again.code()), (StatusCode::CONFLICT, "totp_already_enabled"));
    let told = api.app.messages_to(&user.email);
    assert!(told.last().unwrap().to_string().contains("authenticator app was added"), "{:?}", told.last());

    // The login now asks for it, and sends nothing.
    let before = api.app.messages_to(&user.email).len();
    let login = api.login(&user.email, PASSWORD, "d1").await;
    assert_eq!(login.body["factors"], json!(["totp", "recovery_code"]), "{}", login.body);
    assert!(login.body.get("channel").is_none(), "nothing was sent: {}", login.body);
    assert_eq!(api.app.messages_to(&user.email).len(), before);
    let challenge = login.body["challenge_id"].clone();
    let replay = api.mfa(&challenge, "totp", &first, "d1").await;
    assert_eq!(replay.code(), "invalid_code", "the confirming code is spent: {}", replay.body);
    api.advance(30);
    let now_code = totp_at(&secret, api.now().timestamp(), 6);
    let body = json!({ "challenge_id": challenge, "code": now_code });
    let done = api.post("/v1/auth/mfa", body, &[("X-Device-ID", "d1")]).await;
    assert!(done.body["access_token"].is_string(), "`totp` is the default factor: {}", done.body);

    // A code is accepted once, even by another login within its step.
    let login = api.login(&user.email, PASSWORD, "d2").await;
    let replayed = api.mfa(&login.body["challenge_id"], "totp", &now_code, "d2").await;
    assert_eq!(replayed.code(), "invalid_code");
    // One step of drift either way is accepted; two are not.
    api.advance(30);
    let late = totp_at(&secret, api.now().timestamp() - 60, 6);
    assert_eq!(api.mfa(&login.body["challenge_id"], "totp", &late, "d2").await.code(), "invalid_code");
    let early = totp_at(&secret, api.now().timestamp() + 30, 6);
    let drifted = api.mfa(&login.body["challenge_id"], "totp", &early, "d2").await;
    assert!(drifted.body["access_token"].is_string(), "{}", drifted.body);
    // SMS is not among this user's factors.
    let login = api.login(&user.email, PASSWORD, "d3").await;
    let sms = api.mfa(&login.body["challenge_id"], "sms", CODE, "d3").await;
    assert_eq!(sms.body["errors"][0]["field"], "factor", "{}", sms.body);

    // Removal needs the password; then the login has no second factor again.
    let refused = api.delete("/v1/me/factors/totp", json!({ "current_password": "Wr0ng!Pass" }), &user.auth()).await;
    assert_eq!(refused.body["errors"][0]["code"], "incorrect_password", "{}", refused.body);
    let removed = api.delete("/v1/me/factors/totp", json!({ "current_password": PASSWORD }), &user.auth()).await;
    assert_eq!(removed.status, StatusCode::OK, "{}", removed.body);
    let told = api.app.messages_to(&user.email);
    assert!(told.last().unwrap().to_string().contains("authenticator app was removed"), "{:?}", told.last());
    let view = api.get("/v1/me/factors", &user.auth()).await;
    assert_eq!((view.body["totp"].clone(), view.body["recovery_codes_left"].clone()), (Value::Null, json!(0)));
    assert!(api.login(&user.email, PASSWORD, "d1").await.body["access_token"].is_string());
    let audit: Vec<String> = audit_events(&api, &user).await;
    for event in ["totp_enabled", "totp_used", "totp_removed"] {
        assert!(audit.iter().any(|e| e == event), "{event} in {audit:?}");
    }
}

/// The user's audit trail's event names, as the back office reads them.
async fn audit_events(api: &Api, user: &Signed) -> Vec<String> {
    let me = api.get("/v1/me", &user.auth()).await;
    let path = format!("/v1/users/{}/audit", me.body["user_id"].as_str().unwrap());
    let admin = format!("Bearer {}", api.app.admin_token);
    let audit = api.get(&path, &[("Authorization", admin.as_str())]).await;
    let events = audit.body["events"].as_array().unwrap_or_else(|| panic!("{}", audit.body));
    events.iter().map(|e| e["event"].as_str().unwrap().to_owned()).collect()
}

async fn recovery_codes_sign_in_once_each_are_emailed_and_regenerate(api: Api) {
    let user = api.signed_up("recover@example.com").await;
    let (_, codes) = api.with_app(&user).await;
    let mails = api.app.messages_to(&user.email).len();
    let login = api.login(&user.email, PASSWORD, "d1").await;
    // Typed in upper case and without its dash, it still counts.
    let typed = codes[0].replace('-', "").to_uppercase();
    let used = api.mfa(&login.body["challenge_id"], "recovery_code", &typed, "d1").await;
    assert!(used.body["access_token"].is_string(), "{}", used.body);
    let sent = api.app.messages_to(&user.email);
    assert_eq!(sent.len(), mails + 1, "the use is e-mailed");
    assert!(sent.last().unwrap().to_string().contains("recovery code"), "{}", sent.last().unwrap());
    let login = api.login(&user.email, PASSWORD, "d1").await;
    let reused = api.mfa(&login.body["challenge_id"], "recovery_code", &codes[0], "d1").await;
    assert_eq!(reused.code(), "invalid_code", "single use");
    let view = api.get("/v1/me/factors", &user.auth()).await;
    assert_eq!(view.body["recovery_codes_left"], 9);

    let fresh = api.post("/v1/me/factors/recovery-codes", json!({ "current_password": PASSWORD }), &user.auth()).await;
    assert_eq!(fresh.status, StatusCode::OK, "{}", fresh.body);
    let fresh: Vec<String> =
        fresh.body["recovery_codes"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_owned()).collect();
    assert_eq!(fresh.len(), 10);
    assert!(fresh.iter().all(|c| !codes.contains(c)));
    let login = api.login(&user.email, PASSWORD, "d1").await;
    let old = api.mfa(&login.body["challenge_id"], "recovery_code", &codes[1], "d1").await;
    assert_eq!(old.code(), "invalid_code", "the old codes are void");
    let new = api.mfa(&login.body["challenge_id"], "recovery_code", &fresh[1], "d1").await;
    assert!(new.body["access_token"].is_string(), "{}", new.body);
    let audit = audit_events(&api, &user).await;
    assert!(audit.iter().filter(|e| *e == "recovery_code_used").count() == 2, "{audit:?}");
    assert!(audit.iter().any(|e| e == "recovery_codes_regenerated"), "{audit:?}");

    // Without a strong factor there are none to regenerate.
    let other = api.signed_up("nocodes@example.com").await;
    let none = api.post("/v1/me/factors/recovery-codes", json!({ "current_password": PASSWORD }), &other.auth()).await;
    assert_eq!((none.status, none.code()), (StatusCode::CONFLICT, "no_strong_factor"));
}

async fn a_user_with_an_app_gets_no_sms_unless_it_picks_it(api: Api) {
    let phone = "+41791230001";
    let user = api.signed_up("choice@example.com").await;
    api.add_phone(&user.bearer, phone).await;
    let (secret, _) = api.with_app(&user).await;
    api.advance(61);
    let texts = api.app.messages_to(phone).len();
    let login = api.login(&user.email, PASSWORD, "d1").await;
    assert_eq!(login.body["factors"], json!(["totp", "sms", "recovery_code"]), "{}", login.body);
    assert_eq!(api.app.messages_to(phone).len(), texts, "no SMS is spent on a user with an app");
    let challenge = login.body["challenge_id"].clone();
    let unsent = api.mfa(&challenge, "sms", CODE, "d1").await;
    assert_eq!(unsent.code(), "invalid_code", "no SMS code was sent yet");
    let device = [("X-Device-ID", "d1")];
    let ambiguous = api.post("/v1/auth/mfa/send", json!({ "challenge_id": challenge }), &device).await;
    assert_eq!(ambiguous.status, StatusCode::ACCEPTED, "the one code factor is the default: {}", ambiguous.body);
    assert_eq!(api.app.messages_to(phone).len(), texts + 1, "sent when asked");
    let by_mail = api.post("/v1/auth/mfa/send", json!({ "challenge_id": challenge, "factor": "email" }), &device).await;
    assert_eq!(by_mail.body["errors"][0]["field"], "factor", "not offered: {}", by_mail.body);
    let done = api.mfa(&challenge, "sms", CODE, "d1").await;
    assert!(done.body["access_token"].is_string(), "{}", done.body);
    // The app still answers another login.
    api.advance(30);
    let login = api.login(&user.email, PASSWORD, "d2").await;
    let code = totp_at(&secret, api.now().timestamp(), 6);
    assert!(api.mfa(&login.body["challenge_id"], "totp", &code, "d2").await.body["access_token"].is_string());
}

async fn app_codes_have_five_tries_per_login_and_fifteen_per_user(api: Api) {
    let user = api.signed_up("tries@example.com").await;
    let (secret, _) = api.with_app(&user).await;
    api.advance(30);
    let login = api.login(&user.email, PASSWORD, "d1").await;
    for _ in 0..5 {
        assert_eq!(api.mfa(&login.body["challenge_id"], "totp", "000000", "d1").await.code(), "invalid_code");
    }
    let right = totp_at(&secret, api.now().timestamp(), 6);
    let spent = api.mfa(&login.body["challenge_id"], "totp", &right, "d1").await;
    assert_eq!(spent.code(), "invalid_code", "the login's tries are spent: {}", spent.body);
    // Across logins the user has 15 tries in 15 minutes (5 spent so far;
    // the enrollment's confirmation has an allowance of its own).
    let mut answers = Vec::new();
    for n in 0..3 {
        let login = api.login(&user.email, PASSWORD, &format!("d{n}")).await;
        for _ in 0..4 {
            answers
                .push(api.mfa(&login.body["challenge_id"], "totp", "000000", &format!("d{n}")).await.code().to_owned());
        }
    }
    assert_eq!(answers.iter().filter(|c| *c == "invalid_code").count(), 10, "{answers:?}");
    assert!(answers[10..].iter().all(|c| c == "rate_limited"), "{answers:?}");
    api.advance(15 * 60);
    let login = api.login(&user.email, PASSWORD, "d9").await;
    let right = totp_at(&secret, api.now().timestamp(), 6);
    assert!(api.mfa(&login.body["challenge_id"], "totp", &right, "d9").await.body["access_token"].is_string());
}

async fn fifty_parallel_app_codes_spend_five_tries_and_one_right_code_signs_in_once(api: Api) {
    let user = api.signed_up("burst@example.com").await;
    let (secret, _) = api.with_app(&user).await;
    api.advance(30);
    // 50 wrong guesses at once: five are compared, the rest refused alike,
    // and the right code after them no longer works for this login.
    let login = api.login(&user.email, PASSWORD, "d1").await;
    let challenge = login.body["challenge_id"].clone();
    let guesses = (0..50).map(|n| {
        let code = format!("{:06}", 100_000 + n);
        let api = &api;
        let challenge = challenge.clone();
        async move { api.mfa(&challenge, "totp", &code, "d1").await }
    });
    let answers = futures::future::join_all(guesses).await;
    let right = totp_at(&secret, api.now().timestamp(), 6);
    let codes: Vec<&str> = answers.iter().map(|a| a.code()).collect();
    assert!(answers.iter().all(|a| a.code() == "invalid_code" || a.body["access_token"].is_string()), "{codes:?}");
    let late = api.mfa(&challenge, "totp", &right, "d1").await;
    let signed_in = answers.iter().filter(|a| a.body["access_token"].is_string()).count();
    assert!(signed_in <= 1, "at most a lucky guess");
    if signed_in == 0 {
        assert_eq!(late.code(), "invalid_code", "the tries are spent: {}", late.body);
    }
    // The right code sent 50 times at once (on a fresh login and step):
    // exactly one sign-in.
    api.advance(15 * 60);
    let login = api.login(&user.email, PASSWORD, "d2").await;
    let challenge = login.body["challenge_id"].clone();
    let right = totp_at(&secret, api.now().timestamp(), 6);
    let same = (0..50).map(|_| api.mfa(&challenge, "totp", &right, "d2"));
    let answers = futures::future::join_all(same).await;
    let tokens = answers.iter().filter(|a| a.body["access_token"].is_string()).count();
    assert_eq!(tokens, 1, "{:?}", answers.iter().map(|a| a.code().to_owned()).collect::<Vec<_>>());
    assert!(answers.iter().all(|a| a.body["access_token"].is_string() || a.code() == "invalid_code"));
}

/// One recovery code, sent 50 times at once over ten logins: it is used
/// once (one session, one fewer code), whatever the store.
async fn one_recovery_code_sent_fifty_times_at_once_signs_in_once(api: Api) {
    let user = api.signed_up("once@example.com").await;
    let (_, codes) = api.with_app(&user).await;
    let mut challenges = Vec::new();
    for n in 0..10 {
        let login = api.login(&user.email, PASSWORD, &format!("r{n}")).await;
        challenges.push((login.body["challenge_id"].clone(), format!("r{n}")));
    }
    let (api, code) = (&api, codes[0].as_str());
    let sends = challenges
        .iter()
        .flat_map(|(challenge, device)| std::iter::repeat_n((challenge, device.as_str()), 5))
        .map(|(challenge, device)| api.mfa(challenge, "recovery_code", code, device));
    let answers = futures::future::join_all(sends).await;
    let signed_in = answers.iter().filter(|a| a.body["access_token"].is_string()).count();
    let refused: Vec<&str> = answers.iter().map(|a| a.code()).filter(|c| !c.is_empty()).collect();
    assert_eq!(signed_in, 1, "{refused:?}");
    assert!(refused.iter().all(|c| *c == "invalid_code" || *c == "rate_limited"), "{refused:?}");
    let view = api.get("/v1/me/factors", &user.auth()).await;
    assert_eq!(view.body["recovery_codes_left"], 9);
}

async fn a_tenant_without_sms_requires_a_second_factor_by_email_or_app(api: Api) {
    let phone = "+41791230002";
    let user = api.signed_up("nosms@example.com").await;
    // A verified phone is still no SMS factor here.
    api.add_phone(&user.bearer, phone).await;
    api.advance(61);
    let texts = api.app.messages_to(phone).len();
    let login = api.login(&user.email, PASSWORD, "d1").await;
    assert_eq!(login.body["factors"], json!(["email"]), "{}", login.body);
    assert_eq!(login.body["channel"], "email", "the one factor is sent at once");
    let mfa_sms = api.mfa(&login.body["challenge_id"], "sms", CODE, "d1").await;
    assert_eq!(mfa_sms.body["errors"][0]["field"], "factor");
    let done = api.mfa(&login.body["challenge_id"], "email", CODE, "d1").await;
    assert!(done.body["access_token"].is_string(), "{}", done.body);
    let (secret, _) = api.with_app(&user).await;
    api.advance(61);
    let login = api.login(&user.email, PASSWORD, "d1").await;
    assert_eq!(login.body["factors"], json!(["totp", "recovery_code"]), "{}", login.body);
    let code = totp_at(&secret, api.now().timestamp(), 6);
    assert!(api.mfa(&login.body["challenge_id"], "totp", &code, "d1").await.body["access_token"].is_string());
    assert_eq!(api.app.messages_to(phone).len(), texts, "no SMS at all for sign-in");
    let view = api.get("/v1/me/factors", &user.auth()).await;
    assert_eq!(view.body["required"], true);
    assert_eq!(view.body["allowed"], json!(["passkey", "totp", "email", "recovery_code"]));
}

async fn a_tenant_that_stops_allowing_a_users_factor_never_lets_the_password_alone_in(api: Api) {
    let phone = "+41791230003";
    let user = api.signed_up("policy@example.com").await;
    api.add_phone(&user.bearer, phone).await;
    let mut tenant = api.app.tenant.clone();
    tenant.policy.second_factors.allowed = vec![Factor::Totp, Factor::Email, Factor::RecoveryCode];
    shared::domain::tenant::save_tenant(api.app.app.store.as_ref(), &tenant).await.unwrap();
    api.advance(61); // past the instance's policy cache
    let login = api.login(&user.email, PASSWORD, "d1").await;
    assert_eq!(login.body["factors"], json!(["email"]), "SMS gone, the e-mail code instead: {}", login.body);
    assert!(api.mfa(&login.body["challenge_id"], "email", CODE, "d1").await.body["access_token"].is_string());
    tenant.policy.second_factors.allowed = vec![Factor::Totp];
    shared::domain::tenant::save_tenant(api.app.app.store.as_ref(), &tenant).await.unwrap();
    api.advance(61);
    let refused = api.login(&user.email, PASSWORD, "d1").await;
    assert_eq!((refused.status, refused.code()), (StatusCode::FORBIDDEN, "mfa_unavailable"), "{}", refused.body);
    // A user who never had 2FA signs in as before.
    let plain = api.signed_up("plain@example.com").await;
    assert!(api.login(&plain.email, PASSWORD, "d1").await.body["access_token"].is_string());
}

async fn a_guesser_with_the_password_cannot_lock_the_owners_device_out(api: Api) {
    let user = api.signed_up("owner@example.com").await;
    let (secret, _) = api.with_app(&user).await;
    api.advance(30);
    // The owner signs in once on its phone: that device gets a device token.
    let login = api.login(&user.email, PASSWORD, "phone").await;
    let code = totp_at(&secret, api.now().timestamp(), 6);
    let owner = api.mfa(&login.body["challenge_id"], "totp", &code, "phone").await;
    let cookie = format!("registrar_device={}", owner.body["device_token"].as_str().expect("a device token"));
    // A guesser elsewhere spends the user's shared allowance.
    let mut last = String::new();
    for n in 0..4 {
        let login = api.login(&user.email, PASSWORD, &format!("x{n}")).await;
        for _ in 0..5 {
            last = api.mfa(&login.body["challenge_id"], "totp", "000000", &format!("x{n}")).await.code().to_owned();
        }
    }
    assert_eq!(last, "rate_limited", "the shared allowance is spent");
    api.advance(30);
    let owners = [("X-Device-ID", "phone"), ("Cookie", cookie.as_str())];
    let login = api.post("/v1/auth/login", json!({ "username": user.email, "password": PASSWORD }), &owners).await;
    let code = totp_at(&secret, api.now().timestamp(), 6);
    let body = json!({ "challenge_id": login.body["challenge_id"], "factor": "totp", "code": code });
    let again = api.post("/v1/auth/mfa", body, &owners).await;
    assert!(again.body["access_token"].is_string(), "the owner's device has its own: {}", again.body);
    let audit = audit_events(&api, &user).await;
    // 15 tries in all: the owner's first sign-in, then 14 audited failures.
    assert_eq!(audit.iter().filter(|e| *e == "mfa_failed").count(), 14, "{audit:?}");
}

async fn an_enrollment_waits_fifteen_minutes_for_its_first_code(api: Api) {
    let user = api.signed_up("late@example.com").await;
    let enrolled = api.post("/v1/me/factors/totp", json!({ "current_password": PASSWORD }), &user.auth()).await;
    let secret = base32(enrolled.body["secret"].as_str().unwrap());
    api.advance(15 * 60 + 1);
    // Signed in again (the access token has expired meanwhile).
    let tokens = api.login(&user.email, PASSWORD, "d1").await;
    let user =
        Signed { email: user.email, bearer: format!("Bearer {}", tokens.body["access_token"].as_str().unwrap()) };
    let code = totp_at(&secret, api.now().timestamp(), 6);
    let late = api.post("/v1/me/factors/totp/confirm", json!({ "code": code }), &user.auth()).await;
    assert_eq!((late.status, late.code()), (StatusCode::CONFLICT, "totp_not_enrolled"), "{}", late.body);
    api.with_app(&user).await;
}

/// After the code secret is rotated, an app (and recovery codes) made
/// under the old one compute nothing right: the login falls back to the
/// e-mailed code instead of refusing every code, and the user enrolls again.
async fn an_app_made_under_an_earlier_code_key_is_no_factor_and_may_be_replaced(api: Api) {
    let user = api.signed_up("rotated@example.com").await;
    let (_, codes) = api.with_app(&user).await;
    let me = api.get("/v1/me", &user.auth()).await;
    let key =
        shared::table::user_key(&shared::domain::ids::UserId::parse(me.body["user_id"].as_str().unwrap()).unwrap());
    let item = api.app.app.store.get(&key).await.unwrap().unwrap();
    let mut body = item.body.clone();
    body["totp"]["key_id"] = json!("00000000");
    let stale: Vec<Value> = body["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| json!(format!("00000000:{}", h.as_str().unwrap().split_once(':').unwrap().1)))
        .collect();
    body["recovery_codes"] = json!(stale);
    let version = shared::ports::Condition::Version(item.version);
    api.app.app.store.put(shared::ports::Item::new(key, body, None), version).await.unwrap();
    api.advance(61);
    let login = api.login(&user.email, PASSWORD, "d1").await;
    assert_eq!(login.body["factors"], json!(["email"]), "the e-mailed code instead: {}", login.body);
    let by_code = api.mfa(&login.body["challenge_id"], "recovery_code", &codes[0], "d1").await;
    assert_eq!(by_code.body["errors"][0]["field"], "factor", "the old codes are not offered: {}", by_code.body);
    let signed = api.mfa(&login.body["challenge_id"], "email", CODE, "d1").await;
    let bearer = format!("Bearer {}", signed.body["access_token"].as_str().expect("tokens"));
    let user = Signed { email: user.email, bearer };
    let (secret, fresh) = api.with_app(&user).await;
    assert_eq!(fresh.len(), 10, "new recovery codes with the new enrollment");
    api.advance(30);
    let login = api.login(&user.email, PASSWORD, "d1").await;
    assert_eq!(login.body["factors"], json!(["totp", "recovery_code"]), "{}", login.body);
    let code = totp_at(&secret, api.now().timestamp(), 6);
    assert!(api.mfa(&login.body["challenge_id"], "totp", &code, "d1").await.body["access_token"].is_string());
}

#[test]
fn requiring_two_factors_needs_the_email_factor() {
    let second_factors = SecondFactorPolicy { allowed: vec![Factor::Totp], required: true };
    let problems = Policy { second_factors, ..Policy::default() }.problems();
    assert!(problems.iter().any(|p| p.contains("second_factors.required")), "{problems:?}");
}
