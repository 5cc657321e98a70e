//! Request bodies as types: each field is declared once, with its kind of
//! value, and the declaration both reads the body (every field error at
//! once, in declaration order, then unknown fields) and describes it as
//! JSON Schema for the OpenAPI document.
//!
//! ```ignore
//! body! {
//!     /// `POST /v1/auth/password/forgot`
//!     pub struct ForgotPasswordBody {
//!         email: required Email,
//!     }
//! }
//! ```
//!
//! `required` fields answer `required` when absent or `null`; `optional`
//! ones treat `null` as absent; `patch` fields tell absent (`None`) from
//! `null` (`Some(None)`); `present` fields may be absent but not `null`;
//! `flatten` embeds another `body!` type's fields in its place (the
//! personal details shared by sign-up and user creation).
//!
//! `Body::parse(ctx)` reads a request's body whole: every error at once, or
//! the complete body, whose required fields are values (not `Option`s).
//! Rules that depend on the tenant or on other fields (the password policy)
//! are checked by the handler on the partial body `Body::read` gives (a
//! field that failed is `None` there, its error recorded in the
//! [`Fields`]), then `Body::complete(f, partial)` answers every error at
//! once or gives the complete body.

use chrono::NaiveDate;
use serde_json::{Map, Value, json};

use super::input::Fields;
use crate::domain::values::{self, EmailAddress, PersonalDetails, Phone};

/// What reading a field may depend on.
pub struct Cx {
    /// Today, in the app's clock (birth dates).
    pub today: NaiveDate,
    /// Now, in the app's clock.
    pub now: chrono::DateTime<chrono::Utc>,
    /// The length of the tenant's one-time codes.
    pub code_length: usize,
}

impl Cx {
    /// The context of a request (of its tenant, if it has one).
    pub fn of(ctx: &super::context::Ctx<'_>) -> Self {
        Self::within(ctx.app, ctx.tenant.as_ref())
    }

    /// The context of `tenant`'s requests (the hosted pages know the
    /// tenant by the client, not by a key).
    pub fn within(app: &crate::app::App, tenant: Option<&crate::domain::tenant::Tenant>) -> Self {
        let code_length =
            tenant.map_or(6, |t| t.policy.sandbox_code.as_ref().map_or(t.policy.codes.length, String::len));
        let now = app.clock.now();
        Self { today: now.date_naive(), now, code_length }
    }
}

/// A kind of field value: how it is read from a present, non-null JSON
/// value, and its JSON Schema.
pub trait FieldKind {
    type Out;
    /// Reads field `name` (present and not `null`), recording its error.
    fn read(f: &mut Fields, name: &str, cx: &Cx) -> Option<Self::Out>;
    /// The JSON Schema of a valid value.
    fn schema() -> Value;
}

/// Reads a string field and parses it.
fn string<T>(f: &mut Fields, name: &str, parse: impl FnOnce(&str) -> Result<T, &'static str>) -> Option<T> {
    let raw = f.opt_str(name);
    f.check(name, raw, parse)
}

/// Declares a string kind from a parse function and a schema.
macro_rules! string_kind {
    ($(#[$doc:meta])* $kind:ident -> $out:ty, |$raw:ident, $cx:ident| $parse:expr, $schema:expr) => {
        $(#[$doc])*
        pub struct $kind;

        impl FieldKind for $kind {
            type Out = $out;
            #[allow(unused_variables)]
            fn read(f: &mut Fields, name: &str, $cx: &Cx) -> Option<$out> {
                string(f, name, |$raw: &str| $parse)
            }
            fn schema() -> Value {
                $schema
            }
        }
    };
}

string_kind!(
    /// An e-mail address (RFC 5321 syntax, at most 254 characters).
    Email -> EmailAddress, |raw, cx| EmailAddress::parse(raw), json!({ "type": "string", "format": "email", "maxLength": 254 })
);
string_kind!(
    /// A phone number in E.164 (`+41791234567`).
    E164 -> Phone, |raw, cx| Phone::parse(raw), json!({ "type": "string", "pattern": "^\\+[1-9][0-9]{6,14}$" })
);
string_kind!(
    /// A username of a tenant that uses them: 3–32 letters, digits, `.`, `_`
    /// or `-`, a letter first; unique whatever its case.
    NewUsername -> values::Username, |raw, cx| values::Username::parse(raw),
    json!({ "type": "string", "pattern": "^[A-Za-z][A-Za-z0-9._-]{2,31}$" })
);
string_kind!(
    /// A calling code (`+41`).
    PhonePrefix -> String, |raw, cx| Ok(raw.to_owned()), json!({ "type": "string", "pattern": "^\\+?[1-9][0-9]{0,2}$" })
);
string_kind!(
    /// A national phone number (digits, spaces, dashes, dots, parentheses).
    NationalNumber -> String, |raw, cx| Ok(raw.to_owned()), json!({ "type": "string", "pattern": "^[0-9][0-9 ().-]{3,19}$" })
);
string_kind!(
    /// A given or family name: 1–100 characters, not only spaces, no control characters.
    Name -> String, |raw, cx| values::parse_name(raw),
    json!({ "type": "string", "minLength": 1, "maxLength": 100, "pattern": "^[^\\u0000-\\u001f\\u007f-\\u009f]*[^\\s\\u0000-\\u001f\\u007f-\\u009f][^\\u0000-\\u001f\\u007f-\\u009f]*$" })
);
string_kind!(
    /// A password as typed (checked against the stored hash, not a policy).
    Password -> String, |raw, cx| Ok(raw.to_owned()), json!({ "type": "string", "minLength": 1, "maxLength": 1024 })
);
string_kind!(
    /// A new password: 8–32 characters under the default policy; the
    /// tenant's other rules (classes, common passwords) are the handler's.
    NewPassword -> String, |raw, cx| Ok(raw.to_owned()), json!({ "type": "string", "minLength": 8, "maxLength": 32 })
);
/// A new password typed twice: a `confirm_password` that is given must be
/// the same as the password (`password_mismatch`), a rule JSON Schema
/// cannot state.
pub fn check_confirmation(f: &mut Fields, password: Option<&String>, confirmation: Option<&String>) {
    if let (Some(password), Some(confirmation)) = (password, confirmation)
        && password != confirmation
    {
        f.errors.push(crate::domain::FieldError::new("confirm_password", "password_mismatch"));
    }
}

string_kind!(
    /// A past instant in RFC 3339 (`2026-11-20T09:30:00Z`).
    PastInstant -> chrono::DateTime<chrono::Utc>, |raw, cx| {
        let at = chrono::DateTime::parse_from_rfc3339(raw).map_err(|_| "invalid_datetime")?.to_utc();
        if at > cx.now { Err("out_of_range") } else { Ok(at) }
    },
    json!({ "type": "string", "format": "date-time" })
);
string_kind!(
    /// A user type (the back office's kinds of user, docs/back-office.md) as
    /// the source APIs spell it.
    UserType -> crate::domain::values::UserType, |raw, cx| crate::domain::values::UserType::parse(raw).ok_or("invalid_choice"),
    json!({ "type": "string", "pattern": crate::domain::users::user_type_pattern() })
);
string_kind!(
    /// A one-time code as sent (its tries are counted by the domain).
    Code -> String, |raw, cx| Ok(raw.to_owned()), json!({ "type": "string", "pattern": "^[0-9]{4,10}$" })
);
string_kind!(
    /// A second factor's code: digits (sent, or from the app) or a recovery
    /// code (ten base32 characters, a dash in the middle or not).
    FactorCode -> String, |raw, cx| Ok(raw.to_owned()),
    json!({ "type": "string", "pattern": "^([0-9]{4,10}|[A-Za-z2-7]{5}-?[A-Za-z2-7]{5})$" })
);
/// A one-time code of the tenant's length (`invalid_code_format` names it).
pub struct TenantCode;

impl FieldKind for TenantCode {
    type Out = String;
    fn read(f: &mut Fields, name: &str, cx: &Cx) -> Option<String> {
        let code = f.opt_str(name)?;
        if code.len() == cx.code_length && code.bytes().all(|b| b.is_ascii_digit()) {
            return Some(code);
        }
        f.errors
            .push(crate::domain::FieldError::new(name, "invalid_code_format").with("length", cx.code_length as i64));
        None
    }
    fn schema() -> Value {
        json!({ "type": "string", "pattern": "^[0-9]{4,10}$" })
    }
}
string_kind!(
    /// A gender of the reference data `genders`.
    Gender -> String, |raw, cx| values::parse_gender(raw),
    json!({ "type": "string", "enum": values::GENDERS })
);
string_kind!(
    /// A birth date `YYYY-MM-DD`, from 1900 until today.
    BirthDate -> NaiveDate, |raw, cx| values::parse_birth_date(raw, cx.today),
    json!({ "type": "string", "format": "date" })
);
string_kind!(
    /// A BCP 47 language tag of a language Registrar speaks (`de`, `de-CH`).
    Language -> String, |raw, cx| values::parse_language(raw),
    json!({ "type": "string", "pattern": "^(en|de|fr|it)(-[A-Z]{2})?$", "examples": ["de", "de-CH"] })
);
string_kind!(
    /// An IANA time zone name (`Europe/Zurich`).
    TimeZone -> String, |raw, cx| values::parse_time_zone(raw),
    json!({ "$ref": "#/components/schemas/TimeZone" })
);
string_kind!(
    /// Any string (checked by the handler against another field).
    Text -> String, |raw, cx| Ok(raw.to_owned()), json!({ "type": "string", "minLength": 1, "maxLength": 320 })
);
string_kind!(
    /// What a user signs in with.
    Username -> String, |raw, cx| Ok(raw.to_owned()), json!({ "type": "string", "minLength": 1, "maxLength": 320 })
);
string_kind!(
    /// An id handed out by an earlier answer (`ceremony_id`).
    Id -> String, |raw, cx| Ok(raw.to_owned()), json!({ "type": "string", "minLength": 1, "maxLength": 200 })
);
string_kind!(
    /// A WebAuthn assertion as the JSON text of `PublicKeyCredential.toJSON()`
    /// (a form's field: the hosted passkey page's).
    Assertion -> String, |raw, cx| if raw.chars().count() > 4_096 { Err("too_long") } else { Ok(raw.to_owned()) },
    json!({ "type": "string", "minLength": 1, "maxLength": 4096 })
);

string_kind!(
    /// An ID token (a JWS in compact form) a provider issued.
    IdToken -> String, |raw, cx| {
        let parts: Vec<&str> = raw.split('.').collect();
        let shape = parts.len() == 3
            && parts.iter().take(2).all(|p| !p.is_empty())
            && parts.iter().all(|p| p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        if raw.len() > 8_192 { Err("too_long") } else if shape { Ok(raw.to_owned()) } else { Err("invalid_format") }
    },
    json!({ "type": "string", "maxLength": 8192, "pattern": "^[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]*$" })
);
string_kind!(
    /// The `nonce` an app sent to the provider: 1–512 characters.
    Nonce -> String, |raw, cx| if raw.is_empty() { Err("required") } else if raw.chars().count() > 512 { Err("too_long") } else { Ok(raw.to_owned()) },
    json!({ "type": "string", "minLength": 1, "maxLength": 512 })
);
string_kind!(
    /// A tenant's identity provider id (`google`, `acme-sso`).
    ProviderId -> String, |raw, cx| {
        let ok = (1..=32).contains(&raw.len()) && raw.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if ok { Ok(raw.to_owned()) } else { Err("invalid_format") }
    },
    json!({ "type": "string", "pattern": "^[a-z0-9-]{1,32}$" })
);

/// What a value that names nothing that can exist is answered with (no
/// field error: a malformed id or token is as unknown as any other).
pub trait Unknown {
    fn error() -> crate::domain::Error;
}

/// A login challenge that is not there: 404 `challenge_not_found`.
pub struct NoChallenge;

impl Unknown for NoChallenge {
    fn error() -> crate::domain::Error {
        crate::domain::Error::ChallengeNotFound
    }
}

/// Answered like a wrong code (the second factor's answer: a challenge that
/// is not there tells nothing more than a wrong code).
pub struct AsWrongCode;

impl Unknown for AsWrongCode {
    fn error() -> crate::domain::Error {
        crate::domain::Error::InvalidCode
    }
}

/// A token that is not one: 401 `invalid_token`.
pub struct NoToken;

impl Unknown for NoToken {
    fn error() -> crate::domain::Error {
        crate::domain::Error::InvalidToken
    }
}

/// A login challenge's id (`chl_…`, a [`ChallengeId`]); a malformed one is
/// answered as `U` says once no field has an error.
///
/// [`ChallengeId`]: crate::domain::ids::ChallengeId
pub struct Challenge<U>(std::marker::PhantomData<U>);

impl<U: Unknown> FieldKind for Challenge<U> {
    type Out = crate::domain::ids::ChallengeId;
    fn read(f: &mut Fields, name: &str, _: &Cx) -> Option<Self::Out> {
        let raw = f.opt_str(name)?;
        let id = crate::domain::ids::ChallengeId::parse(&raw);
        if id.is_none() {
            f.refuse(U::error().into());
        }
        id
    }
    fn schema() -> Value {
        json!({ "type": "string", "minLength": 1, "maxLength": 200 })
    }
}

/// A refresh token (a [`RefreshToken`], naming its session); a malformed
/// one is 401 `invalid_token` once no field has an error.
///
/// [`RefreshToken`]: crate::domain::ids::RefreshToken
pub struct Refresh;

impl FieldKind for Refresh {
    type Out = crate::domain::ids::RefreshToken;
    fn read(f: &mut Fields, name: &str, _: &Cx) -> Option<Self::Out> {
        let raw = f.opt_str(name)?;
        let token = crate::domain::ids::RefreshToken::parse(&raw);
        if token.is_none() {
            f.refuse(NoToken::error().into());
        }
        token
    }
    fn schema() -> Value {
        json!({ "type": "string", "minLength": 1, "maxLength": 200 })
    }
}
string_kind!(
    /// A passkey's name: 1–64 characters, no control characters.
    PasskeyName -> String, |raw, cx| values::parse_name(raw).and_then(|n| if n.chars().count() > 64 { Err("too_long") } else { Ok(n) }),
    json!({ "type": "string", "minLength": 1, "maxLength": 64, "pattern": "^[^\\u0000-\\u001f\\u007f-\\u009f]*[^\\s\\u0000-\\u001f\\u007f-\\u009f][^\\u0000-\\u001f\\u007f-\\u009f]*$" })
);
string_kind!(
    /// An opaque token of an earlier answer (refresh or device token).
    Token -> String, |raw, cx| Ok(raw.to_owned()), json!({ "type": "string", "minLength": 1, "maxLength": 200 })
);

string_kind!(
    /// A company's id: 1–64 characters.
    CompanyId -> String, |raw, cx| values::parse_company_id(raw),
    json!({ "type": "string", "minLength": 1, "maxLength": 64, "pattern": "\\S" })
);
string_kind!(
    /// An ISO 3166-1 alpha-2 country code (`CH`).
    Country -> String, |raw, cx| crate::domain::reference::parse_country(raw),
    json!({ "type": "string", "pattern": "^[A-Za-z]{2}$", "examples": ["CH"] })
);
string_kind!(
    /// A user status by name or letter.
    StatusField -> crate::domain::users::Status, |raw, cx| crate::domain::users::Status::parse(raw).ok_or("invalid_choice"),
    json!({ "type": "string", "enum": ["C", "A", "S", "D", "X", "created", "active", "suspended", "disabled", "closed"] })
);
string_kind!(
    /// A reason: 1–500 characters, not only spaces.
    Reason -> String, |raw, cx| values::parse_reason(raw),
    json!({ "type": "string", "minLength": 1, "maxLength": 500, "pattern": "\\S" })
);

/// The IANA time zones (`components.schemas.TimeZone` of the document).
pub fn time_zones() -> Value {
    json!({ "type": "string", "enum": chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name()).collect::<Vec<_>>() })
}

/// A choice among fixed strings.
pub trait Choice {
    const CHOICES: &'static [&'static str];
}

/// One of `C::CHOICES`, as given (`invalid_choice` otherwise).
pub struct OneOf<C>(std::marker::PhantomData<C>);

impl<C: Choice> FieldKind for OneOf<C> {
    type Out = &'static str;
    fn read(f: &mut Fields, name: &str, _: &Cx) -> Option<&'static str> {
        string(f, name, |raw| C::CHOICES.iter().copied().find(|c| *c == raw).ok_or("invalid_choice"))
    }
    fn schema() -> Value {
        json!({ "type": "string", "enum": C::CHOICES })
    }
}

/// One of the factors `C::CHOICES` names, as a [`Factor`]
/// (`invalid_choice` otherwise).
///
/// [`Factor`]: crate::domain::policy::Factor
pub struct FactorOf<C>(std::marker::PhantomData<C>);

impl<C: Choice> FieldKind for FactorOf<C> {
    type Out = crate::domain::policy::Factor;
    fn read(f: &mut Fields, name: &str, cx: &Cx) -> Option<Self::Out> {
        let choice = OneOf::<C>::read(f, name, cx)?;
        let factor = crate::domain::policy::Factor::parse(choice);
        if factor.is_none() {
            f.errors.push(crate::domain::FieldError::new(name, "invalid_choice"));
        }
        factor
    }
    fn schema() -> Value {
        OneOf::<C>::schema()
    }
}

/// A WebAuthn credential as the browser's `PublicKeyCredential.toJSON()`
/// gives it (checked by the domain).
pub struct WebAuthnCredential;

impl FieldKind for WebAuthnCredential {
    type Out = Value;
    fn read(f: &mut Fields, name: &str, _: &Cx) -> Option<Value> {
        f.opt_object(name)
    }
    fn schema() -> Value {
        json!({
            "type": "object",
            "properties": {
                "id": { "type": "string" }, "rawId": { "type": "string" }, "type": { "const": "public-key" },
                "response": { "type": "object" },
            },
            "required": ["id", "rawId", "type", "response"],
        })
    }
}

/// A yes/no field.
pub struct Flag;

impl FieldKind for Flag {
    type Out = bool;
    fn read(f: &mut Fields, name: &str, _: &Cx) -> Option<bool> {
        f.opt_bool(name)
    }
    fn schema() -> Value {
        json!({ "type": "boolean" })
    }
}

/// A consent that must be `true` (`must_accept` when `false`).
pub struct Accepted;

impl FieldKind for Accepted {
    type Out = bool;
    fn read(f: &mut Fields, name: &str, _: &Cx) -> Option<bool> {
        let value = f.opt_bool(name)?;
        if !value {
            f.errors.push(crate::domain::FieldError::new(name, "must_accept"));
        }
        Some(value)
    }
    fn schema() -> Value {
        json!({ "const": true })
    }
}

/// The schema of a field of `kind` (`required`, `optional` or `patch`):
/// optional values may be `null`.
pub fn field_schema(kind: &str, mut schema: Value, doc: &str) -> Value {
    if kind == "optional" || kind == "patch" {
        schema = nullable(schema);
    }
    if let (false, Some(object)) = (doc.is_empty(), schema.as_object_mut()) {
        object.insert("description".into(), Value::String(doc.trim().to_owned()));
    }
    schema
}

/// `schema` or `null`.
pub fn nullable(schema: Value) -> Value {
    match schema {
        Value::Object(mut object) => {
            match object.get("type").cloned() {
                Some(Value::String(t)) => {
                    object.insert("type".into(), json!([t, "null"]));
                    if let Some(Value::Array(choices)) = object.get_mut("enum") {
                        choices.push(Value::Null);
                    }
                }
                _ => return json!({ "anyOf": [Value::Object(object), { "type": "null" }] }),
            }
            Value::Object(object)
        }
        other => other,
    }
}

/// An object schema of `properties` (in order), `required` and no others.
pub fn object_schema(properties: Vec<(&str, Value)>, required: Vec<&str>) -> Value {
    let properties: Map<String, Value> = properties.into_iter().map(|(n, s)| (n.to_owned(), s)).collect();
    json!({ "type": "object", "properties": properties, "required": required, "additionalProperties": false })
}

/// A field's name on the wire: its Rust name without `r#` (`r#type`).
pub const fn wire(name: &'static str) -> &'static str {
    match name.as_bytes() {
        [b'r', b'#', rest @ ..] => match std::str::from_utf8(rest) {
            Ok(rest) => rest,
            Err(_) => name,
        },
        _ => name,
    }
}

crate::body! {
    /// The personal details of a new person: read the same way at sign-up
    /// and at user creation.
    pub struct PersonalBody {
        first_name: required Name,
        last_name: required Name,
        gender: optional Gender,
        birth_date: optional BirthDate,
        /// The language of messages; the request's `Accept-Language` when absent.
        preferred_language: optional Language,
        time_zone: optional TimeZone,
    }
}

crate::body! {
    /// A phone in E.164 (`phone`), or as `phone_prefix` and `phone_number`
    /// (not both ways at once): `POST /v1/registrations/{id}/phone`, and
    /// user creation.
    pub struct PhoneBody {
        phone: optional E164,
        /// A calling code (`+41`).
        phone_prefix: optional PhonePrefix,
        /// The national number (`079 123 45 67`).
        phone_number: optional NationalNumber,
    }
}

impl PhoneBody<Partial> {
    /// The phone given either way, if any: `conflicting_fields` on `phone`
    /// when both ways are given; a prefix needs its number and the other
    /// way round (`required`).
    pub fn phone(&self, f: &mut Fields) -> Option<Phone> {
        let conflict = |f: &mut Fields| f.errors.push(crate::domain::FieldError::new("phone", "conflicting_fields"));
        match (self.phone.clone(), self.phone_prefix.clone(), self.phone_number.clone()) {
            (Some(_), Some(_), _) | (Some(_), _, Some(_)) => {
                conflict(f);
                None
            }
            (phone @ Some(_), None, None) => phone,
            (None, Some(prefix), Some(number)) => match Phone::from_parts(&prefix, &number) {
                Ok(phone) => Some(phone),
                Err(code) => {
                    let field = if code == "invalid_phone_prefix" { "phone_prefix" } else { "phone_number" };
                    f.errors.push(crate::domain::FieldError::new(field, code));
                    None
                }
            },
            (None, Some(_), None) => {
                f.errors.push(crate::domain::FieldError::new("phone_number", "required"));
                None
            }
            (None, None, Some(_)) => {
                f.errors.push(crate::domain::FieldError::new("phone_prefix", "required"));
                None
            }
            (None, None, None) => None,
        }
    }
}

crate::body! {
    /// The profile fields a `PATCH` changes (`PATCH /v1/me`, `PATCH
    /// /v1/users/{id}`): those given change; `null` clears an optional one.
    pub struct ProfilePatchBody {
        first_name: present Name,
        last_name: present Name,
        preferred_language: present Language,
        gender: patch Gender,
        birth_date: patch BirthDate,
        time_zone: patch TimeZone,
        /// For tenants with usernames (`null` removes it where they are
        /// optional). A user changing its own needs a step-up.
        username: patch NewUsername,
    }
}

impl ProfilePatchBody {
    pub fn changes(self) -> crate::domain::me::ProfileChanges {
        crate::domain::me::ProfileChanges {
            first_name: self.first_name,
            last_name: self.last_name,
            language: self.preferred_language,
            gender: self.gender,
            birth_date: self.birth_date,
            time_zone: self.time_zone,
            username: self.username,
        }
    }
}

impl PersonalBody {
    /// The details; the language is `lang` (the request's) when none was
    /// given.
    pub fn details(self, lang: &str) -> PersonalDetails {
        PersonalDetails {
            first_name: self.first_name,
            last_name: self.last_name,
            gender: self.gender,
            birth_date: self.birth_date,
            language: self.preferred_language.unwrap_or_else(|| lang.to_owned()),
            time_zone: self.time_zone,
        }
    }
}

/// How far a body is read: [`Partial`] while its fields are read (a
/// required field that failed is `None`, its error recorded), [`Complete`]
/// once every field error was answered (a required field is its value).
pub trait Mode {
    type Req<T>;
    /// An optional field: `Option` in both modes.
    type Opt<T>;
}

/// A `body!` type, whichever its mode (for a body flattened into another).
pub trait BodyType {
    type With<M: Mode>;
}

/// A body being read: required fields are `Option`s.
pub struct Partial;

/// A body read whole: required fields are values.
pub struct Complete;

impl Mode for Partial {
    type Req<T> = Option<T>;
    type Opt<T> = Option<T>;
}

impl Mode for Complete {
    type Req<T> = T;
    type Opt<T> = Option<T>;
}

/// Declares a request body; see the module's documentation.
#[macro_export]
macro_rules! body {
    ($(#[doc = $doc:literal])* pub struct $name:ident {
        $($(#[doc = $fdoc:literal])* $field:ident : $kind:ident $ty:ty),* $(,)?
    }) => {
        $(#[doc = $doc])*
        pub struct $name<M: $crate::http::body::Mode = $crate::http::body::Complete> {
            $($(#[doc = $fdoc])* pub $field: $crate::body!(@out $kind $ty, M)),*
        }

        impl $name {
            /// The fields a body may have (a flattened part's in its place).
            pub const FIELDS: &'static [&'static str] = {
                const LEN: usize = 0 $(+ $crate::body!(@len $kind $ty))*;
                const ALL: [&str; LEN] = {
                    let mut all = [""; LEN];
                    let mut at = 0;
                    $($crate::body!(@push $kind $ty, $field, all, at);)*
                    let _ = at;
                    all
                };
                &ALL
            };

            /// Reads every field of `f`, recording each error there; rules
            /// that span fields or depend on the tenant are checked on the
            /// partial body before [`Self::complete`].
            pub fn read(
                f: &mut $crate::http::input::Fields,
                cx: &$crate::http::body::Cx,
            ) -> $name<$crate::http::body::Partial> {
                $name { $($field: $crate::body!(@read $kind $ty, f, $crate::http::body::wire(stringify!($field)), cx)),* }
            }

            /// The request's body, read whole: every field error at once (a
            /// field the body does not have is one), or the complete body.
            pub fn parse(ctx: &$crate::http::context::Ctx<'_>) -> Result<Self, $crate::http::problem::Problem> {
                let mut f = $crate::http::input::Fields::of_request(ctx)?;
                let read = Self::read(&mut f, &$crate::http::body::Cx::of(ctx));
                Self::complete(f, read)
            }

            /// Ends reading `f`: every error recorded (the fields', the
            /// caller's checks', unknown fields) at once, or the body.
            pub fn complete(
                f: $crate::http::input::Fields,
                read: $name<$crate::http::body::Partial>,
            ) -> Result<Self, $crate::http::problem::Problem> {
                Self::complete_with(f, read, Some(())).map(|(body, ())| body)
            }

            /// [`Self::complete`], with a value the handler read across
            /// fields (the phone of two, a credential of the kind `type`
            /// names): `None` only where it recorded why in `f`.
            pub fn complete_with<T>(
                f: $crate::http::input::Fields,
                read: $name<$crate::http::body::Partial>,
                across: Option<T>,
            ) -> Result<(Self, T), $crate::http::problem::Problem> {
                f.finish(Self::FIELDS)?;
                // A required field (or a value across fields) that could not
                // be read recorded its error, which `finish` answered: every
                // one is here.
                read.completed().zip(across).ok_or_else(|| $crate::http::problem::Problem::validation(Vec::new()))
            }

            /// The fields' JSON Schemas, in order, and the required ones.
            pub fn properties() -> (Vec<(&'static str, serde_json::Value)>, Vec<&'static str>) {
                let mut properties = Vec::new();
                let mut required: Vec<&'static str> = Vec::new();
                $($crate::body!(@schema $kind $ty, $field, concat!($($fdoc, " "),*), properties, required);)*
                (properties, required)
            }

            /// The body's JSON Schema.
            pub fn schema() -> serde_json::Value {
                let (properties, required) = Self::properties();
                $crate::http::body::object_schema(properties, required)
            }
        }

        impl $crate::http::body::BodyType for $name {
            type With<M: $crate::http::body::Mode> = $name<M>;
        }

        impl $name<$crate::http::body::Partial> {
            /// The complete body, when every required field was read.
            pub fn completed(self) -> Option<$name> {
                Some($name { $($field: $crate::body!(@take $kind self.$field)),* })
            }
        }
    };
    (@len flatten $ty:ty) => { <$ty>::FIELDS.len() };
    (@len $kind:ident $ty:ty) => { 1 };
    (@push flatten $ty:ty, $field:ident, $all:ident, $at:ident) => {
        let mut i = 0;
        while i < <$ty>::FIELDS.len() {
            $all[$at] = <$ty>::FIELDS[i];
            $at += 1;
            i += 1;
        }
    };
    (@push $kind:ident $ty:ty, $field:ident, $all:ident, $at:ident) => {
        $all[$at] = $crate::http::body::wire(stringify!($field));
        $at += 1;
    };
    (@schema flatten $ty:ty, $field:ident, $doc:expr, $properties:ident, $required:ident) => {
        let (more, needed) = <$ty>::properties();
        $properties.extend(more);
        $required.extend(needed);
    };
    (@schema $kind:ident $ty:ty, $field:ident, $doc:expr, $properties:ident, $required:ident) => {
        let name = $crate::http::body::wire(stringify!($field));
        if stringify!($kind) == "required" {
            $required.push(name);
        }
        $properties.push((
            name,
            $crate::http::body::field_schema(
                stringify!($kind),
                <$ty as $crate::http::body::FieldKind>::schema(),
                $doc,
            ),
        ));
    };
    (@take required $value:expr) => { $value? };
    (@take flatten $value:expr) => { $value.completed()? };
    (@take $kind:ident $value:expr) => { $value };
    (@out flatten $ty:ty, $m:ident) => { <$ty as $crate::http::body::BodyType>::With<$m> };
    (@out required $ty:ty, $m:ident) => { $m::Req<<$ty as $crate::http::body::FieldKind>::Out> };
    (@out optional $ty:ty, $m:ident) => { $m::Opt<<$ty as $crate::http::body::FieldKind>::Out> };
    (@out patch $ty:ty, $m:ident) => { $m::Opt<Option<<$ty as $crate::http::body::FieldKind>::Out>> };
    (@out present $ty:ty, $m:ident) => { $m::Opt<<$ty as $crate::http::body::FieldKind>::Out> };
    (@read flatten $ty:ty, $f:ident, $name:expr, $cx:ident) => { <$ty>::read($f, $cx) };
    (@read required $ty:ty, $f:ident, $name:expr, $cx:ident) => {
        if $f.has($name) {
            <$ty as $crate::http::body::FieldKind>::read($f, $name, $cx)
        } else {
            $f.errors.push($crate::domain::FieldError::new($name, "required"));
            None
        }
    };
    (@read optional $ty:ty, $f:ident, $name:expr, $cx:ident) => {
        if $f.has($name) { <$ty as $crate::http::body::FieldKind>::read($f, $name, $cx) } else { None }
    };
    (@read patch $ty:ty, $f:ident, $name:expr, $cx:ident) => {
        match $f.is_null($name) {
            None => None,
            Some(true) => Some(None),
            Some(false) => Some(<$ty as $crate::http::body::FieldKind>::read($f, $name, $cx)),
        }
    };
    (@read present $ty:ty, $f:ident, $name:expr, $cx:ident) => {
        match $f.is_null($name) {
            None => None,
            Some(true) => {
                $f.errors.push($crate::domain::FieldError::new($name, "required"));
                None
            }
            Some(false) => <$ty as $crate::http::body::FieldKind>::read($f, $name, $cx),
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::problem::Problem;

    // What the tests read of it, not all that `body!` makes.
    #[allow(dead_code)]
    mod probe {
        use super::super::*;

        crate::body! {
            /// A body with an id, a token and another field.
            pub struct ProbeBody {
                challenge_id: required Challenge<NoChallenge>,
                refresh_token: optional Refresh,
                code: required Code,
            }
        }
    }
    use probe::ProbeBody;

    fn read(body: &str) -> Result<ProbeBody, Problem> {
        let now = chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let cx = Cx { today: now.date_naive(), now, code_length: 6 };
        let mut f = Fields::parse(body.as_bytes()).unwrap();
        let read = ProbeBody::read(&mut f, &cx);
        ProbeBody::complete(f, read)
    }

    fn fields(problem: &Problem) -> Vec<&str> {
        problem.errors.iter().map(|e| e.field.as_str()).collect()
    }

    #[test]
    fn ids_and_tokens_parse_into_their_types() {
        let body = read(r#"{"challenge_id": "chl_abc", "refresh_token": "usr_1.ses_2.c2VjcmV0", "code": "123456"}"#)
            .unwrap_or_else(|p| panic!("{p:?}"));
        assert_eq!(body.challenge_id.as_str(), "chl_abc");
        assert_eq!(body.refresh_token.map(|t| t.session_id().to_string()).as_deref(), Some("ses_2"));
    }

    #[test]
    fn a_malformed_id_is_unknown_once_every_field_is_well_formed() {
        // Field errors first, all of them: the malformed id is no field error.
        let problem = read(r#"{"challenge_id": "usr_abc", "code": 12}"#).err().unwrap();
        assert_eq!((problem.code, fields(&problem)), ("validation_failed", vec!["code"]));
        let problem = read(r#"{"challenge_id": "usr_abc", "surplus": 1, "code": "123456"}"#).err().unwrap();
        assert_eq!((problem.code, fields(&problem)), ("validation_failed", vec!["surplus"]));
        // Then the id is as unknown as any other (and a malformed token as invalid).
        let problem = read(r#"{"challenge_id": "usr_abc", "code": "123456"}"#).err().unwrap();
        assert_eq!((problem.status.as_u16(), problem.code), (404, "challenge_not_found"));
        let problem = read(r#"{"challenge_id": "chl_abc", "refresh_token": "x.y.z", "code": "123456"}"#).err().unwrap();
        assert_eq!((problem.status.as_u16(), problem.code), (401, "invalid_token"));
        let problem = read(r#"{"code": "123456"}"#).err().unwrap();
        assert_eq!((problem.code, fields(&problem)), ("validation_failed", vec!["challenge_id"]));
    }
}
