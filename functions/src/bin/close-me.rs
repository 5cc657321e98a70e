//! Lambda function `close-me`: serves its one route from `shared`'s route table.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::http::lambda::run("close-me").await
}
