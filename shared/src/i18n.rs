//! The message catalogue (Fluent, one file per language under `locales/`)
//! and `Accept-Language` negotiation.

use std::sync::OnceLock;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};

use crate::domain::values::LANGUAGES;

/// The catalogue sources, in the order of [`LANGUAGES`].
pub const SOURCES: [(&str, &str); 4] = [
    ("en", include_str!("../locales/en.ftl")),
    ("de", include_str!("../locales/de.ftl")),
    ("fr", include_str!("../locales/fr.ftl")),
    ("it", include_str!("../locales/it.ftl")),
];

/// The default language.
pub const DEFAULT_LANGUAGE: &str = "en";

type Bundle = FluentBundle<FluentResource>;

fn bundles() -> &'static Vec<(&'static str, Bundle)> {
    static BUNDLES: OnceLock<Vec<(&'static str, Bundle)>> = OnceLock::new();
    BUNDLES.get_or_init(|| {
        SOURCES
            .iter()
            .map(|(lang, source)| {
                // The catalogues are compiled in and checked by tests, so a
                // parse error here is a build defect; keep what did parse.
                let resource = FluentResource::try_new((*source).to_owned()).unwrap_or_else(|(partial, _)| partial);
                let id = lang.parse().unwrap_or_default();
                let mut bundle = FluentBundle::new_concurrent(vec![id]);
                bundle.set_use_isolating(false);
                let _ = bundle.add_resource(resource);
                (*lang, bundle)
            })
            .collect()
    })
}

fn bundle(lang: &str) -> &'static Bundle {
    let all = bundles();
    all.iter().find(|(l, _)| *l == lang).map_or(&all[0].1, |(_, b)| b)
}

/// An argument value for a message.
pub enum Arg<'a> {
    Str(&'a str),
    Num(i64),
}

/// The message `key` in `lang` (English if the language lacks it), with
/// `args` filled in. A key missing everywhere returns the key itself.
pub fn text(lang: &str, key: &str, args: &[(&str, Arg<'_>)]) -> String {
    let mut fluent_args = FluentArgs::new();
    for (name, value) in args {
        match value {
            Arg::Str(s) => fluent_args.set(*name, FluentValue::from(s.to_string())),
            Arg::Num(n) => fluent_args.set(*name, FluentValue::from(*n)),
        }
    }
    for candidate in [lang, DEFAULT_LANGUAGE] {
        let bundle = bundle(candidate);
        if let Some(pattern) = bundle.get_message(key).and_then(|m| m.value()) {
            let mut errors = Vec::new();
            return bundle.format_pattern(pattern, Some(&fluent_args), &mut errors).into_owned();
        }
    }
    key.to_owned()
}

/// The best supported language for an `Accept-Language` header, honouring
/// q-values; `de-CH` matches `de`. Default English.
pub fn negotiate(accept_language: Option<&str>) -> &'static str {
    negotiate_within(accept_language, &LANGUAGES)
}

/// Like [`negotiate`], among the languages a tenant offers (the first of
/// them is its default).
pub fn negotiate_within<S: AsRef<str>>(accept_language: Option<&str>, offered: &[S]) -> &'static str {
    let offered: Vec<&'static str> =
        offered.iter().filter_map(|o| LANGUAGES.iter().copied().find(|l| *l == o.as_ref())).collect();
    let fallback = offered.first().copied().unwrap_or(DEFAULT_LANGUAGE);
    let Some(header) = accept_language else { return fallback };
    for tag in accept_language::parse(header) {
        let primary = tag.split(['-', '_']).next().unwrap_or("").to_ascii_lowercase();
        if let Some(lang) = offered.iter().find(|l| **l == primary) {
            return lang;
        }
    }
    fallback
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(source: &str) -> std::collections::BTreeSet<String> {
        let resource = FluentResource::try_new(source.to_owned()).expect("catalogue parses");
        resource
            .entries()
            .filter_map(|e| match e {
                fluent_syntax::ast::Entry::Message(m) => Some(m.id.name.to_owned()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn every_key_exists_in_all_four_languages() {
        let english = keys(SOURCES[0].1);
        assert!(english.len() > 50, "the English catalogue looks truncated");
        for (lang, source) in &SOURCES[1..] {
            let other = keys(source);
            let missing: Vec<_> = english.difference(&other).collect();
            let extra: Vec<_> = other.difference(&english).collect();
            assert!(missing.is_empty(), "{lang} lacks {missing:?}");
            assert!(extra.is_empty(), "{lang} has keys English lacks: {extra:?}");
        }
    }

    #[test]
    fn messages_are_localized_with_arguments() {
        let de = text("de", "field-password_too_short", &[("min", Arg::Num(8))]);
        assert_eq!(de, "Das Passwort muss mindestens 8 Zeichen haben.");
        let fr = text("fr", "problem-rate_limited-detail", &[("retry_after", Arg::Num(42))]);
        assert!(fr.contains("42") && fr.contains("secondes"), "{fr}");
        assert_eq!(text("it", "no-such-key", &[]), "no-such-key");
    }

    #[test]
    fn negotiation_honours_q_values() {
        assert_eq!(negotiate(None), "en");
        assert_eq!(negotiate(Some("de-CH")), "de");
        assert_eq!(negotiate(Some("es, fr;q=0.5, de;q=0.9")), "de");
        assert_eq!(negotiate(Some("it;q=0.1, en;q=0.2")), "en");
        assert_eq!(negotiate(Some("zz, *")), "en");
        assert_eq!(negotiate(Some(";;;q=x,,")), "en");
    }

    #[test]
    fn a_tenant_can_offer_fewer_languages() {
        assert_eq!(negotiate_within(Some("fr, de;q=0.5"), &["de", "it"]), "de");
        assert_eq!(negotiate_within(Some("fr"), &["it", "de"]), "it", "the tenant's first language is its default");
        assert_eq!(negotiate_within(None, &["it"]), "it");
        assert_eq!(negotiate_within(Some("en"), &[] as &[&str]), "en");
    }
}
