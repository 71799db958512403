//! Mounts the sandboxed file server under `/files/` of an axum application.
//!
//! usage: cargo run --release -p sandserve-host --example axum -- DIR [ADDR]
//!
//! The host application keeps its own routes; everything below `/files/` is answered by
//! the sandserve component, which sees only DIR, read-only.

use std::convert::Infallible;

use axum::body::Body;
use axum::extract::Request;
use axum::routing::get;
use axum::Router;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let dir = std::env::args().nth(1).unwrap_or_else(|| ".".into());
    let addr = std::env::args()
        .nth(2)
        .unwrap_or_else(|| "127.0.0.1:3000".into());

    let files = sandserve_host::Server::builder()
        .root(dir)
        .base_path("/files")
        .handler()?;
    let files = tower::service_fn(move |request: Request| {
        let files = files.clone();
        async move { Ok::<_, Infallible>(files.handle(request).await.map(Body::new)) }
    });

    let app = Router::new()
        .route("/", get(|| async { "the host application\n" }))
        .nest_service("/files", files);

    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("listening on http://{}/", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}
