//! The ID token's claims and the userinfo claims (OpenID Connect Core
//! §2, §5.1, §5.4): pure functions of the session, the user and the
//! granted scopes.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::domain::user::{Session, User};

/// The claims each scope grants (OpenID Connect Core §5.4).
pub const SCOPE_CLAIMS: [(&str, &[&str]); 3] = [
    ("email", &["email", "email_verified"]),
    ("profile", &["name", "given_name", "family_name", "locale", "zoneinfo", "updated_at"]),
    ("phone", &["phone_number", "phone_number_verified"]),
];

/// `at_hash`: base64url of the left half of the SHA-256 of the access
/// token (RS256's hash).
pub fn at_hash(access_token: &str) -> String {
    let digest = Sha256::digest(access_token.as_bytes());
    URL_SAFE_NO_PAD.encode(&digest[..16])
}

/// The claims of `user` that `scopes` grant, besides `sub`: what
/// `/oauth2/userinfo` answers and the ID token carries. A claim the user
/// has no value for is left out.
pub fn user_claims(user: &User, scopes: &[String]) -> Map<String, Value> {
    let granted = |scope: &str| scopes.iter().any(|s| s == scope);
    let mut claims = Map::new();
    claims.insert("sub".into(), json!(user.id.as_str()));
    if granted("email")
        && let Some(email) = &user.email
    {
        claims.insert("email".into(), json!(email.to_string()));
        claims.insert("email_verified".into(), json!(user.email_verified_at.is_some()));
    }
    if granted("profile") {
        let details = &user.details;
        let name = format!("{} {}", details.first_name, details.last_name);
        if !name.trim().is_empty() {
            claims.insert("name".into(), json!(name.trim()));
        }
        if !details.first_name.is_empty() {
            claims.insert("given_name".into(), json!(details.first_name));
        }
        if !details.last_name.is_empty() {
            claims.insert("family_name".into(), json!(details.last_name));
        }
        if !details.language.is_empty() {
            claims.insert("locale".into(), json!(details.language));
        }
        if let Some(zone) = &details.time_zone {
            claims.insert("zoneinfo".into(), json!(zone));
        }
        claims.insert("updated_at".into(), json!(user.updated_at.timestamp()));
    }
    if granted("phone")
        && let Some(phone) = &user.phone
    {
        claims.insert("phone_number".into(), json!(phone));
        claims.insert("phone_number_verified".into(), json!(user.phone_verified_at.is_some()));
    }
    claims
}

/// What an ID token is issued with, beyond the session and the user.
pub struct IdTokenFacts<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    /// When it is issued (epoch seconds).
    pub now: i64,
    /// Its lifetime in seconds.
    pub ttl: i64,
    pub nonce: Option<&'a str>,
    /// The access token issued with it.
    pub access_token: &'a str,
}

/// The claims of the ID token for `session` of `user`: `iss`, `sub`, `aud`
/// (the client), `exp`, `iat`, `auth_time`, `nonce` (when the request had
/// one), `amr`, `at_hash`, `sid`, and the claims of the granted scopes.
pub fn claims(facts: &IdTokenFacts<'_>, session: &Session, user: &User) -> Map<String, Value> {
    let mut claims = user_claims(user, &session.scopes);
    claims.insert("iss".into(), json!(facts.issuer));
    claims.insert("aud".into(), json!(facts.client_id));
    claims.insert("iat".into(), json!(facts.now));
    claims.insert("exp".into(), json!(facts.now + facts.ttl));
    claims.insert("auth_time".into(), json!(session.auth_time.map_or(facts.now, |at| at.timestamp())));
    if let Some(nonce) = facts.nonce {
        claims.insert("nonce".into(), json!(nonce));
    }
    if !session.amr.is_empty() {
        claims.insert("amr".into(), json!(session.amr));
    }
    claims.insert("at_hash".into(), json!(at_hash(facts.access_token)));
    claims.insert("sid".into(), json!(session.id.as_str()));
    claims
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user() -> User {
        serde_json::from_value(json!({
            "id": "usr_1", "tenant_id": "t", "user_type": "consumer", "status": "active", "email": "a@b.ch",
            "email_verified_at": "2026-11-20T09:00:00Z", "phone": "+41791234567", "phone_verified_at": null,
            "password_hash": "x", "first_name": "Anna", "last_name": "Muster", "language": "de",
            "time_zone": "Europe/Zurich", "terms": null, "privacy": null,
            "created_at": "2026-11-20T09:00:00Z", "updated_at": "2026-11-20T09:00:00Z",
        }))
        .unwrap()
    }

    fn scopes(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn at_hash_is_the_left_half_of_the_sha256() {
        // OpenID Connect Core's example value for its access token.
        assert_eq!(at_hash("jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"), "77QmUPtjPfzWtF2AnpK9RQ");
    }

    #[test]
    fn each_scope_grants_its_claims_only() {
        let user = user();
        let only_openid = user_claims(&user, &scopes(&["openid"]));
        assert_eq!(only_openid.keys().collect::<Vec<_>>(), ["sub"]);
        let email = user_claims(&user, &scopes(&["openid", "email"]));
        assert_eq!(email["email"], "a@b.ch");
        assert_eq!(email["email_verified"], true);
        assert!(!email.contains_key("name") && !email.contains_key("phone_number"));
        let profile = user_claims(&user, &scopes(&["openid", "profile"]));
        assert_eq!(profile["name"], "Anna Muster");
        assert_eq!(profile["given_name"], "Anna");
        assert_eq!(profile["family_name"], "Muster");
        assert_eq!(profile["locale"], "de");
        assert_eq!(profile["zoneinfo"], "Europe/Zurich");
        assert!(!profile.contains_key("email"));
        let phone = user_claims(&user, &scopes(&["openid", "phone"]));
        assert_eq!(phone["phone_number"], "+41791234567");
        assert_eq!(phone["phone_number_verified"], false);
        for (scope, names) in SCOPE_CLAIMS {
            let granted = user_claims(&user, &scopes(&["openid", scope]));
            for name in names {
                assert!(granted.contains_key(*name), "{scope} grants {name}");
            }
        }
    }
}
