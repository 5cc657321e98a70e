//! Registrar's shared library: the domain, its ports, the adapters that
//! implement them, and the HTTP glue every Lambda function and the local API
//! use.

pub mod adapters;
pub mod app;
pub mod config;
pub mod domain;
pub mod http;
pub mod i18n;
pub mod local;
pub mod logs;
pub mod ports;
#[cfg(feature = "test-support")]
pub mod round_trips;
#[cfg(feature = "test-support")]
pub mod soft_authenticator;
pub mod stream;
pub mod table;
#[cfg(any(test, feature = "test-support"))]
pub mod testing;
