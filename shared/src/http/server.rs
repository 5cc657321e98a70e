//! The local API: one HTTP/1.1 server that mounts every route of the table
//! at the same paths as API Gateway.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use lambda_http::Body;
use tokio::net::TcpListener;

use super::context::{ClientAddr, MAX_BODY_BYTES, payload_too_large};
use super::pipeline::{handle, render_early};
use crate::app::App;

/// What answers the server's requests: the whole route table on one app (the
/// local API), or, in tests of the deployed shape, each route on the app of
/// its own function.
#[async_trait::async_trait]
pub trait Responder: Send + Sync + 'static {
    /// The app that renders what fails before routing (an oversized body).
    fn app(&self) -> &App;
    /// The answer to one request.
    async fn respond(&self, request: lambda_http::Request) -> lambda_http::Response<Body>;
}

#[async_trait::async_trait]
impl Responder for App {
    fn app(&self) -> &App {
        self
    }

    async fn respond(&self, request: lambda_http::Request) -> lambda_http::Response<Body> {
        handle(self, request).await
    }
}

async fn answer<R: Responder>(
    responder: Arc<R>,
    peer: SocketAddr,
    request: hyper::Request<Incoming>,
) -> Result<hyper::Response<Full<Bytes>>, Infallible> {
    let (mut parts, body) = request.into_parts();
    parts.extensions.insert(ClientAddr(peer));
    let declared = parts
        .headers
        .get(::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    // An oversized body is answered without reading it all: the connection
    // is closed after the answer, so no client sends its next request into
    // the rest of that body.
    let too_large = || {
        let mut response = render_early(responder.app(), &parts.headers, payload_too_large());
        response.headers_mut().insert(::http::header::CONNECTION, ::http::HeaderValue::from_static("close"));
        response
    };
    let response = if declared.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
        too_large()
    } else {
        match Limited::new(body, MAX_BODY_BYTES).collect().await {
            Ok(collected) => {
                let bytes = collected.to_bytes();
                let body = if bytes.is_empty() { Body::Empty } else { Body::Binary(bytes.to_vec()) };
                responder.respond(::http::Request::from_parts(parts, body)).await
            }
            Err(_) => too_large(),
        }
    };
    let (parts, body) = response.into_parts();
    let bytes = match body {
        Body::Text(text) => Bytes::from(text),
        Body::Binary(bytes) => Bytes::from(bytes),
        _ => Bytes::new(),
    };
    Ok(hyper::Response::from_parts(parts, Full::new(bytes)))
}

/// Serves `responder` (an [`App`]: every route) on `listener` until the
/// task is dropped.
pub async fn serve<R: Responder>(responder: Arc<R>, listener: TcpListener) {
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(err) => {
                tracing::warn!(error = %err, "accept failed");
                continue;
            }
        };
        let responder = responder.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request| answer(responder.clone(), peer, request));
            let connection = http1::Builder::new()
                .header_read_timeout(std::time::Duration::from_secs(10))
                .timer(hyper_util::rt::TokioTimer::new())
                .serve_connection(TokioIo::new(stream), service);
            if let Err(err) = connection.await {
                tracing::debug!(error = %err, "connection closed with an error");
            }
        });
    }
}

/// Binds `addr` (port 0 allowed) and serves `responder` in a background
/// task; returns the bound address.
pub async fn spawn<R: Responder>(
    responder: Arc<R>,
    addr: SocketAddr,
) -> std::io::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let listener = TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    Ok((bound, tokio::spawn(serve(responder, listener))))
}
