//! Adapters: the ports implemented on AWS, in memory and on local files.

#[cfg(any(test, feature = "test-support"))]
pub mod contract;
pub mod dynamodb;
pub mod event_feed;
pub mod eventbridge;
#[cfg(any(test, feature = "test-support"))]
pub mod faulty;
pub mod hook_transport;
pub mod lambda_hook;
pub mod memory;
pub mod outbox;
pub mod provider_http;
pub mod secrets;
pub mod ses;
pub mod sns;
pub mod system;
pub mod webhook;

/// An SDK client given ready-made, or made from the SDK configuration at its
/// first use.
pub enum LazyClient<C> {
    Ready(C),
    Later(Box<aws_config::SdkConfig>, std::sync::OnceLock<C>),
}

impl<C> LazyClient<C> {
    /// The client (`make` builds it from the configuration the first time).
    pub fn get(&self, make: fn(&aws_config::SdkConfig) -> C) -> &C {
        match self {
            Self::Ready(client) => client,
            Self::Later(sdk, cell) => cell.get_or_init(|| make(sdk)),
        }
    }
}
