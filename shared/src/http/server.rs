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

use super::{ClientAddr, MAX_BODY_BYTES, handle, payload_too_large, render_early};
use crate::app::App;

async fn answer(
    app: Arc<App>,
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
    let response = if declared.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
        render_early(&app, &parts.headers, payload_too_large())
    } else {
        match Limited::new(body, MAX_BODY_BYTES).collect().await {
            Ok(collected) => {
                let bytes = collected.to_bytes();
                let body = if bytes.is_empty() { Body::Empty } else { Body::Binary(bytes.to_vec()) };
                handle(&app, ::http::Request::from_parts(parts, body)).await
            }
            Err(_) => render_early(&app, &parts.headers, payload_too_large()),
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

/// Serves `app` on `listener` until the task is dropped.
pub async fn serve(app: Arc<App>, listener: TcpListener) {
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(err) => {
                tracing::warn!(error = %err, "accept failed");
                continue;
            }
        };
        let app = app.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request| answer(app.clone(), peer, request));
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

/// Binds `addr` (port 0 allowed) and serves `app` in a background task;
/// returns the bound address.
pub async fn spawn(app: Arc<App>, addr: SocketAddr) -> std::io::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let listener = TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    Ok((bound, tokio::spawn(serve(app, listener))))
}
