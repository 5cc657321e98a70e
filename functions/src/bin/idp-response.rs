//! Lambda function `idp-response`: serves `Endpoint::IdpResponse` alone.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::http::lambda::run(shared::http::endpoints::IdpResponse).await
}
