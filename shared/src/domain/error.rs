//! The domain's one error type; `http::problem` maps it to problem+json.

use crate::ports::{SendError, StoreError};
use crate::table::{Failed, Kind};

/// A problem with one field of a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    /// The field's name as the client sent it (`address.zip` for nested).
    pub field: String,
    /// A stable machine word, also the message catalogue's key suffix.
    pub code: &'static str,
    /// Values the message needs (`min`, `max`, `expected`).
    pub args: Vec<(&'static str, String)>,
}

impl FieldError {
    pub fn new(field: impl Into<String>, code: &'static str) -> Self {
        Self { field: field.into(), code, args: Vec::new() }
    }

    pub fn with(mut self, name: &'static str, value: i64) -> Self {
        self.args.push((name, value.to_string()));
        self
    }

    pub fn with_text(mut self, name: &'static str, value: &str) -> Self {
        self.args.push((name, value.to_owned()));
        self
    }
}

/// Which step a registration expects next.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    VerifyEmail,
    AddPhone,
    VerifyPhone,
    Done,
}

impl Step {
    pub fn as_str(self) -> &'static str {
        match self {
            Step::VerifyEmail => "verify_email",
            Step::AddPhone => "add_phone",
            Step::VerifyPhone => "verify_phone",
            Step::Done => "done",
        }
    }
}

/// Everything a use case can answer besides success.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum Error {
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    #[error("registration not found")]
    RegistrationNotFound,
    #[error("step out of order; next is {next:?}")]
    StepOutOfOrder { next: Step },
    /// A wrong, expired or used-up code, or one beyond its tries: one answer
    /// for all, so an answer never tells which guess was right.
    #[error("invalid code")]
    InvalidCode,
    #[error("resend too soon")]
    ResendTooSoon { retry_after: u64 },
    #[error("send limit reached")]
    SendLimitReached { retry_after: u64 },
    #[error("email taken")]
    EmailTaken,
    #[error("phone taken")]
    PhoneTaken,
    #[error("username taken")]
    UsernameTaken,
    /// The tenant's SMS budget for the hour or day is spent.
    #[error("SMS budget spent")]
    SmsBudgetSpent { retry_after: u64 },
    /// The tenant does not text this destination country.
    #[error("SMS country not allowed")]
    SmsCountryNotAllowed,
    #[error("rate limited")]
    RateLimited { retry_after: u64 },
    /// Wrong password, unknown user, or a locked account (then with the
    /// seconds until the lock ends): one answer for all three.
    #[error("invalid credentials")]
    InvalidCredentials { retry_after: Option<u64> },
    /// A step-up's password was wrong (or the account is locked, then with
    /// the seconds of the lock this attempt started): one answer for both.
    #[error("incorrect password")]
    IncorrectPassword { field: &'static str, retry_after: Option<u64> },
    /// A takeover path needs the current password (or a recent sign-in).
    #[error("step-up required")]
    StepUpRequired,
    #[error("account not active")]
    AccountInactive,
    /// A missing, malformed, expired, revoked or foreign token.
    #[error("invalid token")]
    InvalidToken,
    #[error("invalid device")]
    InvalidDevice,
    #[error("challenge not found")]
    ChallengeNotFound,
    /// The caller may not act on this user (or create this kind of user).
    #[error("forbidden")]
    Forbidden,
    #[error("user not found")]
    UserNotFound,
    #[error("reference entry not found")]
    ReferenceNotFound,
    #[error("status change not allowed")]
    InvalidStatusChange { from: &'static str, allowed: Vec<&'static str> },
    #[error("concurrent change")]
    Conflict,
    #[error("authenticator app already on")]
    TotpAlreadyEnabled,
    #[error("no authenticator app enrollment")]
    TotpNotEnrolled,
    #[error("no strong second factor")]
    NoStrongFactor,
    /// A passkey asked for a login's second factor that offers none (the
    /// user has no passkey, or the tenant allows none).
    #[error("no passkey offered")]
    PasskeyNotOffered,
    #[error("factor not allowed by the tenant")]
    FactorNotAllowed,
    /// A way of signing in the tenant's `sign_in_methods` leave out.
    #[error("sign-in method not enabled for the tenant")]
    SignInMethodDisabled,
    #[error("passkeys not configured")]
    PasskeysNotConfigured,
    #[error("too many passkeys")]
    PasskeyLimit,
    #[error("passkey not found")]
    PasskeyNotFound,
    /// No live session of the caller's by that id (unknown, ended, or
    /// another user's: one answer for all).
    #[error("session not found")]
    SessionNotFound,
    /// The tenant's `pre_sign_up` hook refused the sign-up (or failed, and
    /// its `on_failure` is `deny`); `message` is the hook's, a string or
    /// one per language.
    #[error("sign-up denied")]
    SignUpDenied { message: Option<serde_json::Value> },
    /// 2FA is required, and the user has no factor the tenant allows.
    #[error("no second factor available")]
    MfaUnavailable,
    /// The tenant has no identity provider by that id.
    #[error("identity provider not found")]
    ProviderNotFound,
    /// A provider's ID token failed a check (signature, issuer, audience,
    /// expiry, nonce), or the provider refused the code.
    #[error("invalid ID token")]
    InvalidIdToken,
    /// The provider's verified address is an existing account's: it signs
    /// in once and links the identity (never linked silently).
    #[error("identity link required")]
    IdentityLinkRequired,
    /// The provider identity belongs to another user, or the user has one
    /// at that provider already.
    #[error("identity taken")]
    IdentityTaken,
    /// The user has no identity at that provider.
    #[error("identity not found")]
    IdentityNotFound,
    /// Unlinking would leave the user no way to sign in.
    #[error("last sign-in method")]
    LastSignInMethod,
    /// A dependency failed. `registration_id` is set when a registration was
    /// stored and can be resumed with resend.
    #[error("dependency unavailable: {reason}")]
    Unavailable { reason: String, registration_id: Option<String> },
}

impl Error {
    pub fn field(field: &str, code: &'static str) -> Self {
        Error::Validation(vec![FieldError::new(field, code)])
    }
}

impl From<StoreError> for Error {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::ConditionFailed { .. } => Error::Conflict,
            StoreError::Unavailable(reason) => Error::Unavailable { reason, registration_id: None },
        }
    }
}

impl From<Failed> for Error {
    fn from(err: Failed) -> Self {
        match err {
            // A code out of tries answers as a wrong one.
            Failed::Condition(Kind::Tries) => Error::InvalidCode,
            // A rate limit folded into a write: the caller, which knows
            // the window, answers with its own refusal (`limits::Gate`).
            Failed::Condition(Kind::RateWindow) => Error::RateLimited { retry_after: 1 },
            Failed::Condition(_) => Error::Conflict,
            Failed::Unavailable(reason) => Error::Unavailable { reason, registration_id: None },
        }
    }
}

impl From<SendError> for Error {
    fn from(err: SendError) -> Self {
        Error::Unavailable { reason: err.0, registration_id: None }
    }
}
