//! Lambda function `get-reference`: serves `Endpoint::GetReference` alone.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::http::lambda::run(shared::http::endpoints::GetReference).await
}
