//! The operator's side of a deployment that the CLI and the tests share.

pub mod redrive;
