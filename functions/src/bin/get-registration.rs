//! Lambda function `get-registration`: serves `Endpoint::GetRegistration` alone.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::http::lambda::run(shared::http::endpoints::GetRegistration).await
}
