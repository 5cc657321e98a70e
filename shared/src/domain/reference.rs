//! Reference data: genders, languages, countries (ISO 3166-1, from Debian's
//! iso-codes via pycountry, see `scripts/gen-countries.py`), nationalities
//! (the countries, with demonyms where world-countries has them), IANA time
//! zones with their current UTC offset, the legal documents a sign-up
//! accepts, and the kinds a tenant defines itself, with names in the
//! caller's language.

use std::str::FromStr;
use std::sync::OnceLock;

use chrono::{DateTime, Offset, TimeZone, Utc};

use serde::{Deserialize, Serialize};

use super::actor::Actor;
use super::error::Error;
pub use super::policy::BUILT_IN;
use super::tenant::{MAX_ENTRIES, MAX_KINDS, Tenant, TenantEntry, valid_kind_name};
use super::values::{GENDERS, LANGUAGES, UserType};
use crate::app::App;
use crate::i18n::text;
use crate::ports::Condition;
use crate::table::{self, Record};

/// One entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Entry {
    pub code: String,
    pub name: String,
    /// A legal document's current version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// A nationality's demonym (`Swiss`), where the data has one in the
    /// caller's language (English and French).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub demonym: Option<String>,
    /// A time zone's offset from UTC now (`+01:00`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub utc_offset: Option<String>,
}

#[derive(Deserialize)]
struct Country {
    code: String,
    en: String,
    de: String,
    fr: String,
    it: String,
    demonym_en: Option<String>,
    demonym_fr: Option<String>,
}

/// `+01:00` for an offset of 3600 s.
fn offset_text(seconds: i32) -> String {
    let sign = if seconds < 0 { '-' } else { '+' };
    let minutes = seconds.unsigned_abs() / 60;
    format!("{sign}{:02}:{:02}", minutes / 60, minutes % 60)
}

/// A time zone's display name: its city, as the IANA id spells it
/// (`America/Argentina/Buenos_Aires` → `Buenos Aires`). The bundled data
/// has no translated names (CLDR's would weigh more than a function).
fn zone_name(id: &str) -> String {
    id.rsplit('/').next().unwrap_or(id).replace('_', " ")
}

fn countries() -> &'static [Country] {
    static COUNTRIES: OnceLock<Vec<Country>> = OnceLock::new();
    COUNTRIES.get_or_init(|| serde_json::from_str(include_str!("../../data/countries.json")).unwrap_or_default())
}

/// Whether `code` is an ISO 3166-1 alpha-2 code (upper-case).
pub fn is_country(code: &str) -> bool {
    countries().iter().any(|c| c.code == code)
}

/// Parses a country code (`ch` → `CH`).
pub fn parse_country(raw: &str) -> Result<String, &'static str> {
    let code = raw.trim().to_ascii_uppercase();
    if is_country(&code) { Ok(code) } else { Err("invalid_country") }
}

/// Every entry of `kind` in `lang` at `now` (time-zone offsets), or `None`
/// for a kind neither built in nor the tenant's.
pub fn entries(kind: &str, lang: &str, tenant: &Tenant, now: DateTime<Utc>) -> Option<Vec<Entry>> {
    let entry = |code: &str, name: String| Entry {
        code: code.to_owned(),
        name,
        version: None,
        demonym: None,
        utc_offset: None,
    };
    let country_name = |c: &Country| -> String {
        match lang {
            "de" => c.de.clone(),
            "fr" => c.fr.clone(),
            "it" => c.it.clone(),
            _ => c.en.clone(),
        }
    };
    Some(match kind {
        "genders" => GENDERS.iter().map(|g| entry(g, text(lang, &format!("gender-{g}"), &[]))).collect(),
        "languages" => LANGUAGES.iter().map(|l| entry(l, text(lang, &format!("language-{l}"), &[]))).collect(),
        "countries" => countries().iter().map(|c| entry(&c.code, country_name(c))).collect(),
        "nationalities" => countries()
            .iter()
            .map(|c| Entry {
                demonym: match lang {
                    "en" => c.demonym_en.clone(),
                    "fr" => c.demonym_fr.clone(),
                    _ => None,
                },
                ..entry(&c.code, country_name(c))
            })
            .collect(),
        "time-zones" => chrono_tz::TZ_VARIANTS
            .iter()
            .map(|tz| {
                let offset = tz.offset_from_utc_datetime(&now.naive_utc()).fix().local_minus_utc();
                Entry { utc_offset: Some(offset_text(offset)), ..entry(tz.name(), zone_name(tz.name())) }
            })
            .collect(),
        "legal-documents" => vec![
            Entry {
                version: Some(tenant.policy.terms_version.clone()),
                ..entry("terms", text(lang, "legal-terms", &[]))
            },
            Entry {
                version: Some(tenant.policy.privacy_version.clone()),
                ..entry("privacy", text(lang, "legal-privacy", &[]))
            },
        ],
        own => tenant
            .policy
            .reference
            .get(own)?
            .iter()
            .map(|e| {
                let name = e.names.get(lang).or_else(|| e.names.get("en")).cloned().unwrap_or_else(|| e.code.clone());
                entry(&e.code, name)
            })
            .collect(),
    })
}

/// One entry by code (case-insensitive); a time zone by its exact IANA id
/// first (there are many).
pub fn entry(kind: &str, code: &str, lang: &str, tenant: &Tenant, now: DateTime<Utc>) -> Option<Entry> {
    if kind == "time-zones" {
        let tz = chrono_tz::Tz::from_str(code).ok()?;
        let offset = tz.offset_from_utc_datetime(&now.naive_utc()).fix().local_minus_utc();
        let name = zone_name(tz.name());
        return Some(Entry {
            code: tz.name().to_owned(),
            name,
            version: None,
            demonym: None,
            utc_offset: Some(offset_text(offset)),
        });
    }
    entries(kind, lang, tenant, now)?.into_iter().find(|e| e.code.eq_ignore_ascii_case(code))
}

/// Who edits a tenant's reference kinds: its admin tokens and service
/// owners (the operator CLI acts as an admin token).
fn may_edit(actor: &Actor) -> bool {
    match actor {
        Actor::Admin { .. } => true,
        Actor::User { user_type, .. } => *user_type == UserType::ServiceOwner,
    }
}

/// Adds or replaces the entry `code` of the tenant's own `kind` (a new kind
/// starts with it); answers the entry as stored and whether it is new.
/// Built-in kinds cannot be edited (`read_only_kind`); names need English.
pub async fn put_entry(
    app: &App,
    tenant_id: &str,
    actor: &Actor,
    kind: &str,
    entry: TenantEntry,
) -> Result<(TenantEntry, bool), Error> {
    if !may_edit(actor) {
        return Err(Error::Forbidden);
    }
    if BUILT_IN.contains(&kind) {
        return Err(Error::field("kind", "read_only_kind"));
    }
    if !valid_kind_name(kind) {
        return Err(Error::field("kind", "invalid_kind"));
    }
    let (mut tenant, version) =
        table::get::<Tenant>(app.store.as_ref(), &table::tenant_key(tenant_id)).await?.ok_or(Error::Forbidden)?;
    if !tenant.policy.reference.contains_key(kind) && tenant.policy.reference.len() >= MAX_KINDS {
        return Err(Error::field("kind", "too_many"));
    }
    let entries = tenant.policy.reference.entry(kind.to_owned()).or_default();
    let known = entries.iter().any(|e| e.code.eq_ignore_ascii_case(&entry.code));
    if !known && entries.len() >= MAX_ENTRIES {
        return Err(Error::field("code", "too_many"));
    }
    let (stored, created) = match entries.iter_mut().find(|e| e.code.eq_ignore_ascii_case(&entry.code)) {
        Some(existing) => {
            // The code keeps its first spelling, so users' references stay valid.
            existing.names = entry.names;
            (existing.clone(), false)
        }
        None => {
            entries.push(entry.clone());
            (entry, true)
        }
    };
    save(app, tenant, version).await?;
    // One namespaced id (`ref:<kind>:<code>`): an entry's code may be all
    // digits, and a bare run of digits in a log reads as a leaked one-time
    // code to the log scan (and to a reader).
    let entry = format!("ref:{kind}:{}", stored.code);
    tracing::info!(by = %actor.label(), %entry, created, "reference entry saved");
    Ok((stored, created))
}

/// Removes the entry `code` from the tenant's own `kind` (the kind goes
/// with its last entry). Users that reference it keep the code.
pub async fn remove_entry(app: &App, tenant_id: &str, actor: &Actor, kind: &str, code: &str) -> Result<(), Error> {
    if !may_edit(actor) {
        return Err(Error::Forbidden);
    }
    if BUILT_IN.contains(&kind) {
        return Err(Error::field("kind", "read_only_kind"));
    }
    let (mut tenant, version) =
        table::get::<Tenant>(app.store.as_ref(), &table::tenant_key(tenant_id)).await?.ok_or(Error::Forbidden)?;
    let entries = tenant.policy.reference.get_mut(kind).ok_or(Error::ReferenceNotFound)?;
    let before = entries.len();
    entries.retain(|e| !e.code.eq_ignore_ascii_case(code));
    if entries.len() == before {
        return Err(Error::ReferenceNotFound);
    }
    if entries.is_empty() {
        tenant.policy.reference.remove(kind);
    }
    save(app, tenant, version).await?;
    let entry = format!("ref:{kind}:{code}");
    tracing::info!(by = %actor.label(), %entry, "reference entry removed");
    Ok(())
}

/// Writes the tenant back if no one changed it meanwhile (409 otherwise)
/// and its policy keeps every rule; this instance forgets its cached copy.
async fn save(app: &App, tenant: Tenant, version: u64) -> Result<(), Error> {
    // Only the reference rules: a stored policy that breaks a rule added
    // later must not block these edits.
    let problems = tenant.policy.reference_problems();
    if let Some(first) = problems.first() {
        tracing::info!(problem = %first, "reference edit refused");
        return Err(Error::field("names", "invalid_names"));
    }
    app.store.put(tenant.item()?, Condition::Version(version)).await?;
    app.api_keys.clear();
    Ok(())
}

/// The kinds of `tenant`: the built-in ones, then its own.
pub fn kinds(tenant: &Tenant) -> Vec<&str> {
    BUILT_IN.iter().copied().chain(tenant.policy.reference.keys().map(String::as_str)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::tenant::Policy;

    fn tenant() -> Tenant {
        Tenant { id: "t".into(), name: "T".into(), policy: Policy::default() }
    }

    #[test]
    fn countries_are_iso_3166_with_localized_names() {
        let all = entries("countries", "en", &tenant(), Utc::now()).unwrap();
        assert!(all.len() >= 249, "{}", all.len());
        assert_eq!(entry("countries", "ch", "de", &tenant(), Utc::now()).unwrap().name, "Schweiz");
        assert_eq!(entry("countries", "CH", "fr", &tenant(), Utc::now()).unwrap().name, "Suisse");
        assert_eq!(entry("countries", "CH", "it", &tenant(), Utc::now()).unwrap().name, "Svizzera");
        assert_eq!(parse_country("de"), Ok("DE".into()));
        assert_eq!(parse_country("XX"), Err("invalid_country"));
        assert!(entry("countries", "ZZ", "en", &tenant(), Utc::now()).is_none());
    }

    #[test]
    fn every_kind_has_names_in_every_language() {
        for kind in BUILT_IN {
            for lang in LANGUAGES {
                let all = entries(kind, lang, &tenant(), Utc::now()).unwrap();
                assert!(!all.is_empty());
                assert!(all.iter().all(|e| !e.name.is_empty() && !e.name.starts_with("gender-")), "{kind}/{lang}");
            }
        }
        assert_eq!(
            entry("legal-documents", "terms", "en", &tenant(), Utc::now()).unwrap().version.as_deref(),
            Some("2026-01")
        );
        assert!(entries("planets", "en", &tenant(), Utc::now()).is_none());
    }

    #[test]
    fn nationalities_have_demonyms_where_the_data_has_them() {
        let now = Utc::now();
        let swiss = entry("nationalities", "ch", "en", &tenant(), now).unwrap();
        assert_eq!((swiss.name.as_str(), swiss.demonym.as_deref()), ("Switzerland", Some("Swiss")));
        assert_eq!(entry("nationalities", "CH", "fr", &tenant(), now).unwrap().demonym.as_deref(), Some("Suisse"));
        let german = entry("nationalities", "CH", "de", &tenant(), now).unwrap();
        assert_eq!((german.name.as_str(), german.demonym), ("Schweiz", None));
        let with =
            entries("nationalities", "en", &tenant(), now).unwrap().iter().filter(|e| e.demonym.is_some()).count();
        assert!(with > 240, "{with}");
    }

    #[test]
    fn time_zone_offsets_follow_daylight_saving() {
        let winter = "2026-01-15T12:00:00Z".parse().unwrap();
        let summer = "2026-07-15T12:00:00Z".parse().unwrap();
        let zurich = |at| entry("time-zones", "Europe/Zurich", "en", &tenant(), at).unwrap();
        assert_eq!(
            (zurich(winter).utc_offset.as_deref(), zurich(summer).utc_offset.as_deref()),
            (Some("+01:00"), Some("+02:00"))
        );
        assert_eq!(zurich(winter).name, "Zurich");
        let kolkata = entry("time-zones", "Asia/Kolkata", "de", &tenant(), winter).unwrap();
        assert_eq!(kolkata.utc_offset.as_deref(), Some("+05:30"));
        let stjohns = entry("time-zones", "America/St_Johns", "en", &tenant(), winter).unwrap();
        assert_eq!((stjohns.utc_offset.as_deref(), stjohns.name.as_str()), (Some("-03:30"), "St Johns"));
        assert!(entries("time-zones", "en", &tenant(), winter).unwrap().len() > 400);
        assert!(entry("time-zones", "Mars/Olympus", "en", &tenant(), winter).is_none());
    }

    #[test]
    fn a_tenants_own_kinds_fall_back_to_english() {
        use crate::domain::tenant::TenantEntry;
        let mut tenant = tenant();
        let names = |pairs: &[(&str, &str)]| pairs.iter().map(|(l, n)| ((*l).to_owned(), (*n).to_owned())).collect();
        tenant.policy.reference.insert(
            "civil-statuses".into(),
            vec![TenantEntry { code: "SINGLE".into(), names: names(&[("en", "Single"), ("de", "Ledig")]) }],
        );
        assert!(tenant.policy.problems().is_empty(), "{:?}", tenant.policy.problems());
        let now = Utc::now();
        assert_eq!(entry("civil-statuses", "single", "de", &tenant, now).unwrap().name, "Ledig");
        assert_eq!(entry("civil-statuses", "SINGLE", "it", &tenant, now).unwrap().name, "Single");
        assert!(kinds(&tenant).contains(&"civil-statuses"));
        tenant.policy.reference.insert("countries".into(), vec![]);
        tenant
            .policy
            .reference
            .insert("civil-statuses".into(), vec![TenantEntry { code: "a b".into(), names: names(&[("de", "x")]) }]);
        assert_eq!(tenant.policy.problems().len(), 3, "{:?}", tenant.policy.problems());
        // Bounded: the policy lives in the tenant's item.
        let mut big = self::tests::tenant();
        let entry = |n: usize| TenantEntry { code: format!("C{n}"), names: names(&[("en", "x")]) };
        big.policy.reference.insert("many".into(), (0..=crate::domain::tenant::MAX_ENTRIES).map(entry).collect());
        assert_eq!(big.policy.problems(), ["reference.many: at most 500 entries"]);
    }
}
