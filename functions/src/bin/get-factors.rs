//! Lambda function `get-factors`: serves `Endpoint::GetFactors` alone.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::http::lambda::run(shared::http::endpoints::GetFactors).await
}
