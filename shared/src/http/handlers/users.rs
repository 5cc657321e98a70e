//! The back office (SPEC §7): privileged registration, reading users,
//! status changes and the audit trail.

use ::http::{HeaderValue, StatusCode};
use lambda_http::{Body, Response};
use serde_json::{Value, json};

use super::reply::{json_response, message};
use crate::domain::FieldError;
use crate::domain::password::Password;
use crate::domain::reference;
use crate::domain::user::Address;
use crate::domain::users::{self, NewUser, Secret, Status, USER_TYPES, UserView};
use crate::domain::values::{self, EmailAddress, Phone};
use crate::http::context::Ctx;
use crate::http::input::Fields;
use crate::http::problem::Problem;

fn read_address(f: &mut Fields) -> Option<Address> {
    let value = f.raw("address")?;
    let Value::Object(map) = value else {
        f.errors.push(FieldError::new("address", "wrong_type").with_text("expected", "object"));
        return None;
    };
    let mut address = Address::default();
    let known = ["street", "street_nr", "zip", "city", "country", "c_o"];
    for (name, value) in &map {
        let field = format!("address.{name}");
        if !known.contains(&name.as_str()) {
            f.errors.push(FieldError::new(field, "unknown_field"));
            continue;
        }
        let text = match value {
            Value::Null => continue,
            Value::String(s) if s.chars().count() <= 200 && !s.chars().any(char::is_control) => s.trim().to_owned(),
            Value::String(_) => {
                f.errors.push(FieldError::new(field, "too_long"));
                continue;
            }
            _ => {
                f.errors.push(FieldError::new(field, "wrong_type").with_text("expected", "string"));
                continue;
            }
        };
        let slot = match name.as_str() {
            "street" => &mut address.street,
            "street_nr" => &mut address.street_nr,
            "zip" => &mut address.zip,
            "city" => &mut address.city,
            "c_o" => &mut address.c_o,
            _ => match reference::parse_country(&text) {
                Ok(code) => {
                    address.country = Some(code);
                    continue;
                }
                Err(code) => {
                    f.errors.push(FieldError::new(field, code));
                    continue;
                }
            },
        };
        *slot = Some(text);
    }
    Some(address)
}

pub async fn create_user(ctx: &Ctx<'_>) -> Result<Response<Body>, Problem> {
    let tenant = ctx.tenant()?;
    let actor = ctx.actor()?;
    let mut f = Fields::parse(ctx.body)?;
    let today = ctx.app.clock.now().date_naive();
    let email_raw = f.str("email");
    let email = f.check("email", email_raw, EmailAddress::parse);
    let first_raw = f.str("first_name");
    let first_name = f.check("first_name", first_raw, values::parse_name);
    let last_raw = f.str("last_name");
    let last_name = f.check("last_name", last_raw, values::parse_name);
    let gender_raw = f.opt_str("gender");
    let gender = f.check("gender", gender_raw, values::parse_gender);
    let birth_raw = f.opt_str("birth_date");
    let birth_date = f.check("birth_date", birth_raw, |s| values::parse_birth_date(s, today));
    let lang_raw = f.opt_str("preferred_language");
    let language = f.check("preferred_language", lang_raw, values::parse_language);
    let tz_raw = f.opt_str("time_zone");
    let time_zone = f.check("time_zone", tz_raw, values::parse_time_zone);
    let phone_raw = f.opt_str("phone");
    let phone = f.check("phone", phone_raw, Phone::parse);
    let nationality_raw = f.opt_str("nationality");
    let nationality = f.check("nationality", nationality_raw, reference::parse_country);
    let type_raw = f.str("user_type");
    let user_type = f.check("user_type", type_raw, |s| {
        USER_TYPES.iter().find(|t| **t == s).map(|t| (*t).to_owned()).ok_or("invalid_choice")
    });
    let company_raw = f.opt_str("company_id");
    let company_id = f.check("company_id", company_raw, |s| {
        let s = s.trim();
        if s.is_empty() || s.len() > 64 { Err("invalid_characters") } else { Ok(s.to_owned()) }
    });
    let roles = f.string_list("roles", 20, crate::domain::tenant::valid_role_name, "invalid_role");
    let reset_required = f.opt_bool("reset_required").unwrap_or(false);
    let invite = f.opt_bool("invite").unwrap_or(false);
    let password = f.opt_str("password");
    let address = read_address(&mut f);
    let attributes = match f.raw("attributes") {
        None | Some(Value::Null) => serde_json::Map::new(),
        Some(Value::Object(map)) if map.len() <= 50 => map,
        Some(Value::Object(_)) => {
            f.errors.push(FieldError::new("attributes", "too_many"));
            serde_json::Map::new()
        }
        Some(_) => {
            f.errors.push(FieldError::new("attributes", "wrong_type").with_text("expected", "object"));
            serde_json::Map::new()
        }
    };
    let secret = match (password, invite) {
        (Some(password), false) => {
            f.errors.extend(values::password_errors(&tenant.policy.password, "password", &password, email.as_ref()));
            Some(Secret::Password(Password::new(password)))
        }
        (None, true) => Some(Secret::Invite),
        _ => {
            f.errors.push(FieldError::new("password", "password_or_invite"));
            None
        }
    };
    f.finish(&[
        "email",
        "first_name",
        "last_name",
        "gender",
        "birth_date",
        "preferred_language",
        "time_zone",
        "phone",
        "password",
        "invite",
        "user_type",
        "roles",
        "company_id",
        "reset_required",
        "nationality",
        "address",
        "attributes",
    ])?;
    let (Some(email), Some(first_name), Some(last_name), Some(user_type), Some(secret)) =
        (email, first_name, last_name, user_type, secret)
    else {
        return Err(Problem::validation(vec![]));
    };
    let new = NewUser {
        email,
        first_name,
        last_name,
        gender,
        birth_date,
        language: language.unwrap_or_else(|| ctx.lang.to_owned()),
        time_zone,
        phone,
        secret,
        user_type,
        roles: roles.unwrap_or_default(),
        company_id,
        reset_required,
        nationality,
        address,
        attributes,
    };
    let user = users::create_user(ctx.app, tenant, actor, new, ctx.partner_id.clone()).await?;
    let mut body = serde_json::to_value(UserView::from(&user)).unwrap_or_default();
    if let Some(object) = body.as_object_mut() {
        object.insert("message".into(), message(ctx, "user_created"));
    }
    let mut response = json_response(StatusCode::CREATED, body);
    if let Ok(location) = HeaderValue::from_str(&format!("/v1/users/{}", user.id)) {
        response.headers_mut().insert(::http::header::LOCATION, location);
    }
    Ok(response)
}

pub async fn get_user(ctx: &Ctx<'_>) -> Result<Response<Body>, Problem> {
    let user = users::get_user(ctx.app, ctx.tenant()?, ctx.actor()?, ctx.param("id")).await?;
    Ok(json_response(StatusCode::OK, serde_json::to_value(UserView::from(&user)).unwrap_or_default()))
}

pub async fn change_user_status(ctx: &Ctx<'_>) -> Result<Response<Body>, Problem> {
    let tenant = ctx.tenant()?;
    let actor = ctx.actor()?;
    let mut f = Fields::parse(ctx.body)?;
    let raw = f.str("status");
    let status = f.check("status", raw, |s| Status::parse(s).ok_or("invalid_choice"));
    let raw_reason = f.str("reason");
    let reason = f.check("reason", raw_reason, |s| {
        let s = s.trim();
        match s.chars().count() {
            0 => Err("required"),
            1..=500 => Ok(s.to_owned()),
            _ => Err("too_long"),
        }
    });
    f.finish(&["status", "reason"])?;
    let (Some(status), Some(reason)) = (status, reason) else { return Err(Problem::validation(vec![])) };
    let id = ctx.param("id");
    let previous = users::change_status(ctx.app, tenant, actor, id, status, &reason).await?;
    Ok(json_response(
        StatusCode::OK,
        json!({
            "user_id": id,
            "status": status.as_str(),
            "previous_status": previous.as_str(),
            "message": message(ctx, "status_changed"),
        }),
    ))
}

pub async fn get_user_audit(ctx: &Ctx<'_>) -> Result<Response<Body>, Problem> {
    let limit = match ctx.query_param("limit") {
        None => 50,
        Some(raw) => match raw.parse::<usize>() {
            Ok(n) if (1..=200).contains(&n) => n,
            _ => return Err(Problem::validation(vec![FieldError::new("limit", "out_of_range")])),
        },
    };
    let before = ctx.query_param("before");
    let page = users::audit_trail(ctx.app, ctx.tenant()?, ctx.actor()?, ctx.param("id"), limit, before).await?;
    Ok(json_response(StatusCode::OK, serde_json::to_value(page).unwrap_or_default()))
}
