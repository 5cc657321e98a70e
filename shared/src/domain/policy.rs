//! A tenant's policy: codes, SMS budget, roles, IP limits, passwords,
//! languages and origins. Stored inside the tenant's record (`table::Tenant`).

use serde::{Deserialize, Serialize};

use super::values::{LANGUAGES, PasswordPolicy};
use crate::ports::HookTarget;

/// How a tenant's one-time codes behave.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CodePolicy {
    pub length: usize,
    pub email_ttl_secs: i64,
    pub sms_ttl_secs: i64,
    pub max_attempts: u32,
    pub resend_cooldown_secs: i64,
    pub max_sends: u32,
}

impl Default for CodePolicy {
    fn default() -> Self {
        Self {
            length: 6,
            email_ttl_secs: 600,
            sms_ttl_secs: 300,
            max_attempts: 5,
            resend_cooldown_secs: 60,
            max_sends: 5,
        }
    }
}

/// What a tenant may spend on SMS: where texts may go, and how many.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SmsPolicy {
    /// ISO 3166-1 alpha-2 regions a text may go to (by the number's
    /// country code); empty: anywhere.
    pub countries: Vec<String>,
    /// Texts per hour that anyone can cause (sign-up codes, codes to
    /// numbers not verified yet), for the whole tenant.
    pub per_hour: u64,
    /// Texts per day that anyone can cause, for the whole tenant.
    pub per_day: u64,
    /// Texts per hour to verified phones of existing users (2FA codes,
    /// notices): an allowance of their own, so that a flood of sign-ups
    /// cannot silence 2FA.
    pub verified_per_hour: u64,
    /// Texts per day to verified phones of existing users.
    pub verified_per_day: u64,
}

impl Default for SmsPolicy {
    fn default() -> Self {
        Self {
            countries: Vec::new(),
            per_hour: 1_000,
            per_day: 10_000,
            verified_per_hour: 1_000,
            verified_per_day: 10_000,
        }
    }
}

/// A role of the tenant's catalogue and the kinds of actor that may grant it
/// (`admin` for admin tokens, or a user type).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleRule {
    pub name: String,
    pub granted_by: Vec<String>,
}

impl RoleRule {
    fn new(name: &str, granted_by: &[&str]) -> Self {
        Self { name: name.to_owned(), granted_by: granted_by.iter().map(|g| (*g).to_owned()).collect() }
    }
}

/// The kinds of actor a role rule may name.
pub const GRANTORS: [&str; 3] = ["admin", "service_owner", "company_user"];

/// A role name: 1–64 letters, digits, `.`, `_`, `:` or `-`, case kept (so
/// seed names such as `ADMIN` are valid).
pub fn valid_role_name(role: &str) -> bool {
    (1..=64).contains(&role.len()) && role.bytes().all(|b| b.is_ascii_alphanumeric() || b".:_-".contains(&b))
}

/// The catalogue a tenant starts with: `admin` only from admin tokens,
/// `support` also from service owners, `member` from company users too.
fn default_roles() -> Vec<RoleRule> {
    vec![
        RoleRule::new("admin", &["admin"]),
        RoleRule::new("support", &["admin", "service_owner"]),
        RoleRule::new("member", &["admin", "service_owner", "company_user"]),
    ]
}

/// Requests per caller IP address and tenant, each in its window. A tenant
/// whose users share one address (a company NAT, a load test) raises them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct IpLimits {
    /// Sign-ups started per hour.
    pub signups_per_hour: u64,
    /// Login attempts per five minutes.
    pub logins_per_5_min: u64,
    /// Password-reset requests and attempts per hour.
    pub resets_per_hour: u64,
}

impl Default for IpLimits {
    fn default() -> Self {
        Self { signups_per_hour: 100, logins_per_5_min: 30, resets_per_hour: 20 }
    }
}

/// An entry of a tenant-defined reference kind (`civil-statuses`:
/// `SINGLE`), with its name per language (English at least).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantEntry {
    pub code: String,
    pub names: std::collections::BTreeMap<String, String>,
}

/// The most kinds of its own a tenant has, and entries per kind (the
/// policy lives in the tenant's item, which every request reads).
pub const MAX_KINDS: usize = 50;
pub const MAX_ENTRIES: usize = 500;

/// A kind name of a tenant's own: 2–40 lower-case letters, digits and `-`.
pub fn valid_kind_name(kind: &str) -> bool {
    (2..=40).contains(&kind.len())
        && kind.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && kind.as_bytes()[0].is_ascii_lowercase()
}

/// An entry code: 1–64 letters, digits, `.`, `_` or `-` (`PENSION-FUND`).
pub fn valid_entry_code(code: &str) -> bool {
    (1..=64).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
}

/// What a sign-up starts with.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignUpStart {
    /// The e-mail address (its code first), then the phone if required.
    #[default]
    Email,
    /// The phone (its SMS code first), then the e-mail address if given.
    Phone,
}

/// Whether a tenant's users have usernames (a sign-in name besides e-mail
/// and phone).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Usernames {
    /// No usernames: the field is unknown.
    #[default]
    Off,
    /// A user may have one.
    Optional,
    /// Every user has one (sign-up and creation require it).
    Required,
}

impl Usernames {
    /// Checks a username given (or not) for a new user of the tenant:
    /// unknown when the tenant has none, required when it requires them.
    pub fn check<T>(self, given: Option<&T>) -> Result<(), super::error::Error> {
        use super::error::Error;
        match (self, given) {
            (Usernames::Off, Some(_)) => Err(Error::field("username", "unknown_field")),
            (Usernames::Required, None) => Err(Error::field("username", "required")),
            _ => Ok(()),
        }
    }
}

/// A way to start signing in (policy `sign_in_methods`): the password, a
/// code sent to the user's verified address (`email_code`) or phone
/// (`sms_code`), or a passkey alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignInMethod {
    Password,
    EmailCode,
    SmsCode,
    Passkey,
}

impl SignInMethod {
    pub const ALL: [SignInMethod; 4] =
        [SignInMethod::Password, SignInMethod::EmailCode, SignInMethod::SmsCode, SignInMethod::Passkey];

    pub fn as_str(self) -> &'static str {
        match self {
            SignInMethod::Password => "password",
            SignInMethod::EmailCode => "email_code",
            SignInMethod::SmsCode => "sms_code",
            SignInMethod::Passkey => "passkey",
        }
    }

    pub fn parse(text: &str) -> Option<SignInMethod> {
        SignInMethod::ALL.into_iter().find(|m| m.as_str() == text)
    }
}

/// A second factor of a login.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Factor {
    Passkey,
    Totp,
    Sms,
    Email,
    RecoveryCode,
}

impl Factor {
    /// Every factor, strongest first (the order a login lists them in).
    pub const ALL: [Factor; 5] = [Factor::Passkey, Factor::Totp, Factor::Sms, Factor::Email, Factor::RecoveryCode];

    pub fn as_str(self) -> &'static str {
        match self {
            Factor::Passkey => "passkey",
            Factor::Totp => "totp",
            Factor::Sms => "sms",
            Factor::Email => "email",
            Factor::RecoveryCode => "recovery_code",
        }
    }

    pub fn parse(text: &str) -> Option<Factor> {
        Factor::ALL.into_iter().find(|f| f.as_str() == text)
    }

    /// A factor whose code the login sends (SMS, e-mail).
    pub fn is_sent(self) -> bool {
        matches!(self, Factor::Sms | Factor::Email)
    }
}

/// Which second factors a tenant's users may use, and whether every
/// sign-in needs one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SecondFactorPolicy {
    /// The factors a login may offer; leaving out `sms` means no SMS is
    /// ever sent for a sign-in.
    pub allowed: Vec<Factor>,
    /// Every sign-in needs a second factor: a user with nothing else gets
    /// a code by e-mail (so `email` must be allowed).
    pub required: bool,
}

impl Default for SecondFactorPolicy {
    fn default() -> Self {
        Self { allowed: Factor::ALL.to_vec(), required: false }
    }
}

impl SecondFactorPolicy {
    pub fn allows(&self, factor: Factor) -> bool {
        self.allowed.contains(&factor)
    }
}

/// How long a session lives without use, beside the refresh token's
/// absolute lifetime (`refresh_token_ttl_secs`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RefreshPolicy {
    /// A refresh after this many seconds without one (or since the
    /// sign-in) fails like an expired session, and the session ends
    /// (OWASP ASVS 3.3.4's idle timeout).
    pub idle_timeout_secs: i64,
}

impl Default for RefreshPolicy {
    fn default() -> Self {
        Self { idle_timeout_secs: 30 * 24 * 3600 }
    }
}

/// Where the tenant's passkeys live: the WebAuthn relying party (its id, a
/// registrable domain such as `example.com`) and the origins its pages run
/// on (`https://app.example.com`). Without an `rp_id`, no passkeys.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PasskeyPolicy {
    pub rp_id: Option<String>,
    pub origins: Vec<String>,
}

/// A tenant's blocking hooks (docs/hooks.md): each called, when set, at
/// its point of the flows.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Hooks {
    /// Before a self-registration sends its first code, and before a
    /// back-office creation: may deny it or add attributes.
    pub pre_sign_up: Option<Hook>,
    /// Before every token issue: may add claims to the access token.
    pub pre_token: Option<Hook>,
    /// When a password sign-in or a forgotten password names a user
    /// Registrar does not know: the old system may hand it over.
    pub user_migration: Option<Hook>,
}

/// Where a hook is called and what happens when it does not answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hook {
    /// An `https://` URL (`http://` only to a loopback address): a signed
    /// POST. Exactly one of `url` and `lambda_arn`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// A Lambda function's ARN
    /// (`arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]`):
    /// an `Invoke` of it with the same JSON (deployed; the stack's
    /// `HookFunctionArns` must name it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lambda_arn: Option<String>,
    /// How long to wait for the answer: 100 to 5000 ms (default 2000).
    #[serde(default = "default_hook_timeout")]
    pub timeout_ms: u64,
    /// What a hook that times out or fails means: `deny` (default) or
    /// `allow` (go on as if there were no hook).
    #[serde(default)]
    pub on_failure: OnFailure,
}

fn default_hook_timeout() -> u64 {
    2000
}

/// What a failed hook call means.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnFailure {
    #[default]
    Deny,
    Allow,
}

impl Hook {
    /// A hook to `url` with the default timeout, denying when it fails.
    pub fn to(url: impl Into<String>) -> Self {
        Self {
            url: Some(url.into()),
            lambda_arn: None,
            timeout_ms: default_hook_timeout(),
            on_failure: OnFailure::Deny,
        }
    }

    /// A hook invoking the Lambda function `arn`, with the default timeout,
    /// denying when it fails.
    pub fn lambda(arn: impl Into<String>) -> Self {
        Self {
            url: None,
            lambda_arn: Some(arn.into()),
            timeout_ms: default_hook_timeout(),
            on_failure: OnFailure::Deny,
        }
    }

    /// Where the hook is called; `None` when it names neither or both
    /// (a policy that [`Policy::problems`] refuses).
    pub fn target(&self) -> Option<HookTarget<'_>> {
        match (&self.url, &self.lambda_arn) {
            (Some(url), None) => Some(HookTarget::Url(url)),
            (None, Some(arn)) => Some(HookTarget::Lambda(arn)),
            _ => None,
        }
    }

    /// What is wrong with the hook, if anything.
    fn problem(&self, name: &str) -> Option<String> {
        if !(100..=5000).contains(&self.timeout_ms) {
            return Some(format!("hooks.{name}.timeout_ms must be 100 to 5000, not {}", self.timeout_ms));
        }
        match (&self.url, &self.lambda_arn) {
            (Some(_), Some(_)) => Some(format!("hooks.{name} takes a url or a lambda_arn, not both")),
            (None, None) => Some(format!("hooks.{name} needs a url or a lambda_arn")),
            (None, Some(arn)) => (!is_lambda_function_arn(arn)).then(|| {
                format!(
                    "hooks.{name}.lambda_arn must be a Lambda function's ARN \
                     (arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]), not {arn:?}"
                )
            }),
            (Some(url), None) => {
                let loopback = ["http://127.0.0.1:", "http://localhost:", "http://[::1]:"];
                let ok = url.starts_with("https://") || loopback.iter().any(|prefix| url.starts_with(prefix));
                (!ok || url.parse::<http::Uri>().is_err()).then(|| {
                    format!(
                        "hooks.{name}.url must be an https:// URL (http:// only to 127.0.0.1 or localhost), not {url:?}"
                    )
                })
            }
        }
    }
}

/// Whether `arn` names a Lambda function, as `Invoke` takes it:
/// `arn:<partition>:lambda:<region>:<12-digit account>:function:<name>`,
/// optionally `:<version or alias>` (`$LATEST`, digits, or an alias name).
pub fn is_lambda_function_arn(arn: &str) -> bool {
    let parts: Vec<&str> = arn.split(':').collect();
    let word = |s: &str, max: usize| {
        !s.is_empty() && s.len() <= max && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    let (arn_, partition, service, region, account, kind, name) = match parts[..] {
        [a, p, s, r, acc, k, n] | [a, p, s, r, acc, k, n, _] => (a, p, s, r, acc, k, n),
        _ => return false,
    };
    // A region: letters in dash-separated groups, ending in a number
    // (eu-central-1, us-gov-west-1, cn-north-1).
    let region_ok = region.rsplit_once('-').is_some_and(|(area, number)| {
        !number.is_empty()
            && number.bytes().all(|b| b.is_ascii_digit())
            && area.split('-').all(|group| !group.is_empty() && group.bytes().all(|b| b.is_ascii_lowercase()))
    });
    let qualifier_ok = match parts.get(7) {
        None => true,
        Some(&"$LATEST") => true,
        Some(qualifier) => word(qualifier, 128),
    };
    arn_ == "arn"
        && ["aws", "aws-cn", "aws-us-gov"].contains(&partition)
        && service == "lambda"
        && region_ok
        && account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && kind == "function"
        && word(name, 64)
        && qualifier_ok
}

/// The built-in kinds of reference data (a tenant adds its own).
pub const BUILT_IN: [&str; 6] = ["genders", "languages", "countries", "nationalities", "time-zones", "legal-documents"];

/// Everything a tenant can configure; every field has the documented default.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Policy {
    pub password: PasswordPolicy,
    pub codes: CodePolicy,
    pub registration_ttl_secs: i64,
    pub access_token_ttl_secs: i64,
    pub refresh_token_ttl_secs: i64,
    /// The refresh token's idle timeout.
    pub refresh: RefreshPolicy,
    /// Whether sign-up needs a verified phone after the e-mail.
    pub phone_required: bool,
    /// What a sign-up starts with: `email` (then the phone if
    /// `phone_required`) or `phone` (then the e-mail if `email_required`).
    pub sign_up_starts_with: SignUpStart,
    /// A sign-up that starts with the phone needs an e-mail address too.
    pub email_required: bool,
    /// Sandbox: every code is this fixed value (messages still go out through
    /// the tenant's mailer, which is the outbox in local runs).
    pub sandbox_code: Option<String>,
    pub languages: Vec<String>,
    pub cors_origins: Vec<String>,
    /// The versions of the legal documents a sign-up accepts.
    pub terms_version: String,
    pub privacy_version: String,
    pub ip_limits: IpLimits,
    /// How long after a sign-in a step-up (adding or replacing an e-mail or
    /// phone) needs no password again; 0 asks for it every time.
    pub step_up_window_secs: i64,
    /// The roles that exist, and who may grant each: an unknown role is 422,
    /// one the actor may not grant 403.
    pub roles: Vec<RoleRule>,
    /// The SMS spend guard (destination countries and budgets).
    pub sms: SmsPolicy,
    /// Whether users have usernames (`off`, `optional`, `required`).
    pub usernames: Usernames,
    /// Reference kinds of the tenant's own (`civil-statuses`, …) and their
    /// entries; a user's `references` name entries of any kind.
    pub reference: std::collections::BTreeMap<String, Vec<TenantEntry>>,
    /// Second factors: which are allowed, whether one is required.
    pub second_factors: SecondFactorPolicy,
    /// The WebAuthn relying party of the tenant's passkeys.
    pub passkeys: PasskeyPolicy,
    /// A service owner's or company user's bearer reaches the back office
    /// (`/v1/users*`, reference edits) only from a session that passed a
    /// second factor (its `amr` holds `mfa`; ASVS 4.3.1). Admin tokens are
    /// machine credentials and unaffected.
    pub back_office_mfa: bool,
    /// How users may start signing in (default `password`, `passkey`); a
    /// method left out answers 403 `sign_in_method_disabled`. Passkeys as a
    /// second factor follow `second_factors`, not this list.
    pub sign_in_methods: Vec<SignInMethod>,
    /// Blocking hooks (none by default).
    pub hooks: Hooks,
    /// Where the tenant's events are posted (SPEC §11; none by default).
    pub webhook: Option<EventWebhook>,
    /// How the hosted sign-in pages show the tenant (docs/hosted-pages.md).
    pub branding: Branding,
    /// Other identity providers users may sign in with (SPEC §14,
    /// docs/identity-providers.md); none by default.
    pub identity_providers: Vec<IdentityProvider>,
}

/// The kinds of identity provider: any OpenID Connect provider by its
/// issuer, and presets for the big three.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProviderKind {
    Oidc,
    Google,
    Apple,
    Microsoft,
}

/// Whether `url` is plain http to a loopback host (127.0.0.1, localhost,
/// [::1]) with a port and no user info: what local runs and tests may use.
pub fn is_loopback_http(url: &str) -> bool {
    let Ok(uri) = url.parse::<http::Uri>() else { return false };
    let Some(authority) = uri.authority() else { return false };
    uri.scheme_str() == Some("http")
        && !authority.as_str().contains('@')
        && authority.port().is_some()
        && ["127.0.0.1", "localhost", "[::1]"].contains(&authority.host())
}

/// Google's issuer (its ID tokens may name it without the scheme, too).
pub const GOOGLE_ISSUER: &str = "https://accounts.google.com";
/// Apple's issuer, and the audience of the client secrets it takes.
pub const APPLE_ISSUER: &str = "https://appleid.apple.com";

/// An identity provider of the tenant: Registrar is its relying party.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentityProvider {
    /// Names the provider in URLs and answers (`google`, `acme-sso`):
    /// 1–32 lower-case letters, digits or `-`.
    pub id: String,
    pub kind: ProviderKind,
    /// The provider's issuer (its discovery is `{issuer}/.well-known/
    /// openid-configuration`): required for `oidc` and `microsoft`
    /// (`https://login.microsoftonline.com/{tenant id}/v2.0`, or `common`
    /// for any organisation); Google's and Apple's by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// Registrar's client id at the provider (Apple: the Services ID).
    pub client_id: String,
    /// Where the client secret is kept: a Secrets Manager secret's name or
    /// ARN (Apple: the `.p8` key that signs the client secret).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret_name: Option<String>,
    /// The client secret itself: local runs only
    /// (`REGISTRAR_IDENTITY_PROVIDERS`), never in a deployed policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    /// The scopes asked for (`openid email profile` by default; Apple:
    /// `openid email name`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<String>,
    /// The button's label (the kind's name by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Further audiences an ID token may have at `POST /v1/auth/federated/
    /// token` (the app ids a platform SDK signs in: an iOS bundle id, an
    /// Android client id).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub audiences: Vec<String>,
    /// Apple: the team id (the client secret's `iss`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team_id: Option<String>,
    /// Apple: the key id of the `.p8` key (the client secret's `kid`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
}

impl std::fmt::Debug for IdentityProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdentityProvider")
            .field("id", &self.id)
            .field("kind", &self.kind)
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

impl IdentityProvider {
    /// The issuer: the configured one, else the kind's.
    pub fn issuer(&self) -> &str {
        match (&self.issuer, self.kind) {
            (Some(issuer), _) => issuer.trim_end_matches('/'),
            (None, ProviderKind::Google) => GOOGLE_ISSUER,
            (None, ProviderKind::Apple) => APPLE_ISSUER,
            (None, _) => "",
        }
    }

    /// The scopes asked for, `openid` first.
    pub fn scopes(&self) -> Vec<String> {
        if !self.scopes.is_empty() {
            return self.scopes.clone();
        }
        let defaults: &[&str] = if self.kind == ProviderKind::Apple {
            &["openid", "email", "name"]
        } else {
            &["openid", "email", "profile"]
        };
        defaults.iter().map(|s| (*s).to_owned()).collect()
    }

    /// The button's label.
    pub fn label(&self) -> String {
        self.name.clone().unwrap_or_else(|| {
            match self.kind {
                ProviderKind::Google => "Google",
                ProviderKind::Apple => "Apple",
                ProviderKind::Microsoft => "Microsoft",
                ProviderKind::Oidc => self.id.as_str(),
            }
            .to_owned()
        })
    }

    /// What is wrong with the provider, one sentence each.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let id = &self.id;
        let id_ok = (1..=32).contains(&id.len())
            && id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !id_ok {
            problems.push(format!("identity_providers: id {id:?} must be 1 to 32 of a-z, 0-9, '-'"));
        }
        let issuer = self.issuer();
        let issuer_ok = (issuer.starts_with("https://") || is_loopback_http(issuer))
            && issuer.parse::<http::Uri>().is_ok()
            && !issuer.contains(['?', '#', '@']);
        if !issuer_ok {
            problems.push(format!(
                "identity_providers.{id}: issuer must be an https:// URL (http:// only to 127.0.0.1 or localhost), not {issuer:?}"
            ));
        }
        if self.client_id.is_empty() || self.client_id.len() > 512 {
            problems.push(format!("identity_providers.{id}: client_id is required"));
        }
        if self.client_secret_name.is_some() == self.client_secret.is_some() {
            problems.push(format!("identity_providers.{id}: give client_secret_name (or, locally, client_secret)"));
        }
        if !self.scopes().iter().any(|s| s == "openid") {
            problems.push(format!("identity_providers.{id}: scopes must contain openid"));
        }
        if self.kind == ProviderKind::Apple && (self.team_id.is_none() || self.key_id.is_none()) {
            problems.push(format!(
                "identity_providers.{id}: Apple needs team_id and key_id (its client secret's iss and kid)"
            ));
        }
        problems
    }
}

/// The tenant's look on the hosted pages: its name, logo and colour (each
/// optional; the pages fall back to neutral ones).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Branding {
    /// Shown as the page's heading and title.
    pub name: Option<String>,
    /// An `https://` image URL.
    pub logo_url: Option<String>,
    /// `#rrggbb`: buttons and links.
    pub primary_color: Option<String>,
}

impl Branding {
    /// What is wrong with the branding, one sentence each.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.name.as_deref().is_some_and(|name| name.trim().is_empty() || name.chars().count() > 100) {
            problems.push("branding.name must be 1 to 100 characters".to_owned());
        }
        if let Some(url) = &self.logo_url
            && (!url.starts_with("https://") || url.parse::<http::Uri>().is_err() || url.contains(['"', '\'', ' ']))
        {
            problems.push(format!("branding.logo_url must be an https:// URL, not {url:?}"));
        }
        if let Some(color) = &self.primary_color
            && !is_hex_color(color)
        {
            problems.push(format!("branding.primary_color must be #rrggbb, not {color:?}"));
        }
        problems
    }
}

/// `#rrggbb`, six hexadecimal digits.
pub fn is_hex_color(color: &str) -> bool {
    color.len() == 7 && color.starts_with('#') && color[1..].chars().all(|c| c.is_ascii_hexdigit())
}

/// The tenant's event receiver: every event is POSTed there, signed per
/// Standard Webhooks, at least once.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventWebhook {
    /// An `https://` URL (`http://` only to a loopback address).
    pub url: String,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            password: PasswordPolicy::default(),
            codes: CodePolicy::default(),
            registration_ttl_secs: 24 * 3600,
            access_token_ttl_secs: 15 * 60,
            refresh_token_ttl_secs: 14 * 24 * 3600,
            refresh: RefreshPolicy::default(),
            phone_required: true,
            sign_up_starts_with: SignUpStart::Email,
            email_required: true,
            sandbox_code: None,
            languages: LANGUAGES.iter().map(|l| (*l).to_owned()).collect(),
            cors_origins: Vec::new(),
            terms_version: "2026-01".into(),
            privacy_version: "2026-01".into(),
            ip_limits: IpLimits::default(),
            step_up_window_secs: 5 * 60,
            roles: default_roles(),
            sms: SmsPolicy::default(),
            usernames: Usernames::Off,
            reference: std::collections::BTreeMap::new(),
            second_factors: SecondFactorPolicy::default(),
            passkeys: PasskeyPolicy::default(),
            back_office_mfa: true,
            sign_in_methods: vec![SignInMethod::Password, SignInMethod::Passkey],
            hooks: Hooks::default(),
            webhook: None,
            branding: Branding::default(),
            identity_providers: Vec::new(),
        }
    }
}

impl Policy {
    /// Whether the tenant's users may use passkeys: allowed as a factor, and
    /// a relying party configured.
    pub fn passkeys_available(&self) -> bool {
        self.second_factors.allows(Factor::Passkey) && self.passkeys.rp_id.is_some()
    }

    /// Whether users may start signing in with `method`.
    pub fn allows_sign_in(&self, method: SignInMethod) -> bool {
        self.sign_in_methods.contains(&method)
    }

    /// Every rule a stored policy must keep, as one-line reasons (empty: the
    /// policy is usable). Bounds keep time arithmetic far from overflow.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let mut within = |name: &str, value: i64, low: i64, high: i64| {
            if !(low..=high).contains(&value) {
                problems.push(format!("{name} must be {low} to {high}, not {value}"));
            }
        };
        within("access_token_ttl_secs", self.access_token_ttl_secs, 60, 24 * 3600);
        within("refresh_token_ttl_secs", self.refresh_token_ttl_secs, 300, 400 * 24 * 3600);
        // Only a refresh counts as use: a timeout shorter than an access
        // token's life would end the session of a client that is using it.
        let idle_floor = self.access_token_ttl_secs.clamp(300, 24 * 3600);
        within("refresh.idle_timeout_secs", self.refresh.idle_timeout_secs, idle_floor, 400 * 24 * 3600);
        within("registration_ttl_secs", self.registration_ttl_secs, 600, 30 * 24 * 3600);
        within("step_up_window_secs", self.step_up_window_secs, 0, 3600);
        within("sms.per_hour", i64::try_from(self.sms.per_hour).unwrap_or(i64::MAX), 0, 100_000_000);
        within("sms.per_day", i64::try_from(self.sms.per_day).unwrap_or(i64::MAX), 0, 100_000_000);
        let verified_per_hour = i64::try_from(self.sms.verified_per_hour).unwrap_or(i64::MAX);
        within("sms.verified_per_hour", verified_per_hour, 0, 100_000_000);
        let verified_per_day = i64::try_from(self.sms.verified_per_day).unwrap_or(i64::MAX);
        within("sms.verified_per_day", verified_per_day, 0, 100_000_000);
        within("codes.length", self.codes.length as i64, 4, 10);
        within("codes.email_ttl_secs", self.codes.email_ttl_secs, 60, 24 * 3600);
        within("codes.sms_ttl_secs", self.codes.sms_ttl_secs, 60, 3600);
        within("codes.max_attempts", i64::from(self.codes.max_attempts), 1, 20);
        within("codes.resend_cooldown_secs", self.codes.resend_cooldown_secs, 0, 3600);
        within("codes.max_sends", i64::from(self.codes.max_sends), 1, 1000);
        within("password.min_length", self.password.min_length as i64, 8, 128);
        within("password.max_length", self.password.max_length as i64, self.password.min_length as i64, 1024);
        for (name, value) in [
            ("ip_limits.signups_per_hour", self.ip_limits.signups_per_hour),
            ("ip_limits.logins_per_5_min", self.ip_limits.logins_per_5_min),
            ("ip_limits.resets_per_hour", self.ip_limits.resets_per_hour),
        ] {
            within(name, i64::try_from(value).unwrap_or(i64::MAX), 1, 1_000_000_000);
        }
        if let Some(code) = &self.sandbox_code
            && (code.len() != self.codes.length || !code.bytes().all(|b| b.is_ascii_digit()))
        {
            problems.push(format!("sandbox_code must be {} digits (codes.length)", self.codes.length));
        }
        for country in &self.sms.countries {
            if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_uppercase()) {
                problems.push(format!("sms.countries: {country:?} is not an ISO 3166-1 alpha-2 code (e.g. CH)"));
            }
        }
        for (n, rule) in self.roles.iter().enumerate() {
            if self.roles[..n].iter().any(|earlier| earlier.name == rule.name) {
                problems.push(format!("roles: {} is listed twice", rule.name));
            }
            if !valid_role_name(&rule.name) {
                problems.push(format!("roles: {:?} is not a role name (1-64 of A-Z a-z 0-9 . _ : -)", rule.name));
            }
            if let Some(bad) = rule.granted_by.iter().find(|g| !GRANTORS.contains(&g.as_str())) {
                problems.push(format!("roles: {} granted_by {bad:?}; use some of {}", rule.name, GRANTORS.join(", ")));
            }
        }
        if self.sign_in_methods.is_empty() {
            problems.push("sign_in_methods must name at least one of password, email_code, sms_code, passkey".into());
        }
        if self.languages.is_empty() || self.languages.iter().any(|l| !LANGUAGES.contains(&l.as_str())) {
            problems.push(format!("languages must be some of {}", LANGUAGES.join(", ")));
        }
        for origin in &self.cors_origins {
            if parse_origin(origin).as_deref() != Some(origin.as_str()) {
                problems.push(format!("cors_origins: {origin} is not an origin (scheme://host[:port], lower case)"));
            }
        }
        problems.extend(self.reference_problems());
        let hooks = &self.hooks;
        for (name, hook) in [
            ("pre_sign_up", &hooks.pre_sign_up),
            ("pre_token", &hooks.pre_token),
            ("user_migration", &hooks.user_migration),
        ] {
            problems.extend(hook.as_ref().and_then(|hook| hook.problem(name)));
        }
        problems.extend(self.branding.problems());
        for (i, provider) in self.identity_providers.iter().enumerate() {
            problems.extend(provider.problems());
            if self.identity_providers[..i].iter().any(|p| p.id == provider.id) {
                problems.push(format!("identity_providers: the id {:?} is given twice", provider.id));
            }
        }
        if let Some(webhook) = &self.webhook {
            let loopback = ["http://127.0.0.1:", "http://localhost:", "http://[::1]:"];
            let ok =
                webhook.url.starts_with("https://") || loopback.iter().any(|prefix| webhook.url.starts_with(prefix));
            if !ok || webhook.url.parse::<http::Uri>().is_err() {
                problems.push(format!(
                    "webhook.url must be an https:// URL (http:// only to 127.0.0.1 or localhost), not {:?}",
                    webhook.url
                ));
            }
        }
        if let Some(rp_id) = &self.passkeys.rp_id {
            let host_ok = !rp_id.is_empty()
                && rp_id.len() <= 253
                && rp_id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-');
            if !host_ok {
                problems.push(format!("passkeys.rp_id: {rp_id:?} is not a domain (lower case, e.g. example.com)"));
            }
            if self.passkeys.origins.is_empty() {
                problems
                    .push("passkeys.origins: at least one origin (https://app.example.com) with passkeys.rp_id".into());
            }
            for origin in &self.passkeys.origins {
                let host = parse_origin(origin).filter(|o| o == origin).and_then(|o| {
                    o.split_once("://").map(|(_, rest)| rest.rsplit_once(':').map_or(rest, |(h, _)| h).to_owned())
                });
                let within = host.as_deref().is_some_and(|h| h == rp_id || h.ends_with(&format!(".{rp_id}")));
                if !within {
                    problems
                        .push(format!("passkeys.origins: {origin} is not an origin on {rp_id} or a subdomain of it"));
                }
            }
        }
        if self.second_factors.required && !self.second_factors.allows(Factor::Email) {
            problems.push(
                "second_factors.required needs email among second_factors.allowed (a user signs in with an e-mailed \
                 code before it enrolls anything else)"
                    .into(),
            );
        }
        for (name, version) in [("terms_version", &self.terms_version), ("privacy_version", &self.privacy_version)] {
            if version.trim().is_empty() || version.len() > 64 {
                problems.push(format!("{name} must be 1 to 64 characters"));
            }
        }
        problems
    }

    /// The rules of the tenant's own reference kinds alone (what an edit of
    /// them must keep, whatever else the stored policy holds).
    pub fn reference_problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.reference.len() > MAX_KINDS {
            problems.push(format!("reference: at most {MAX_KINDS} kinds of the tenant's own"));
        }
        for (kind, entries) in &self.reference {
            if entries.len() > MAX_ENTRIES {
                problems.push(format!("reference.{kind}: at most {MAX_ENTRIES} entries"));
            }
            if !valid_kind_name(kind) || BUILT_IN.contains(&kind.as_str()) {
                problems.push(format!(
                    "reference: {kind:?} is not a kind of the tenant's own (2-40 of a-z 0-9 -, not a built-in kind)"
                ));
            }
            for (n, entry) in entries.iter().enumerate() {
                if !valid_entry_code(&entry.code) {
                    problems
                        .push(format!("reference.{kind}: {:?} is not a code (1-64 of A-Z a-z 0-9 . _ -)", entry.code));
                }
                if entries[..n].iter().any(|e| e.code.eq_ignore_ascii_case(&entry.code)) {
                    problems.push(format!("reference.{kind}: {} is listed twice", entry.code));
                }
                if !entry.names.contains_key("en") || entry.names.keys().any(|l| !LANGUAGES.contains(&l.as_str())) {
                    problems.push(format!(
                        "reference.{kind}.{}: names need \"en\" and only some of {}",
                        entry.code,
                        LANGUAGES.join(", ")
                    ));
                }
                if entry.names.values().any(|n| n.trim().is_empty() || n.chars().count() > 200) {
                    problems.push(format!("reference.{kind}.{}: names are 1 to 200 characters", entry.code));
                }
            }
        }
        problems
    }
}

/// `text` as a browser sends it in `Origin` (`scheme://host[:port]`, lower
/// case, no path or trailing slash), if it is one.
pub fn parse_origin(text: &str) -> Option<String> {
    let (scheme, rest) = text.split_once("://")?;
    let host_ok = !rest.is_empty()
        && rest.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'));
    let port_ok = rest.rsplit_once(':').is_none_or(|(_, port)| port.parse::<u16>().is_ok() || rest.ends_with(']'));
    (matches!(scheme, "http" | "https") && host_ok && port_ok).then(|| text.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_refresh_idle_timeout_defaults_to_30_days_and_a_stored_policy_without_it_still_loads() {
        assert_eq!(Policy::default().refresh.idle_timeout_secs, 2_592_000);
        // A policy stored before the field existed.
        let stored = serde_json::json!({ "refresh_token_ttl_secs": 600, "codes": { "length": 8 } });
        let policy: Policy = serde_json::from_value(stored).unwrap();
        assert_eq!((policy.refresh_token_ttl_secs, policy.refresh.idle_timeout_secs), (600, 2_592_000));
        let partial: Policy = serde_json::from_value(serde_json::json!({ "refresh": {} })).unwrap();
        assert_eq!(partial.refresh, RefreshPolicy::default());
    }

    #[test]
    fn the_refresh_idle_timeout_is_bounded_and_outlasts_an_access_token() {
        let with = |access: i64, idle: i64| {
            let refresh = RefreshPolicy { idle_timeout_secs: idle };
            Policy { access_token_ttl_secs: access, refresh, ..Policy::default() }.problems()
        };
        assert!(with(900, 900).is_empty() && with(900, 400 * 24 * 3600).is_empty());
        assert!(with(60, 300).is_empty(), "never below 5 minutes");
        for idle in [899, 300, -1, 0, i64::MAX] {
            assert_eq!(with(900, idle), [format!("refresh.idle_timeout_secs must be 900 to 34560000, not {idle}")]);
        }
        assert_eq!(with(60, 299), ["refresh.idle_timeout_secs must be 300 to 34560000, not 299"]);
        // A broken access-token lifetime is reported once, on its own field.
        assert_eq!(with(i64::MAX, 86_400).len(), 1);
    }

    #[test]
    fn a_lambda_hook_names_a_function_arn() {
        for good in [
            "arn:aws:lambda:eu-central-1:123456789012:function:pre-sign-up",
            "arn:aws:lambda:us-gov-west-1:123456789012:function:my_hook:$LATEST",
            "arn:aws:lambda:eu-central-1:123456789012:function:hook:7",
            "arn:aws:lambda:eu-central-1:123456789012:function:hook:live",
            "arn:aws-cn:lambda:cn-north-1:123456789012:function:hook",
        ] {
            assert!(is_lambda_function_arn(good), "{good}");
        }
        for bad in [
            "",
            "pre-sign-up",
            "arn:aws:lambda:eu-central-1:123456789012:function:",
            "arn:aws:lambda:eu-central-1:12345678901:function:hook",
            "arn:aws:lambda:eu-central-1:1234567890ab:function:hook",
            "arn:aws:lambda:eu-central:123456789012:function:hook",
            "arn:aws:lambda:EU-central-1:123456789012:function:hook",
            "arn:aws:lambda::123456789012:function:hook",
            "arn:aws:lambda:eu-central-1:123456789012:layer:hook",
            "arn:aws:sns:eu-central-1:123456789012:function:hook",
            "arn:other:lambda:eu-central-1:123456789012:function:hook",
            "arn:aws:lambda:eu-central-1:123456789012:function:hook:live:extra",
            "arn:aws:lambda:eu-central-1:123456789012:function:hook:",
            "arn:aws:lambda:eu-central-1:123456789012:function:ho/ok",
            "arn:aws:lambda:eu-central-1:123456789012:function:hook x",
            "https://hooks.example.com/pre-sign-up",
        ] {
            assert!(!is_lambda_function_arn(bad), "{bad}");
        }
        assert!(!is_lambda_function_arn(&format!(
            "arn:aws:lambda:eu-central-1:123456789012:function:{}",
            "h".repeat(65)
        )));
    }

    #[test]
    fn only_plain_http_to_a_loopback_host_counts_as_local() {
        assert!(is_loopback_http("http://127.0.0.1:4000"));
        assert!(is_loopback_http("http://localhost:4000/path"));
        assert!(is_loopback_http("http://[::1]:4000"));
        for url in [
            "http://localhost:1@10.0.0.5",
            "http://localhost",
            "http://127.0.0.1.evil.example:80",
            "https://127.0.0.1:1",
        ] {
            assert!(!is_loopback_http(url), "{url}");
        }
        let with = |issuer: &str| {
            let provider: IdentityProvider = serde_json::from_value(serde_json::json!({
                "id": "acme", "kind": "oidc", "issuer": issuer, "client_id": "c", "client_secret": "s",
            }))
            .unwrap();
            provider.problems()
        };
        assert!(with("http://127.0.0.1:4000").is_empty());
        assert!(!with("http://localhost:1@10.0.0.5").is_empty(), "user info smuggles another host");
        assert!(!with("http://sso.acme.example").is_empty());
    }

    #[test]
    fn a_hook_takes_a_url_or_a_lambda_arn_but_not_both() {
        let arn = "arn:aws:lambda:eu-central-1:123456789012:function:pre-token";
        let with = |hook: Hook| {
            Policy { hooks: Hooks { pre_token: Some(hook), ..Hooks::default() }, ..Policy::default() }.problems()
        };
        assert!(with(Hook::lambda(arn)).is_empty());
        assert!(with(Hook::to("https://hooks.example.com/t")).is_empty());
        assert_eq!(
            with(Hook { lambda_arn: Some(arn.into()), ..Hook::to("https://hooks.example.com/t") }),
            ["hooks.pre_token takes a url or a lambda_arn, not both"]
        );
        assert_eq!(
            with(Hook { lambda_arn: None, ..Hook::lambda(arn) }),
            ["hooks.pre_token needs a url or a lambda_arn"]
        );
        let refused = with(Hook::lambda("arn:aws:lambda:eu-central-1:123:function:x"));
        assert_eq!(refused.len(), 1);
        assert!(refused[0].starts_with("hooks.pre_token.lambda_arn must be a Lambda function's ARN"), "{refused:?}");
        // Stored policies of either kind read back; the one a hook does not
        // use is left out of the JSON.
        let stored: Hooks = serde_json::from_value(serde_json::json!({
            "pre_sign_up": { "url": "https://hooks.example.com/s", "on_failure": "allow" },
            "pre_token": { "lambda_arn": arn, "timeout_ms": 500 },
        }))
        .unwrap();
        assert_eq!(
            stored.pre_sign_up.as_ref().and_then(Hook::target),
            Some(HookTarget::Url("https://hooks.example.com/s"))
        );
        assert_eq!(stored.pre_token.as_ref().and_then(Hook::target), Some(HookTarget::Lambda(arn)));
        assert_eq!(
            serde_json::to_value(&stored.pre_token).unwrap(),
            serde_json::json!({ "lambda_arn": arn, "timeout_ms": 500, "on_failure": "deny" })
        );
        assert_eq!(Hook { lambda_arn: Some(arn.into()), ..Hook::to("https://x.example") }.target(), None);
    }
}
