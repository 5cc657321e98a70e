//! Lambda function `enroll-totp`: serves `Endpoint::EnrollTotp` alone.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::http::lambda::run(shared::http::endpoints::EnrollTotp).await
}
