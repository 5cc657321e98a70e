//! Log set-up for the functions and the local API (never secrets: handlers
//! only log ids).

use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// Sets up JSON or text logs, filtered by `RUST_LOG` (default `info`):
/// levels per target, as in `info,shared=debug`. (`Targets` rather than
/// `EnvFilter`, whose regular expressions would add a regex engine to every
/// function binary.)
pub fn init(json: bool) {
    let filter = std::env::var("RUST_LOG")
        .ok()
        .and_then(|spec| spec.parse::<Targets>().ok())
        .unwrap_or_else(|| Targets::new().with_default(tracing::Level::INFO));
    let registry = tracing_subscriber::registry().with(filter);
    let _ = if json {
        registry.with(tracing_subscriber::fmt::layer().json().without_time().with_target(false)).try_init()
    } else {
        registry.with(tracing_subscriber::fmt::layer().with_target(false)).try_init()
    };
}
