//! Lambda function `federated-token`: serves `Endpoint::FederatedToken` alone.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::http::lambda::run(shared::http::endpoints::FederatedToken).await
}
