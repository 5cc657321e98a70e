//! Adapters: the ports implemented on AWS, in memory and on local files.

#[cfg(any(test, feature = "test-support"))]
pub mod contract;
pub mod dynamodb;
#[cfg(any(test, feature = "test-support"))]
pub mod faulty;
pub mod memory;
pub mod outbox;
pub mod secrets;
pub mod ses;
pub mod sns;
pub mod system;
