//! Lambda function `get-reference`: serves its one route from `shared`'s route table.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::http::lambda::run("get-reference").await
}
