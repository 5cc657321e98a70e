//! Lambda function `delete-reference`: serves `Endpoint::DeleteReference` alone.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::http::lambda::run(shared::http::endpoints::DeleteReference).await
}
