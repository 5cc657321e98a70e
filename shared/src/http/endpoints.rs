//! Every endpoint as a type: what it answers with ([`Handler::handle`]) and
//! what its function needs at start-up ([`Needs`]). A Lambda binary names
//! its endpoint's type, so the compiler links that handler alone (and the
//! SES or SNS client only where it sends); the local API dispatches on the
//! route table's [`Endpoint`] to all of them. [`answer_schemas`] gives the
//! OpenAPI document each endpoint's success bodies, from its handler's
//! answer type.

use std::future::Future;

use lambda_http::{Body, Response};
use schemars::{Schema, SchemaGenerator};

use super::context::Ctx;
use super::handlers::reply::{Answer, Reply};
use super::handlers::{auth, factors, federation, me, meta, oauth, pages, reference, registration, users};
use super::problem::Problem;
use super::routes::{Endpoint, route_of};

/// What a function's app is built with, beyond the store and the keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Needs {
    /// It sends e-mail (SES).
    pub email: bool,
    /// It sends SMS (SNS).
    pub sms: bool,
}

const NOTHING: Needs = Needs { email: false, sms: false };
const EMAIL: Needs = Needs { email: true, sms: false };
const SMS: Needs = Needs { email: false, sms: true };
const BOTH: Needs = Needs { email: true, sms: true };

/// An endpoint's handler.
pub trait Handler: Copy + Send + Sync + 'static {
    /// What the function's app needs (what the local API's app has: all).
    const NEEDS: Needs;
    /// The endpoint (its row of the route table).
    fn endpoint(self) -> Endpoint;
    /// The answer to one request.
    fn handle<'c>(self, ctx: &'c Ctx<'c>) -> impl Future<Output = Result<Response<Body>, Problem>> + Send + 'c;
}

/// Any endpoint, chosen at run time (the local API and the tests).
#[derive(Clone, Copy, Debug)]
pub struct Any(pub Endpoint);

/// The response of a handler's reply (its status one the endpoint declares:
/// checked in debug builds, so every test checks it).
fn respond<T: Answer>(endpoint: Endpoint, reply: Result<Reply<T>, Problem>) -> Result<Response<Body>, Problem> {
    let reply = reply?;
    debug_assert!(
        route_of(endpoint).ok.contains(&reply.status.as_u16()),
        "{endpoint:?} answered {} (its declaration says {:?})",
        reply.status,
        route_of(endpoint).ok,
    );
    Ok(reply.into_response())
}

/// The schema of `handler`'s answer for each of `statuses`.
fn schemas_of<T: Answer, F>(_handler: F, statuses: &[u16], generator: &mut SchemaGenerator) -> Vec<(u16, Schema)>
where
    F: for<'a, 'b> AsyncFn(&'a Ctx<'b>) -> Result<Reply<T>, Problem>,
{
    statuses.iter().map(|&status| (status, T::schema(status, generator))).collect()
}

macro_rules! endpoints {
    ($($name:ident: $method:ident $path:literal, $auth:ident, $function:literal => $handler:path, $needs:ident,
        $($ok:literal)|+, [$($problem:literal),*];)*) => {
        $(
            #[doc = concat!("`Endpoint::", stringify!($name), "`, answered by `", stringify!($handler), "`.")]
            #[derive(Clone, Copy, Debug)]
            pub struct $name;

            impl Handler for $name {
                const NEEDS: Needs = $needs;
                fn endpoint(self) -> Endpoint {
                    Endpoint::$name
                }
                fn handle<'c>(self, ctx: &'c Ctx<'c>) -> impl Future<Output = Result<Response<Body>, Problem>> + Send + 'c {
                    async move { respond(Endpoint::$name, $handler(ctx).await) }
                }
            }
        )*

        impl Handler for Any {
            const NEEDS: Needs = BOTH;
            fn endpoint(self) -> Endpoint {
                self.0
            }
            async fn handle<'c>(self, ctx: &'c Ctx<'c>) -> Result<Response<Body>, Problem> {
                match self.0 {
                    $(Endpoint::$name => respond(self.0, $handler(ctx).await),)*
                }
            }
        }

        /// The schema of each success status of `endpoint` (its route's
        /// `ok`), from its handler's answer type; the schemas of named
        /// types are left in `generator`'s definitions.
        pub fn answer_schemas(endpoint: Endpoint, generator: &mut SchemaGenerator) -> Vec<(u16, Schema)> {
            match endpoint {
                $(Endpoint::$name => schemas_of($handler, &[$($ok),+], generator),)*
            }
        }

        /// What an endpoint's function needs.
        pub fn needs(endpoint: Endpoint) -> Needs {
            match endpoint {
                $(Endpoint::$name => $needs,)*
            }
        }
    };
}

super::declaration::endpoint_table!(endpoints);
