//! HTTP glue shared by the Lambda functions and the local API. One hop from
//! the route table to any behaviour:
//!
//! - [`declaration`]: every endpoint, once: method, path, auth, function,
//!   handler, what it sends and its statuses; expanded by
//! - [`routes`] (the `Endpoint` enum, the route table, path matching) and
//! - [`endpoints`] (each endpoint as a type naming its handler and needs,
//!   and its answers' schemas).
//! - [`handlers`]: one file per area, one function per endpoint, named after
//!   it, answering a typed `Reply` (`handlers::reply`).
//! - [`context`]: the request as handlers see it, and authentication.
//! - [`pipeline`]: route → context → handler → CORS and common headers.
//! - [`body`] (request bodies as types: read and described from one
//!   declaration), [`input`] and [`problem`]: reading bodies, RFC 9457 answers.
//! - [`openapi`]: the OpenAPI document, from the route table, the bodies and
//!   the answer types.
//! - [`lambda`] (a function's `main`) and [`server`] (the local API).

pub mod body;
pub mod context;
mod declaration;
pub mod endpoints;
pub mod handlers;
pub mod input;
pub mod lambda;
pub mod openapi;
pub mod pipeline;
pub mod problem;
pub mod routes;
pub mod server;

pub use openapi::OPENAPI_PATH;
pub use pipeline::{handle, handle_endpoint, handle_route};
pub use routes::{Auth, Endpoint, ROUTES, Route, route_for_function};
