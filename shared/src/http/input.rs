//! Reading JSON request bodies field by field, collecting every field error
//! at once (required, wrong type, unknown) instead of failing on the first.

use serde_json::{Map, Value};

use super::problem::Problem;
use crate::domain::FieldError;
use ::http::StatusCode;

/// A JSON object body being read.
pub struct Fields {
    map: Map<String, Value>,
    pub errors: Vec<FieldError>,
    /// The answer when every field is well-formed but one names nothing that
    /// can exist (a malformed challenge id is as unknown as any other): no
    /// field error of its own, answered after the field errors.
    refusal: Option<Problem>,
}

impl Fields {
    /// Parses a body that must be one JSON object.
    pub fn parse(body: &[u8]) -> Result<Self, Problem> {
        // Where the JSON breaks (1-based line and column), so a client can
        // find the stray comma; never the parser's own words.
        let value: Value = serde_json::from_slice(body).map_err(|e| {
            Problem::new(StatusCode::BAD_REQUEST, "malformed_body")
                .arg("line", e.line() as i64)
                .arg("column", e.column() as i64)
        })?;
        match value {
            Value::Object(map) => Ok(Self { map, errors: Vec::new(), refusal: None }),
            _ => Err(Problem::validation(vec![FieldError::new("", "wrong_type").with_text("expected", "object")])),
        }
    }

    /// Parses a form body (`application/x-www-form-urlencoded`) as an
    /// object of strings. A name given twice is refused (RFC 6749 §3.1:
    /// parameters are sent at most once), as a JSON object's would be
    /// ambiguous.
    pub fn parse_form(body: &[u8]) -> Result<Self, Problem> {
        let mut map = Map::new();
        let mut errors = Vec::new();
        for (name, value) in form_urlencoded::parse(body).filter(|(name, _)| !name.is_empty()) {
            if map.insert(name.to_string(), Value::String(value.into_owned())).is_some() {
                errors.push(FieldError::new(name.as_ref(), "duplicate"));
            }
        }
        if errors.is_empty() { Ok(Self { map, errors, refusal: None }) } else { Err(Problem::validation(errors)) }
    }

    /// The body of `ctx`: a form, or one JSON object.
    pub fn of_request(ctx: &super::context::Ctx<'_>) -> Result<Self, Problem> {
        if ctx.form { Self::parse_form(ctx.body) } else { Self::parse(ctx.body) }
    }

    /// One JSON object already parsed (an element of a batch).
    pub fn of(map: Map<String, Value>) -> Self {
        Self { map, errors: Vec::new(), refusal: None }
    }

    fn wrong_type(&mut self, name: &str, expected: &'static str) {
        self.errors.push(FieldError::new(name, "wrong_type").with_text("expected", expected));
    }

    /// An optional string (`null` counts as absent).
    pub fn opt_str(&mut self, name: &str) -> Option<String> {
        match self.map.get(name) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => {
                self.wrong_type(name, "string");
                None
            }
        }
    }

    /// For PATCH: absent → `None`, `null` → `Some(None)`, a string → `Some(Some(s))`.
    pub fn nullable_str(&mut self, name: &str) -> Option<Option<String>> {
        match self.map.get(name) {
            None => None,
            Some(Value::Null) => Some(None),
            Some(Value::String(s)) => Some(Some(s.clone())),
            Some(_) => {
                self.wrong_type(name, "string");
                None
            }
        }
    }

    /// The raw value of a field (absent → `None`).
    pub fn raw(&mut self, name: &str) -> Option<Value> {
        self.map.get(name).cloned()
    }

    /// An optional JSON object (`null` counts as absent).
    pub fn opt_object(&mut self, name: &str) -> Option<Value> {
        match self.map.get(name) {
            None | Some(Value::Null) => None,
            Some(value @ Value::Object(_)) => Some(value.clone()),
            Some(_) => {
                self.wrong_type(name, "object");
                None
            }
        }
    }

    /// An optional boolean (`null` counts as absent).
    pub fn opt_bool(&mut self, name: &str) -> Option<bool> {
        match self.map.get(name) {
            None | Some(Value::Null) => None,
            Some(Value::Bool(b)) => Some(*b),
            Some(_) => {
                self.wrong_type(name, "boolean");
                None
            }
        }
    }

    /// An optional list of at most `max` strings, each passing `valid`.
    pub fn string_list(
        &mut self,
        name: &str,
        max: usize,
        valid: impl Fn(&str) -> bool,
        invalid_code: &'static str,
    ) -> Option<Vec<String>> {
        match self.map.get(name) {
            None | Some(Value::Null) => None,
            Some(Value::Array(items)) if items.len() > max => {
                self.errors.push(FieldError::new(name, "too_many"));
                None
            }
            Some(Value::Array(items)) => {
                let mut out = Vec::new();
                let mut bad = false;
                for item in items {
                    match item.as_str() {
                        Some(s) if valid(s) => out.push(s.to_owned()),
                        _ => bad = true,
                    }
                }
                if bad {
                    self.errors.push(FieldError::new(name, invalid_code));
                }
                out.sort();
                out.dedup();
                Some(out)
            }
            Some(_) => {
                self.wrong_type(name, "array");
                None
            }
        }
    }

    /// A required string.
    pub fn str(&mut self, name: &str) -> Option<String> {
        let present = matches!(self.map.get(name), Some(v) if !v.is_null());
        let value = self.opt_str(name);
        if !present {
            self.errors.push(FieldError::new(name, "required"));
        }
        value
    }

    /// A required boolean.
    pub fn bool(&mut self, name: &str) -> Option<bool> {
        match self.map.get(name) {
            None | Some(Value::Null) => {
                self.errors.push(FieldError::new(name, "required"));
                None
            }
            Some(Value::Bool(b)) => Some(*b),
            Some(_) => {
                self.wrong_type(name, "boolean");
                None
            }
        }
    }

    /// Runs `parse` on a present string, recording its error code.
    pub fn check<T>(
        &mut self,
        name: &str,
        value: Option<String>,
        parse: impl FnOnce(&str) -> Result<T, &'static str>,
    ) -> Option<T> {
        match parse(value.as_deref()?) {
            Ok(parsed) => Some(parsed),
            Err(code) => {
                self.errors.push(FieldError::new(name, code));
                None
            }
        }
    }

    /// Whether field `name` is `null` (`None` when absent).
    pub fn is_null(&self, name: &str) -> Option<bool> {
        self.map.get(name).map(Value::is_null)
    }

    pub fn has(&self, name: &str) -> bool {
        matches!(self.map.get(name), Some(v) if !v.is_null())
    }

    /// Records the answer for a value that names nothing that can exist
    /// (the first one stands), given only when no field has an error.
    pub fn refuse(&mut self, problem: Problem) {
        self.refusal.get_or_insert(problem);
    }

    /// Ends reading: any field not in `known` is an error, then all errors
    /// are returned together (or, without any, the refusal).
    pub fn finish(mut self, known: &[&str]) -> Result<(), Problem> {
        let unknown: Vec<String> = self.map.keys().filter(|k| !known.contains(&k.as_str())).cloned().collect();
        for name in unknown {
            self.errors.push(FieldError::new(name, "unknown_field"));
        }
        match (self.errors.is_empty(), self.refusal) {
            (false, _) => Err(Problem::validation(self.errors)),
            (true, Some(refusal)) => Err(refusal),
            (true, None) => Ok(()),
        }
    }
}
