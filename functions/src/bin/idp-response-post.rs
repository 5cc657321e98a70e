//! Lambda function `idp-response-post`: serves `Endpoint::IdpResponsePost` alone.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::http::lambda::run(shared::http::endpoints::IdpResponsePost).await
}
