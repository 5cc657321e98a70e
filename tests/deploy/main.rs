//! What a deployment rests on, in one test binary: `template.yaml` agrees
//! with the route table (`template`), every function's IAM policy holds its
//! flows on a moto that enforces IAM (`iam`), and the operator CLI works as
//! its own process (`cli`).

#[path = "../common/mod.rs"]
mod common;

mod cli;
mod iam;
mod template;
