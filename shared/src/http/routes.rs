//! The route table: every endpoint, its Lambda function, method, path and
//! authentication. The code's one source of truth for paths, checked against
//! `template.yaml` by a test; each function's IAM permissions live in the
//! template alone, proven by running its flows under them (`tests/deploy/iam.rs`).
//! Paths are matched with `matchit`.

use std::sync::OnceLock;

use ::http::Method;

/// What a route needs from the caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Auth {
    /// Nothing (JWKS, health).
    None,
    /// A valid `X-API-Key`.
    ApiKey,
    /// A valid `X-API-Key` and a bearer access token of that tenant with a
    /// live session.
    Bearer,
    /// A valid `X-API-Key` and either an admin token of that tenant or the
    /// access token of an active user (what they may do follows their type).
    Admin,
    /// No API key: an OpenID Connect route (`/oauth2/…`, docs/openid.md),
    /// whose tenant comes from the client (`client_id`) or the token the
    /// request presents, which its handler checks. Its body may be a form
    /// (`application/x-www-form-urlencoded`), as browsers and OAuth clients
    /// send.
    Client,
}

/// One row of the route table.
#[derive(Clone, Debug)]
pub struct Route {
    /// The Lambda function (binary) name.
    pub function: &'static str,
    pub method: Method,
    /// The API Gateway path, with `{name}` parameters.
    pub path: &'static str,
    pub auth: Auth,
    pub endpoint: Endpoint,
    /// Its success statuses.
    pub ok: &'static [u16],
    /// Its problem statuses (besides those of its authentication and of
    /// `X-Device-ID`).
    pub problems: &'static [u16],
}

macro_rules! route_table {
    ($($name:ident: $method:ident $path:literal, $auth:ident, $function:literal => $handler:path, $needs:ident,
        $($ok:literal)|+, [$($problem:literal),*];)*) => {
        /// Every endpoint; one Lambda function each (declared in
        /// `declaration.rs`).
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum Endpoint {
            $($name,)*
        }

        /// The route table.
        pub const ROUTES: &[Route] = &[
            $(Route {
                function: $function,
                method: Method::$method,
                path: $path,
                auth: Auth::$auth,
                endpoint: Endpoint::$name,
                ok: &[$($ok),+],
                problems: &[$($problem),*],
            },)*
        ];
    };
}

super::declaration::endpoint_table!(route_table);

/// The route of a Lambda function, by its name.
pub fn route_for_function(function: &str) -> Option<&'static Route> {
    ROUTES.iter().find(|r| r.function == function)
}

/// The route of an endpoint.
pub fn route_of(endpoint: Endpoint) -> &'static Route {
    // Every endpoint has exactly one row (a test checks it).
    ROUTES.iter().find(|r| r.endpoint == endpoint).unwrap_or(&ROUTES[0])
}

/// Path parameters, by name.
pub type Params = Vec<(String, String)>;

/// The paths of the table (the preflight's catch-all aside), each with the
/// rows that serve it, in `matchit`'s syntax.
fn router() -> &'static matchit::Router<Vec<&'static Route>> {
    static ROUTER: OnceLock<matchit::Router<Vec<&'static Route>>> = OnceLock::new();
    ROUTER.get_or_init(|| {
        let mut paths: Vec<(&str, Vec<&'static Route>)> = Vec::new();
        for route in ROUTES.iter().filter(|r| r.endpoint != Endpoint::Preflight) {
            match paths.iter_mut().find(|(path, _)| *path == route.path) {
                Some((_, rows)) => rows.push(route),
                None => paths.push((route.path, vec![route])),
            }
        }
        let mut router = matchit::Router::new();
        for (path, rows) in paths {
            // The table's paths are fixed and distinct: a conflict is a bug
            // that the route tests catch.
            let _ = router.insert(path, rows);
        }
        router
    })
}

/// The table's rows for `path` (other than the preflight's), with the path's
/// parameters. A trailing slash is ignored, as API Gateway does.
pub fn routes_of(path: &str) -> Option<(&'static [&'static Route], Params)> {
    let trimmed = path.trim_end_matches('/');
    let path = if trimmed.is_empty() { "/" } else { trimmed };
    let matched = router().at(path).ok()?;
    let params = matched.params.iter().map(|(name, value)| (name.to_owned(), value.to_owned())).collect();
    Some((matched.value.as_slice(), params))
}

/// The route that answers `method` on `path`, with the path's parameters: an
/// `OPTIONS` request is the CORS preflight's, whatever its path.
pub fn find(method: &Method, path: &str) -> Option<(&'static Route, Params)> {
    if method == Method::OPTIONS {
        return Some((
            route_of(Endpoint::Preflight),
            vec![("proxy".to_owned(), path.trim_start_matches('/').to_owned())],
        ));
    }
    let (routes, params) = routes_of(path)?;
    routes.iter().find(|r| r.method == method).map(|route| (*route, params))
}

/// The parameters of `path` if `route` serves it (a Lambda function serves
/// one route, whatever path API Gateway hands it).
pub fn match_route(route: &Route, path: &str) -> Option<Params> {
    if route.endpoint == Endpoint::Preflight {
        return Some(vec![("proxy".to_owned(), path.trim_start_matches('/').to_owned())]);
    }
    let (routes, params) = routes_of(path)?;
    routes.iter().any(|r| r.path == route.path).then_some(params)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(path: &str) -> Option<Params> {
        routes_of(path).map(|(_, params)| params)
    }

    #[test]
    fn paths_match_patterns() {
        assert_eq!(params("/v1/registrations"), Some(vec![]));
        assert_eq!(params("/v1/registrations/"), Some(vec![]), "a trailing slash is ignored");
        assert_eq!(params("/v1/registrations/reg_1/email/verify"), Some(vec![("id".to_owned(), "reg_1".to_owned())]));
        assert_eq!(params("/v1/registrations/a/b"), None);
        assert_eq!(params("/v1/healthz"), None);
        assert_eq!(params("/"), None);
        let me = routes_of("/v1/me").unwrap().0;
        assert_eq!(me.len(), 3, "GET, PATCH and DELETE share /v1/me");
        assert_eq!(find(&Method::DELETE, "/v1/me").unwrap().0.endpoint, Endpoint::CloseMe);
        assert!(find(&Method::PUT, "/v1/me").is_none());
        let (preflight, params) = find(&Method::OPTIONS, "/v1/users/u1").unwrap();
        assert_eq!(preflight.endpoint, Endpoint::Preflight);
        assert_eq!(params, vec![("proxy".to_owned(), "v1/users/u1".to_owned())]);
    }

    #[test]
    fn a_function_serves_only_its_own_path() {
        let get_user = route_of(Endpoint::GetUser);
        assert_eq!(match_route(get_user, "/v1/users/u1"), Some(vec![("id".to_owned(), "u1".to_owned())]));
        assert_eq!(match_route(get_user, "/v1/users/u1/audit"), None);
        assert_eq!(match_route(get_user, "/v1/users"), None);
    }

    #[test]
    fn every_function_name_and_endpoint_is_unique_and_every_path_is_routable() {
        let mut names: Vec<_> = ROUTES.iter().map(|r| r.function).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), ROUTES.len());
        for route in ROUTES {
            assert_eq!(route_of(route.endpoint).function, route.function);
            if route.endpoint != Endpoint::Preflight {
                let path = route.path.replace("{id}", "x").replace("{kind}", "k").replace("{code}", "c");
                assert_eq!(find(&route.method, &path).map(|(r, _)| r.function), Some(route.function), "{path}");
            }
        }
    }
}
