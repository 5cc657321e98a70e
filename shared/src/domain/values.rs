//! Typed values that can only be built valid ("parse, don't validate").
//! Each `parse` returns the field error code on failure.

use std::fmt;
use std::str::FromStr;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// A normalized e-mail address: trimmed, lower-cased, domain in IDNA ASCII.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct EmailAddress(String);

impl EmailAddress {
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err("required");
        }
        if trimmed.len() > 254 {
            return Err("too_long");
        }
        let (local, domain) = trimmed.rsplit_once('@').ok_or("invalid_email")?;
        let domain = idna::domain_to_ascii(domain).map_err(|_| "invalid_email")?;
        if local.is_empty() || !domain.contains('.') || domain.ends_with('.') {
            return Err("invalid_email");
        }
        let normalized = format!("{}@{}", local.to_lowercase(), domain);
        email_address::EmailAddress::from_str(&normalized).map_err(|_| "invalid_email")?;
        // Quoted local parts and IP-literal domains are valid RFC 5322 but not
        // deliverable through SES; refuse them.
        if normalized.contains('"') || normalized.contains('[') {
            return Err("invalid_email");
        }
        Ok(Self(normalized))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn local_part(&self) -> &str {
        self.0.rsplit_once('@').map_or(&self.0, |(local, _)| local)
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The kinds of user: the back office's staff (`service_owner`), a
/// company's staff (`company_user`) and everyone else (`consumer`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UserType {
    ServiceOwner,
    CompanyUser,
    Consumer,
}

impl UserType {
    pub const ALL: [UserType; 3] = [UserType::ServiceOwner, UserType::CompanyUser, UserType::Consumer];
    /// How [`ALL`](Self::ALL) are spelled, in the same order.
    pub const NAMES: [&'static str; 3] = ["service_owner", "company_user", "consumer"];

    /// The type as stored and answered.
    pub fn as_str(self) -> &'static str {
        match self {
            UserType::ServiceOwner => "service_owner",
            UserType::CompanyUser => "company_user",
            UserType::Consumer => "consumer",
        }
    }

    /// A user type as the source APIs spell it: in any case
    /// (`SERVICE_OWNER`), and `subscriber` for a consumer.
    pub fn parse(raw: &str) -> Option<Self> {
        let lower = raw.to_ascii_lowercase();
        let lower = if lower == "subscriber" { "consumer" } else { lower.as_str() };
        Self::ALL.into_iter().find(|t| t.as_str() == lower)
    }

    /// Whether users of this type work in the back office.
    pub fn is_staff(self) -> bool {
        matches!(self, UserType::ServiceOwner | UserType::CompanyUser)
    }
}

impl fmt::Display for UserType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A phone number in E.164 (`+41791234567`), checked against libphonenumber's
/// metadata.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Phone(String);

impl Phone {
    /// Parses `+<country><number>`; spaces, dots, dashes and brackets allowed.
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err("required");
        }
        if trimmed.len() > 32 || !trimmed.starts_with('+') {
            return Err("invalid_phone");
        }
        let number = phonenumber::parse(None, trimmed).map_err(|_| "invalid_phone")?;
        if !phonenumber::is_valid(&number) {
            return Err("invalid_phone");
        }
        Ok(Self(number.format().mode(phonenumber::Mode::E164).to_string()))
    }

    /// Parses a prefix (`+41`, `0041` or `41`) and a national number.
    pub fn from_parts(prefix: &str, national: &str) -> Result<Self, &'static str> {
        let digits = prefix.trim().trim_start_matches('+').trim_start_matches("00");
        if digits.is_empty() || digits.len() > 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err("invalid_phone_prefix");
        }
        let national = national.trim().trim_start_matches('0');
        Self::parse(&format!("+{digits}{national}"))
    }

    /// The ISO 3166-1 alpha-2 region of the number (by its country code and
    /// prefix), where the numbering plan names one.
    pub fn region(&self) -> Option<String> {
        let number = phonenumber::parse(None, &self.0).ok()?;
        number.country().id().map(|id| id.as_ref().to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The number with all but the last two digits hidden.
    pub fn masked(&self) -> String {
        let keep = self.0.len().saturating_sub(2);
        self.0.char_indices().map(|(i, c)| if i == 0 || i >= keep { c } else { '•' }).collect()
    }
}

/// A username: 3–32 characters, a letter first, then letters, digits, `.`,
/// `_` or `-` (so it never reads as an e-mail address or a phone number).
/// Kept as given (`CashierMariaA`); unique and matched case-insensitively.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Username(String);

impl Username {
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let name = raw.trim();
        match name.len() {
            0 => return Err("required"),
            1..=2 => return Err("too_short"),
            33.. => return Err("too_long"),
            _ => {}
        }
        let mut bytes = name.bytes();
        let first_is_letter = bytes.next().is_some_and(|b| b.is_ascii_alphabetic());
        if !first_is_letter || !bytes.all(|b| b.is_ascii_alphanumeric() || b".-_".contains(&b)) {
            return Err("invalid_username");
        }
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A person's given or family name: 1–100 characters, no control characters.
pub fn parse_name(raw: &str) -> Result<String, &'static str> {
    let name = raw.trim();
    if name.is_empty() {
        return Err("required");
    }
    if name.chars().count() > 100 {
        return Err("too_long");
    }
    if name.chars().any(char::is_control) {
        return Err("invalid_characters");
    }
    Ok(name.to_owned())
}

/// Genders a profile may state (reference data `genders`).
pub const GENDERS: [&str; 4] = ["female", "male", "diverse", "undisclosed"];

/// A company id: 1–64 bytes, trimmed.
pub fn parse_company_id(raw: &str) -> Result<String, &'static str> {
    let id = raw.trim();
    if id.is_empty() || id.len() > 64 { Err("invalid_characters") } else { Ok(id.to_owned()) }
}

/// A reason for the audit trail: 1–500 characters, not only spaces (trimmed).
pub fn parse_reason(raw: &str) -> Result<String, &'static str> {
    let reason = raw.trim();
    match reason.chars().count() {
        0 => Err("required"),
        1..=500 => Ok(reason.to_owned()),
        _ => Err("too_long"),
    }
}

pub fn parse_gender(raw: &str) -> Result<String, &'static str> {
    let value = raw.trim().to_ascii_lowercase();
    if GENDERS.contains(&value.as_str()) { Ok(value) } else { Err("invalid_choice") }
}

/// A birth date `YYYY-MM-DD`, not in the future and not before 1900.
pub fn parse_birth_date(raw: &str, today: NaiveDate) -> Result<NaiveDate, &'static str> {
    let date = NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d").map_err(|_| "invalid_date")?;
    let earliest = NaiveDate::from_ymd_opt(1900, 1, 1).ok_or("invalid_date")?;
    if date > today || date < earliest {
        return Err("out_of_range");
    }
    Ok(date)
}

/// The languages Registrar speaks.
pub const LANGUAGES: [&str; 4] = ["en", "de", "fr", "it"];

/// A supported language from a BCP 47 tag (`de`, `de-CH` → `de`).
pub fn parse_language(raw: &str) -> Result<String, &'static str> {
    let tag: unic_langid::LanguageIdentifier = raw.trim().parse().map_err(|_| "invalid_language")?;
    let primary = tag.language.as_str().to_ascii_lowercase();
    if LANGUAGES.contains(&primary.as_str()) { Ok(primary) } else { Err("unsupported_language") }
}

/// An IANA time zone name (`Europe/Zurich`).
pub fn parse_time_zone(raw: &str) -> Result<String, &'static str> {
    let tz = chrono_tz::Tz::from_str(raw.trim()).map_err(|_| "invalid_time_zone")?;
    Ok(tz.name().to_owned())
}

/// The password rules of a tenant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PasswordPolicy {
    pub min_length: usize,
    pub max_length: usize,
    pub require_lowercase: bool,
    pub require_uppercase: bool,
    pub require_digit: bool,
    pub require_symbol: bool,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        Self {
            min_length: 8,
            max_length: 32,
            require_lowercase: true,
            require_uppercase: true,
            require_digit: true,
            require_symbol: true,
        }
    }
}

const COMMON_PASSWORDS: &str = include_str!("../../data/common-passwords.txt");

/// Whether `password` (case-insensitively) is in the bundled list of common
/// passwords.
pub fn is_common_password(password: &str) -> bool {
    let lowered = password.to_lowercase();
    COMMON_PASSWORDS.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).any(|l| l == lowered)
}

impl PasswordPolicy {
    /// Every rule `password` breaks, as field error codes with their numbers.
    pub fn check(&self, password: &str, email: Option<&EmailAddress>) -> Vec<(&'static str, Option<i64>)> {
        let mut broken = Vec::new();
        let length = password.chars().count();
        if length < self.min_length {
            broken.push(("password_too_short", Some(self.min_length as i64)));
        }
        if length > self.max_length {
            broken.push(("password_too_long", Some(self.max_length as i64)));
        }
        if self.require_lowercase && !password.chars().any(|c| c.is_ascii_lowercase()) {
            broken.push(("password_needs_lowercase", None));
        }
        if self.require_uppercase && !password.chars().any(|c| c.is_ascii_uppercase()) {
            broken.push(("password_needs_uppercase", None));
        }
        if self.require_digit && !password.chars().any(|c| c.is_ascii_digit()) {
            broken.push(("password_needs_digit", None));
        }
        if self.require_symbol && !password.chars().any(|c| !c.is_alphanumeric() && !c.is_whitespace()) {
            broken.push(("password_needs_symbol", None));
        }
        if let Some(email) = email {
            let local = email.local_part();
            if local.chars().count() >= 3 && password.to_lowercase().contains(local) {
                broken.push(("password_contains_email", None));
            }
        }
        if is_common_password(password) {
            broken.push(("password_too_common", None));
        }
        broken
    }
}

/// The password rules `password` breaks, as field errors on `field`.
pub fn password_errors(
    policy: &PasswordPolicy,
    field: &str,
    password: &str,
    email: Option<&EmailAddress>,
) -> Vec<super::FieldError> {
    policy
        .check(password, email)
        .into_iter()
        .map(|(code, number)| {
            let error = super::FieldError::new(field, code);
            match (code, number) {
                ("password_too_short", Some(n)) => error.with("min", n),
                ("password_too_long", Some(n)) => error.with("max", n),
                _ => error,
            }
        })
        .collect()
}

/// The personal details of a person, shared by a sign-up, a registration,
/// a user created by the back office, the stored user, the profile and the
/// views (each flattens it: the fields sit beside the others on the wire
/// and in the table). The table spells the language `language`, as every
/// earlier version wrote and reads it; the API spells it
/// `preferred_language` ([`PersonalDetails::serialize_wire`]).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonalDetails {
    pub first_name: String,
    pub last_name: String,
    pub gender: Option<String>,
    pub birth_date: Option<NaiveDate>,
    /// The language of messages (a code of `LANGUAGES`).
    #[serde(alias = "preferred_language")]
    pub language: String,
    /// An IANA time zone.
    pub time_zone: Option<String>,
}

impl PersonalDetails {
    /// The details as the API answers them (`preferred_language`), for a
    /// view that flattens them.
    pub fn serialize_wire<S: serde::Serializer>(details: &PersonalDetails, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Wire<'a> {
            first_name: &'a str,
            last_name: &'a str,
            gender: &'a Option<String>,
            birth_date: &'a Option<NaiveDate>,
            preferred_language: &'a str,
            time_zone: &'a Option<String>,
        }
        Wire {
            first_name: &details.first_name,
            last_name: &details.last_name,
            gender: &details.gender,
            birth_date: &details.birth_date,
            preferred_language: &details.language,
            time_zone: &details.time_zone,
        }
        .serialize(serializer)
    }
}

/// A user's status, from its letter or word.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Created,
    Active,
    Suspended,
    Disabled,
    Closed,
}

impl Status {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "c" | "created" => Some(Status::Created),
            "a" | "active" => Some(Status::Active),
            "s" | "suspended" => Some(Status::Suspended),
            "d" | "disabled" => Some(Status::Disabled),
            "x" | "closed" => Some(Status::Closed),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Created => "created",
            Status::Active => "active",
            Status::Suspended => "suspended",
            Status::Disabled => "disabled",
            Status::Closed => "closed",
        }
    }

    /// Where a user in this status may go: C→A, A→S, S→A, A→D, S→D, D→A,
    /// any→X; X is final.
    pub fn allowed_moves(self) -> &'static [Status] {
        match self {
            Status::Created => &[Status::Active, Status::Closed],
            Status::Active => &[Status::Suspended, Status::Disabled, Status::Closed],
            Status::Suspended => &[Status::Active, Status::Disabled, Status::Closed],
            Status::Disabled => &[Status::Active, Status::Closed],
            Status::Closed => &[],
        }
    }
}

/// A login name as the lookup sees it (the normalized e-mail or E.164
/// phone), so every spelling of one name shares one failure counter whether
/// or not an account exists.
pub fn normalized_name(username: &str) -> String {
    if let Ok(email) = EmailAddress::parse(username) {
        return email.to_string();
    }
    if let Ok(phone) = Phone::parse(username) {
        return phone.as_str().to_owned();
    }
    username.trim().to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_types_read_as_the_source_apis_spell_them() {
        assert_eq!(UserType::parse("SERVICE_OWNER"), Some(UserType::ServiceOwner));
        assert_eq!(UserType::parse("Company_User"), Some(UserType::CompanyUser));
        assert_eq!(UserType::parse("subscriber"), Some(UserType::Consumer));
        assert_eq!(UserType::parse("admin"), None);
        assert_eq!(UserType::ALL.map(UserType::as_str), UserType::NAMES);
        for kind in UserType::ALL {
            assert_eq!(serde_json::to_value(kind).unwrap(), serde_json::json!(kind.as_str()));
            assert_eq!(UserType::parse(kind.as_str()), Some(kind));
        }
    }

    #[test]
    fn email_is_normalized() {
        let email = EmailAddress::parse("  Anna.Muster@BÜCHER.example ").unwrap();
        assert_eq!(email.as_str(), "anna.muster@xn--bcher-kva.example");
        assert_eq!(email.local_part(), "anna.muster");
    }

    #[test]
    fn bad_emails_are_refused() {
        for bad in ["", "plain", "@example.com", "a@b", "a@@b.com", "\"q\"@example.com", "a@[1.2.3.4]"] {
            assert!(EmailAddress::parse(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn phones_become_e164() {
        assert_eq!(Phone::parse("+41 79 123 45 67").unwrap().as_str(), "+41791234567");
        assert_eq!(Phone::from_parts("+49", "0151 23456789").unwrap().as_str(), "+4915123456789");
        assert_eq!(Phone::from_parts("0041", "79 123 45 67").unwrap().as_str(), "+41791234567");
        assert_eq!(Phone::parse("079 123 45 67"), Err("invalid_phone"));
        assert_eq!(Phone::parse("+41 12"), Err("invalid_phone"));
        assert_eq!(Phone::from_parts("x", "79"), Err("invalid_phone_prefix"));
    }

    #[test]
    fn password_policy_names_every_broken_rule() {
        let policy = PasswordPolicy::default();
        let email = EmailAddress::parse("anna@example.com").unwrap();
        let codes = |p: &str| -> Vec<&str> { policy.check(p, Some(&email)).into_iter().map(|(c, _)| c).collect() };
        assert!(codes("Str0ng!Pass").is_empty());
        assert_eq!(
            codes("short"),
            ["password_too_short", "password_needs_uppercase", "password_needs_digit", "password_needs_symbol"]
        );
        assert!(codes("Anna#2026xyz").contains(&"password_contains_email"));
        assert!(codes("P@ssw0rd").contains(&"password_too_common"));
        assert!(codes(&"Aa1!".repeat(9)).contains(&"password_too_long"));
    }

    #[test]
    fn profile_values() {
        let today = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        assert!(parse_birth_date("1990-02-28", today).is_ok());
        assert_eq!(parse_birth_date("2030-01-01", today), Err("out_of_range"));
        assert_eq!(parse_birth_date("1990-02-30", today), Err("invalid_date"));
        assert_eq!(parse_language("de-CH"), Ok("de".to_owned()));
        assert_eq!(parse_language("es"), Err("unsupported_language"));
        assert_eq!(parse_time_zone("Europe/Zurich"), Ok("Europe/Zurich".to_owned()));
        assert_eq!(parse_time_zone("Mars/Olympus"), Err("invalid_time_zone"));
        assert_eq!(parse_name("  Anna "), Ok("Anna".to_owned()));
        assert_eq!(parse_name("a\u{0}b"), Err("invalid_characters"));
    }
}
