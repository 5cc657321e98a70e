//! The hosted sign-in pages as a browser without JavaScript uses them:
//! forms, cookies kept by hand, no redirect followed (tests/api/hosted_pages.rs
//! and the IAM flows of tests/deploy/iam.rs).

use std::collections::BTreeMap;

use reqwest::StatusCode;
use reqwest::header::{HeaderMap, LOCATION, SET_COOKIE};

/// A browser: no redirects followed, cookies kept by hand (so `Secure`
/// ones travel over the test's plain http as they would over https).
pub struct Browser {
    http: reqwest::Client,
    base: String,
    pub cookies: BTreeMap<String, String>,
}

pub struct Page {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub html: String,
}

impl Page {
    pub fn location(&self) -> String {
        self.headers.get(LOCATION).map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default()
    }

    /// The value of the hidden (or filled) input `name`.
    pub fn input(&self, name: &str) -> Option<String> {
        let at = self.html.find(&format!("name=\"{name}\""))?;
        let start = self.html[..at].rfind("<input")?;
        let end = at + self.html[at..].find('>')?;
        let tag = &self.html[start..end];
        let value = tag.split("value=\"").nth(1)?.split('"').next()?;
        Some(value.replace("&amp;", "&").replace("&quot;", "\""))
    }

    /// The first link whose address contains `needle`, unescaped.
    pub fn link(&self, needle: &str) -> Option<String> {
        self.html
            .split("<a href=\"")
            .skip(1)
            .filter_map(|rest| rest.split('"').next())
            .map(|href| href.replace("&amp;", "&").replace("&quot;", "\""))
            .find(|href| href.contains(needle))
    }

    /// The hidden fields of the page's form, to post it again.
    pub fn hidden(&self) -> Vec<(String, String)> {
        self.html
            .split("<input type=\"hidden\" name=\"")
            .skip(1)
            .map(|rest| {
                let name = rest.split('"').next().unwrap().to_owned();
                let value = rest.split("value=\"").nth(1).unwrap().split('"').next().unwrap();
                (name, value.replace("&amp;", "&").replace("&quot;", "\""))
            })
            .collect()
    }

    /// The alert's text, without tags.
    pub fn alert(&self) -> Option<String> {
        let at = self.html.find("role=\"alert\"")?;
        let end = at + self.html[at..].find("</div>")?;
        let mut text = String::new();
        let mut in_tag = false;
        for c in self.html[at..end].chars() {
            match c {
                '<' => in_tag = true,
                '>' => in_tag = false,
                c if !in_tag => text.push(c),
                _ => {}
            }
        }
        Some(text.trim_start_matches("role=\"alert\"").trim().to_owned())
    }
}

impl Browser {
    /// A browser of the API at `base`.
    pub fn at(base: &str) -> Self {
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        Self { http, base: base.to_owned(), cookies: BTreeMap::new() }
    }

    fn cookie_header(&self) -> String {
        self.cookies.iter().map(|(n, v)| format!("{n}={v}")).collect::<Vec<_>>().join("; ")
    }

    async fn keep(&mut self, response: reqwest::Response) -> Page {
        for value in response.headers().get_all(SET_COOKIE) {
            let pair = value.to_str().unwrap().split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            if value.is_empty() {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
        let (status, headers) = (response.status(), response.headers().clone());
        Page { status, headers, html: response.text().await.unwrap() }
    }

    pub async fn get(&mut self, query: &str) -> Page {
        self.visit(&format!("/oauth2/authorize?{query}")).await
    }

    /// GETs `path` (with its query) of the site, with the browser's cookies.
    pub async fn visit(&mut self, path: &str) -> Page {
        let url = format!("{}{path}", self.base.trim_end_matches('/'));
        let response = self.http.get(url).header("cookie", self.cookie_header()).send().await.unwrap();
        self.keep(response).await
    }

    /// Follows a link of the pages (`/oauth2/authorize?…`).
    pub async fn follow(&mut self, href: &str) -> Page {
        let query = href.strip_prefix("/oauth2/authorize?").expect("a link to the authorize page");
        self.get(query).await
    }

    pub async fn post(&mut self, fields: &[(String, String)]) -> Page {
        self.post_to("/oauth2/authorize", fields).await
    }

    /// POSTs `fields` as a form to `path`, with the browser's cookies.
    pub async fn post_to(&mut self, path: &str, fields: &[(String, String)]) -> Page {
        let url = format!("{}{path}", self.base.trim_end_matches('/'));
        let response = self.http.post(url).header("cookie", self.cookie_header()).form(fields).send().await.unwrap();
        self.keep(response).await
    }

    /// Posts `page`'s form with `fields` filled in.
    pub async fn submit(&mut self, page: &Page, fields: &[(&str, &str)]) -> Page {
        let mut all = page.hidden();
        all.extend(fields.iter().map(|(n, v)| ((*n).to_owned(), (*v).to_owned())));
        self.post(&all).await
    }
}
