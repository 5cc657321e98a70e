//! The handlers, one file per area, each function named after its
//! [`Endpoint`](crate::http::routes::Endpoint) (`Endpoint::GetMe` is
//! `me::get_me`): read the body, call the domain, answer.

pub mod auth;
pub mod factors;
pub mod federation;
pub mod me;
pub mod meta;
pub mod oauth;
pub mod pages;
pub mod reference;
pub mod registration;
pub mod reply;
pub mod users;
