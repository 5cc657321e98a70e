#!/usr/bin/env python3
"""Regenerates shared/data/countries.json (ISO 3166-1 with English, German,
French and Italian names) from pycountry, which packages Debian's iso-codes
data and translations, with the demonyms (English and French, the languages
that data has them in) of mledoze's world-countries (ODbL), fetched from the
npm registry:

    python3 -m venv /tmp/pyc && /tmp/pyc/bin/pip install pycountry
    /tmp/pyc/bin/python scripts/gen-countries.py
"""
import gettext
import io
import json
import pathlib
import tarfile
import urllib.request

import pycountry

WORLD_COUNTRIES = "https://registry.npmjs.org/world-countries/-/world-countries-5.1.0.tgz"
with urllib.request.urlopen(WORLD_COUNTRIES, timeout=60) as response:
    archive = tarfile.open(fileobj=io.BytesIO(response.read()))
world = json.load(archive.extractfile("package/countries.json"))
demonyms = {c["cca2"]: c.get("demonyms", {}) for c in world}

translations = {
    lang: gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[lang])
    for lang in ("de", "fr", "it")
}
countries = []
for country in sorted(pycountry.countries, key=lambda c: c.alpha_2):
    entry = {
        "code": country.alpha_2,
        "alpha3": country.alpha_3,
        "en": getattr(country, "common_name", None) or country.name,
    }
    for lang, catalogue in translations.items():
        entry[lang] = catalogue.gettext(country.name)
    for lang, key in (("en", "eng"), ("fr", "fra")):
        demonym = demonyms.get(country.alpha_2, {}).get(key, {}).get("m")
        if demonym:
            entry[f"demonym_{lang}"] = demonym
    countries.append(entry)
out = pathlib.Path(__file__).resolve().parent.parent / "shared" / "data" / "countries.json"
out.write_text(json.dumps(countries, ensure_ascii=False, indent=0) + "\n", encoding="utf-8")
print(f"{len(countries)} countries written to {out}")
