//! Lambda function `start-registration`: serves `Endpoint::StartRegistration` alone.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::http::lambda::run(shared::http::endpoints::StartRegistration).await
}
