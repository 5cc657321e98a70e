//! Every endpoint as a type: what it answers with ([`Handler::handle`]) and
//! what its function needs at start-up ([`Needs`]). A Lambda binary names
//! its endpoint's type, so the compiler links that handler alone (and the
//! SES or SNS client only where it sends); the local API dispatches on the
//! route table's [`Endpoint`] to all of them.

use std::future::Future;

use lambda_http::{Body, Response};

use super::context::Ctx;
use super::handlers::{auth, factors, me, meta, reference, registration, users};
use super::problem::Problem;
use super::routes::Endpoint;

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

macro_rules! endpoints {
    ($($name:ident: $method:ident $path:literal, $auth:ident, $function:literal => $handler:path, $needs:ident;)*) => {
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
                    $handler(ctx)
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
                    $(Endpoint::$name => $handler(ctx).await,)*
                }
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
