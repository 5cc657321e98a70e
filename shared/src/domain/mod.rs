//! The domain: registrations, users, sessions, codes and policies. Pure Rust
//! on the ports; no AWS and no HTTP.

pub mod account;
pub mod actor;
pub mod auth;
pub mod codes;
pub mod credentials;
pub mod error;
pub mod events;
pub mod factor_list;
pub mod factors;
pub mod federation;
pub mod foreign_hash;
pub mod hooks;
pub mod ids;
pub mod keys;
pub mod limits;
pub mod me;
pub mod migration;
pub mod oauth;
pub mod paging;
pub mod passkeys;
pub mod password;
pub mod passwords;
pub mod personal_data;
pub mod policy;
pub mod reference;
pub mod refusals;
pub mod registration;
pub mod reset_codes;
pub mod sessions;
pub mod tenant;
pub mod tokens;
pub mod user;
pub mod users;
pub mod values;

pub use error::{Error, FieldError, Step};
