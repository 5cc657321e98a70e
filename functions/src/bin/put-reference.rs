//! Lambda function `put-reference`: serves `Endpoint::PutReference` alone.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::http::lambda::run(shared::http::endpoints::PutReference).await
}
