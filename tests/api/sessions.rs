//! The signed-in user's sessions (docs/sessions-and-keys.md; ASVS 3.3.4) end to
//! end over HTTP, every case on the in-memory store and on DynamoDB (moto):
//! `GET /v1/me/sessions`, `DELETE /v1/me/sessions/{id}` and the refresh's idle
//! timeout (`refresh.idle_timeout_secs`). Time moves only through the injected
//! clock.

use chrono::{DateTime, Duration, Utc};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use shared::domain::ids::{SessionId, UserId};
use shared::domain::policy::RefreshPolicy;
use shared::domain::tenant::{IpLimits, Policy};
use shared::ports::{Condition, Item};
use shared::table::session_key;

use crate::common::{Answer, Api, Backend, CODE, Flows, PASSWORD};

/// The tenant's idle timeout in these tests: one hour.
const IDLE_SECS: i64 = 3600;

/// A tenant with a one-hour idle timeout (IP limits out of the way: every
/// request comes from one address).
async fn api(backend: Backend) -> Api {
    let policy = Policy {
        phone_required: false,
        sandbox_code: Some(CODE.into()),
        refresh: RefreshPolicy { idle_timeout_secs: IDLE_SECS },
        ip_limits: IpLimits { logins_per_5_min: 10_000, ..IpLimits::default() },
        ..Policy::default()
    };
    Api::start(backend, policy).await
}

/// One sign-in of a user on one device.
struct Device {
    name: &'static str,
    user_id: String,
    session_id: String,
    access: String,
    refresh: String,
}

impl Device {
    fn bearer(&self) -> String {
        format!("Bearer {}", self.access)
    }
}

/// The session id a refresh token names (`<user>.<session>.<secret>`).
fn session_of(refresh_token: &str) -> String {
    refresh_token.split('.').nth(1).expect("a refresh token names its session").to_owned()
}

fn time(value: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(value.as_str().unwrap_or_else(|| panic!("a time: {value}"))).unwrap().to_utc()
}

impl Api {
    async fn signed_in(&self, email: &str, device: &'static str) -> Device {
        let answer = self.login(email, PASSWORD, device).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        let refresh = answer.body["refresh_token"].as_str().expect("tokens").to_owned();
        Device {
            name: device,
            user_id: answer.body["user_id"].as_str().unwrap().to_owned(),
            session_id: session_of(&refresh),
            access: answer.body["access_token"].as_str().unwrap().to_owned(),
            refresh,
        }
    }

    /// Refreshes `device`'s tokens; on success it holds the new ones.
    async fn refresh_device(&self, device: &mut Device) -> Answer {
        let answer = self.refresh(&device.refresh, device.name).await;
        if answer.status == StatusCode::OK {
            device.refresh = answer.body["refresh_token"].as_str().unwrap().to_owned();
            device.access = answer.body["access_token"].as_str().unwrap().to_owned();
        }
        answer
    }

    async fn sessions(&self, device: &Device) -> Answer {
        self.get("/v1/me/sessions", &[("Authorization", &device.bearer())]).await
    }

    /// The session listed under `id` in `device`'s list (`Null` if none).
    async fn listed(&self, device: &Device, id: &str) -> Value {
        let list = self.sessions(device).await;
        assert_eq!(list.status, StatusCode::OK, "{}", list.body);
        list.body["sessions"].as_array().unwrap().iter().find(|s| s["id"] == id).cloned().unwrap_or(Value::Null)
    }

    async fn end(&self, device: &Device, id: &str) -> Answer {
        let auth = device.bearer();
        self.send(Method::DELETE, &format!("/v1/me/sessions/{id}"), None, &[("Authorization", &auth)]).await
    }
}

on_both_stores!(
    api;
    a_user_lists_its_live_sessions_and_ends_another_devices,
    no_user_reaches_another_users_session,
    ending_the_own_session_is_a_logout,
    an_idle_session_cannot_refresh_while_a_used_one_can,
    a_session_stored_before_last_used_at_counts_from_its_sign_in,
);

async fn a_user_lists_its_live_sessions_and_ends_another_devices(api: Api) {
    api.sign_up("anna@example.com").await;
    api.advance(1);
    let mut phone = api.signed_in("anna@example.com", "phone").await;
    api.advance(1);
    let mut laptop = api.signed_in("anna@example.com", "laptop").await;
    let other_user = {
        api.sign_up("otto@example.com").await;
        api.signed_in("otto@example.com", "otto-phone").await
    };

    let list = api.sessions(&laptop).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    assert_eq!(list.headers["cache-control"], "no-store", "personal data");
    let sessions = list.body["sessions"].as_array().unwrap();
    // The sign-up's session (no device yet), the phone's and the laptop's;
    // none of Otto's.
    assert_eq!(sessions.len(), 3, "{}", list.body);
    assert!(sessions.iter().all(|s| s["id"] != other_user.session_id.as_str()), "{}", list.body);
    let used_last_first: Vec<&str> = sessions.iter().map(|s| s["device_id"].as_str().unwrap_or("-")).collect();
    assert_eq!(used_last_first, ["laptop", "phone", "-"], "the most recently used first: {}", list.body);
    let by_device = |device: &Device| sessions.iter().find(|s| s["id"] == device.session_id.as_str()).unwrap();
    assert_eq!((&by_device(&laptop)["current"], &by_device(&laptop)["device_id"]), (&json!(true), &json!("laptop")));
    assert_eq!((&by_device(&phone)["current"], &by_device(&phone)["device_id"]), (&json!(false), &json!("phone")));
    assert_eq!(sessions.iter().filter(|s| s["current"] == true).count(), 1);
    let signed_in = time(&by_device(&phone)["created_at"]);
    assert_eq!(time(&by_device(&phone)["last_used_at"]), signed_in, "used when it opened");
    assert_eq!(time(&by_device(&phone)["expires_at"]), signed_in + Duration::days(14), "the absolute lifetime");
    // Seen from the phone, the phone's is the current one.
    assert_eq!(api.listed(&phone, &phone.session_id).await["current"], true);
    assert_eq!(api.listed(&phone, &laptop.session_id).await["current"], false);

    // The laptop ends the phone's session: its refresh and its access token
    // stop at once; the laptop's keep working.
    let ended = api.end(&laptop, &phone.session_id).await;
    assert_eq!(ended.status, StatusCode::OK, "{}", ended.body);
    assert!(ended.body["message"].is_string(), "{}", ended.body);
    assert!(ended.headers.get("set-cookie").is_none(), "the caller's own cookie stays");
    let refused = api.refresh_device(&mut phone).await;
    assert_eq!((refused.status, refused.code()), (StatusCode::UNAUTHORIZED, "invalid_token"));
    assert_eq!(api.me(&phone.access).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(api.sessions(&phone).await.code(), "invalid_token");
    assert_eq!(api.me(&laptop.access).await.status, StatusCode::OK);
    assert_eq!(api.refresh_device(&mut laptop).await.status, StatusCode::OK);
    assert_eq!(api.listed(&laptop, &phone.session_id).await, Value::Null, "no longer listed");
    let events = api.audit(&laptop.user_id).await;
    let audited = events.iter().find(|e| e["event"] == "session_ended").expect("audited");
    assert_eq!(audited["detail"], json!({ "session_id": phone.session_id, "current": false }));

    // Again: it is gone.
    let again = api.end(&laptop, &phone.session_id).await;
    assert_eq!((again.status, again.code()), (StatusCode::NOT_FOUND, "session_not_found"));
    // Unknown, and malformed, ids.
    let unknown = api.end(&laptop, "ses_0192f0a1b2c3d4e5f60718293a4b5c6d").await;
    assert_eq!((unknown.status, unknown.code()), (StatusCode::NOT_FOUND, "session_not_found"));
    for malformed in ["usr_0192f0a1b2c3d4e5f60718293a4b5c6d", "ses_a.b", "ses_", "x"] {
        let answer = api.end(&laptop, malformed).await;
        assert_eq!((answer.status, answer.code()), (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed"));
        assert_eq!(answer.body["errors"][0]["field"], "id", "{}", answer.body);
        assert_eq!(answer.body["errors"][0]["code"], "invalid_id", "{}", answer.body);
    }
    assert_eq!(api.me(&laptop.access).await.status, StatusCode::OK, "none of that touched the caller");
}

async fn no_user_reaches_another_users_session(api: Api) {
    api.sign_up("eve@example.com").await;
    let eve = api.signed_in("eve@example.com", "eve-laptop").await;
    api.sign_up("bob@example.com").await;
    let mut bob = api.signed_in("bob@example.com", "bob-phone").await;

    // Eve names Bob's session: the same 404 as for an unknown id.
    let refused = api.end(&eve, &bob.session_id).await;
    let unknown = api.end(&eve, "ses_0192f0a1b2c3d4e5f60718293a4b5c6d").await;
    assert_eq!((refused.status, refused.code()), (StatusCode::NOT_FOUND, "session_not_found"));
    let strip = |answer: &Answer| {
        let mut body = answer.body.clone();
        body.as_object_mut().unwrap().remove("request_id");
        body
    };
    assert_eq!(strip(&refused), strip(&unknown), "nothing tells an existing session of another user apart");
    // Bob's session lives on, and Eve's list never shows it.
    assert_eq!(api.me(&bob.access).await.status, StatusCode::OK);
    assert_eq!(api.refresh_device(&mut bob).await.status, StatusCode::OK);
    assert_eq!(api.listed(&eve, &bob.session_id).await, Value::Null);
    assert!(!api.audit(&bob.user_id).await.iter().any(|e| e["event"] == "session_ended"));
}

async fn ending_the_own_session_is_a_logout(api: Api) {
    api.sign_up("own@example.com").await;
    let mut tablet = api.signed_in("own@example.com", "tablet").await;
    let desktop = api.signed_in("own@example.com", "desktop").await;
    let ended = api.end(&tablet, &tablet.session_id).await;
    assert_eq!(ended.status, StatusCode::OK, "{}", ended.body);
    let cookie = ended.headers["set-cookie"].to_str().unwrap();
    assert!(cookie.starts_with("refresh_token=;") && cookie.contains("Max-Age=0"), "cleared: {cookie}");
    assert_eq!(api.me(&tablet.access).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(api.refresh_device(&mut tablet).await.code(), "invalid_token");
    assert_eq!(api.me(&desktop.access).await.status, StatusCode::OK, "only that session ended");
    let events = api.audit(&tablet.user_id).await;
    let audited = events.iter().find(|e| e["event"] == "session_ended").expect("audited");
    assert_eq!(audited["detail"]["current"], true);
}

async fn an_idle_session_cannot_refresh_while_a_used_one_can(api: Api) {
    let signed_up = api.sign_up("idle@example.com").await;
    let sign_up_session = session_of(signed_up["refresh_token"].as_str().unwrap());
    let mut idle = api.signed_in("idle@example.com", "drawer").await;
    let mut used = api.signed_in("idle@example.com", "pocket").await;
    let opened = api.now();

    // Within the timeout both refresh; last_used_at follows the refresh,
    // created_at stays.
    api.advance(IDLE_SECS - 600);
    assert_eq!(api.refresh_device(&mut used).await.status, StatusCode::OK);
    let listed = api.listed(&used, &used.session_id).await;
    assert_eq!((time(&listed["created_at"]), time(&listed["last_used_at"])), (opened, api.now()), "{listed}");
    assert_eq!(time(&api.listed(&used, &idle.session_id).await["last_used_at"]), opened);

    // Exactly the timeout since the last use is not past it.
    api.advance(600);
    assert_eq!(api.refresh_device(&mut idle).await.status, StatusCode::OK, "an hour to the second");
    let used_at = api.now();

    // One second past the timeout: the refresh fails like an expired
    // session, and the session is gone (its access token with it), while
    // the one refreshed within the hour goes on.
    api.advance(IDLE_SECS - 600);
    assert_eq!(api.refresh_device(&mut used).await.status, StatusCode::OK);
    api.advance(601);
    let refused = api.refresh_device(&mut idle).await;
    assert_eq!((refused.status, refused.code()), (StatusCode::UNAUTHORIZED, "invalid_token"), "{}", refused.body);
    let (user, session) = (UserId::parse(&idle.user_id).unwrap(), SessionId::parse(&idle.session_id).unwrap());
    assert_eq!(api.app.app.store.get(&session_key(&user, &session)).await.unwrap(), None, "the session ended");
    let events = api.audit(&idle.user_id).await;
    let audited = events.iter().find(|e| e["event"] == "session_idle_timeout").expect("audited");
    assert_eq!(audited["detail"]["session_id"], idle.session_id.as_str());
    assert_eq!(time(&audited["detail"]["last_used_at"]), used_at);
    assert_eq!(api.refresh_device(&mut idle).await.code(), "invalid_token", "and stays ended");
    assert_eq!(api.refresh_device(&mut used).await.status, StatusCode::OK);
    assert_eq!(api.me(&used.access).await.status, StatusCode::OK);

    // The list holds live sessions only: the sign-up's, unused since it
    // opened, is idle (its item not yet deleted) and not shown.
    let list = api.sessions(&used).await;
    let ids: Vec<&str> = list.body["sessions"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [used.session_id.as_str()], "{}", list.body);
    let (user, session) = (UserId::parse(&used.user_id).unwrap(), SessionId::parse(&sign_up_session).unwrap());
    assert!(api.app.app.store.get(&session_key(&user, &session)).await.unwrap().is_some());
    assert_eq!(api.end(&used, &sign_up_session).await.code(), "session_not_found", "idle is ended");
}

async fn a_session_stored_before_last_used_at_counts_from_its_sign_in(api: Api) {
    api.sign_up("old@example.com").await;
    let mut old = api.signed_in("old@example.com", "old-device").await;
    let current = api.signed_in("old@example.com", "new-device").await;
    let opened = api.now();
    // The session item as versions before `last_used_at` wrote it.
    let key = session_key(&UserId::parse(&old.user_id).unwrap(), &SessionId::parse(&old.session_id).unwrap());
    let stored = api.app.app.store.get(&key).await.unwrap().expect("the session");
    let mut body = stored.body.clone();
    assert!(body.as_object_mut().unwrap().remove("last_used_at").is_some(), "written by a sign-in");
    api.app.app.store.put(Item::new(key, body, stored.expires_at), Condition::Version(stored.version)).await.unwrap();

    api.advance(600);
    assert_eq!(time(&api.listed(&current, &old.session_id).await["last_used_at"]), opened, "from its sign-in");
    assert_eq!(api.refresh_device(&mut old).await.status, StatusCode::OK, "within the hour");
    assert_eq!(time(&api.listed(&current, &old.session_id).await["last_used_at"]), api.now(), "written now");
}
