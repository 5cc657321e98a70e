//! The end-to-end suites, one module per area, in one test binary (linking
//! one binary per file cost minutes on two cores): the API over HTTP on both
//! stores, the events through `lambda_http`, every route fuzzed, the
//! adapters and the store contract on moto. Apart from it runs only what
//! must: `tests/logs.rs` installs the process's one log subscriber, and
//! `tests/timing.rs` compares wall-clock times, which neighbours would
//! skew; `tests/deploy` checks what a deployment rests on.

#[macro_use]
#[path = "../common/mod.rs"]
mod common;

mod auth;
mod aws_adapters;
mod code_sign_in;
mod concurrency;
mod discovery;
mod dynamodb_retries;
mod events;
mod events_deployed;
mod events_outbox;
mod export;
mod factors;
mod faults;
mod federation;
mod first_hour;
mod fuzz;
mod hooks;
mod hosted_pages;
mod hot_keys;
mod import;
mod openapi;
mod openid;
mod passkeys;
mod phone_first;
mod round_trips;
mod security;
mod sessions;
mod signup;
mod store_contract;
mod usernames;
mod users;
