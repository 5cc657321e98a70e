//! Ids and tokens as types, parsed at the edge: a malformed value is refused
//! (with the same answer as an unknown one) before the domain sees it.
//!
//! Ids are `<prefix>_<32 lowercase hex>` (a UUIDv7, see `App::new_id`);
//! parsing accepts any 1–64 ASCII alphanumerics after the prefix, so ids
//! written by earlier versions still parse.

use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// What every id of this kind starts with.
            pub const PREFIX: &'static str = $prefix;

            /// The id in `text`, if it has this kind's shape.
            pub fn parse(text: &str) -> Option<Self> {
                let rest = text.strip_prefix($prefix)?;
                let well_formed =
                    (1..=64).contains(&rest.len()) && rest.bytes().all(|b| b.is_ascii_alphanumeric());
                well_formed.then(|| Self(text.to_owned()))
            }

            /// An id this deployment made (`App::new_id`), taken as it is.
            pub fn from_new(id: String) -> Self {
                Self(id)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        impl std::ops::Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }
    };
}

id_type!(
    /// A user (`usr_…`).
    UserId,
    "usr_"
);
id_type!(
    /// A session (`ses_…`).
    SessionId,
    "ses_"
);
id_type!(
    /// A sign-up in progress (`reg_…`).
    RegistrationId,
    "reg_"
);
id_type!(
    /// A login challenge: 2FA or a required password change (`chl_…`).
    ChallengeId,
    "chl_"
);

/// A refresh token, `<user id>.<session id>.<secret>`: it names its session,
/// so a refresh reads its record, the session and the user in one round
/// trip. The ids are no secret (the access token carries them too); only
/// the SHA-256 of the whole token is stored.
#[derive(Clone, PartialEq, Eq)]
pub struct RefreshToken {
    token: String,
    user_id: UserId,
    session_id: SessionId,
}

impl RefreshToken {
    /// The longest token accepted (ids and a base64url secret fit well within).
    pub const MAX_LEN: usize = 128;

    /// The token in `text`, if it has a refresh token's shape.
    pub fn parse(text: &str) -> Option<Self> {
        if text.len() > Self::MAX_LEN {
            return None;
        }
        let mut parts = text.splitn(3, '.');
        let (user, session, secret) = (parts.next()?, parts.next()?, parts.next()?);
        if secret.is_empty() {
            return None;
        }
        Some(Self { token: text.to_owned(), user_id: UserId::parse(user)?, session_id: SessionId::parse(session)? })
    }

    /// A new token of a session, from its secret.
    pub fn new(user_id: &UserId, session_id: &SessionId, secret: &str) -> Self {
        Self {
            token: format!("{user_id}.{session_id}.{secret}"),
            user_id: user_id.clone(),
            session_id: session_id.clone(),
        }
    }

    pub fn user_id(&self) -> &UserId {
        &self.user_id
    }

    pub fn session_id(&self) -> &SessionId {
        &self.session_id
    }

    /// The token itself (a secret: never logged).
    pub fn expose(&self) -> &str {
        &self.token
    }
}

impl fmt::Debug for RefreshToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RefreshToken({}.{}.…)", self.user_id, self.session_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_parse_only_their_own_shape() {
        assert!(RegistrationId::parse("reg_01a214ebb5f4742abc6ee99dd3ac47d9").is_some());
        assert!(RegistrationId::parse("usr_01a214ebb5f4742abc6ee99dd3ac47d9").is_none());
        assert!(RegistrationId::parse("reg_").is_none());
        assert!(RegistrationId::parse("reg_a.b").is_none());
        assert!(UserId::parse(&format!("usr_{}", "a".repeat(65))).is_none());
    }

    #[test]
    fn refresh_tokens_name_their_session() {
        let token = RefreshToken::parse("usr_1.ses_2.c2VjcmV0").expect("a token");
        assert_eq!(token.user_id().as_str(), "usr_1");
        assert_eq!(token.session_id().as_str(), "ses_2");
        assert!(RefreshToken::parse("usr_1.ses_2.").is_none());
        assert!(RefreshToken::parse("usr_1.chl_2.x").is_none());
        assert!(RefreshToken::parse(&format!("usr_1.ses_2.{}", "x".repeat(200))).is_none());
        assert!(!format!("{token:?}").contains("c2VjcmV0"), "the secret never prints");
    }
}
