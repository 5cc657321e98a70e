//! Reference data: genders, languages, countries (ISO 3166-1, from Debian's
//! iso-codes via pycountry, see `scripts/gen-countries.py`) and the legal
//! documents a sign-up accepts, with names in the caller's language.

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use super::tenant::Tenant;
use super::values::{GENDERS, LANGUAGES};
use crate::i18n::text;

/// The kinds of reference data.
pub const KINDS: [&str; 4] = ["genders", "languages", "countries", "legal-documents"];

/// One entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Entry {
    pub code: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

#[derive(Deserialize)]
struct Country {
    code: String,
    en: String,
    de: String,
    fr: String,
    it: String,
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

/// Every entry of `kind` in `lang`, or `None` for an unknown kind.
pub fn entries(kind: &str, lang: &str, tenant: &Tenant) -> Option<Vec<Entry>> {
    let entry = |code: &str, name: String| Entry { code: code.to_owned(), name, version: None };
    Some(match kind {
        "genders" => GENDERS.iter().map(|g| entry(g, text(lang, &format!("gender-{g}"), &[]))).collect(),
        "languages" => LANGUAGES.iter().map(|l| entry(l, text(lang, &format!("language-{l}"), &[]))).collect(),
        "countries" => countries()
            .iter()
            .map(|c| {
                let name = match lang {
                    "de" => &c.de,
                    "fr" => &c.fr,
                    "it" => &c.it,
                    _ => &c.en,
                };
                entry(&c.code, name.clone())
            })
            .collect(),
        "legal-documents" => vec![
            Entry {
                code: "terms".into(),
                name: text(lang, "legal-terms", &[]),
                version: Some(tenant.policy.terms_version.clone()),
            },
            Entry {
                code: "privacy".into(),
                name: text(lang, "legal-privacy", &[]),
                version: Some(tenant.policy.privacy_version.clone()),
            },
        ],
        _ => return None,
    })
}

/// One entry by code (case-insensitive for countries).
pub fn entry(kind: &str, code: &str, lang: &str, tenant: &Tenant) -> Option<Entry> {
    entries(kind, lang, tenant)?.into_iter().find(|e| e.code.eq_ignore_ascii_case(code))
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
        let all = entries("countries", "en", &tenant()).unwrap();
        assert!(all.len() >= 249, "{}", all.len());
        assert_eq!(entry("countries", "ch", "de", &tenant()).unwrap().name, "Schweiz");
        assert_eq!(entry("countries", "CH", "fr", &tenant()).unwrap().name, "Suisse");
        assert_eq!(entry("countries", "CH", "it", &tenant()).unwrap().name, "Svizzera");
        assert_eq!(parse_country("de"), Ok("DE".into()));
        assert_eq!(parse_country("XX"), Err("invalid_country"));
        assert!(entry("countries", "ZZ", "en", &tenant()).is_none());
    }

    #[test]
    fn every_kind_has_names_in_every_language() {
        for kind in KINDS {
            for lang in LANGUAGES {
                let all = entries(kind, lang, &tenant()).unwrap();
                assert!(!all.is_empty());
                assert!(all.iter().all(|e| !e.name.is_empty() && !e.name.starts_with("gender-")), "{kind}/{lang}");
            }
        }
        assert_eq!(entry("legal-documents", "terms", "en", &tenant()).unwrap().version.as_deref(), Some("2026-01"));
        assert!(entries("planets", "en", &tenant()).is_none());
    }
}
