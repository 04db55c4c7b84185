//! How pages are rendered and sent: whole, and also while other servers of the process
//! are being built.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use painless::server::Application;
use reqwest::StatusCode;

use crate::common::*;

/// leptos finds the page routes with a process-wide switch on that makes every `Resource`
/// created meanwhile wait forever, so a page rendered while another server of the process
/// was built (as the tests of this binary do) hung until the request timeout. Without the
/// fix this failed on every run (2 cores).
#[tokio::test]
async fn pages_render_while_other_servers_are_built() {
    let app = spawn_app().await;
    let building = Arc::new(AtomicBool::new(true));
    let builder = std::thread::spawn({
        let building = Arc::clone(&building);
        move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            for _ in 0..20 {
                runtime.block_on(async {
                    let dir = tempfile::tempdir().expect("temp dir");
                    let settings = test_settings(dir.path()).await;
                    Application::build(settings).await.expect("app builds");
                });
            }
            building.store(false, Ordering::Relaxed);
        }
    });
    // Far below the server's 30 s request timeout, far above a page's few milliseconds.
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .expect("client");
    let mut pages = 0;
    while building.load(Ordering::Relaxed) {
        let response = client
            .get(format!("{}/login", app.base))
            .send()
            .await
            .expect("the page is rendered while servers are built");
        assert_eq!(response.status(), StatusCode::OK);
        response.text().await.expect("the whole page");
        pages += 1;
    }
    builder.join().expect("the builder thread");
    assert!(pages > 0, "pages were rendered during the builds");
}

#[tokio::test]
async fn a_page_is_sent_whole_with_its_length_not_in_chunks() {
    let app = spawn_app().await;
    for path in ["/login", "/no-such-page"] {
        let response = app.page(path).await;
        let headers = response.headers().clone();
        assert!(
            headers.get(reqwest::header::TRANSFER_ENCODING).is_none(),
            "{path}: not chunked"
        );
        let length: usize = headers[reqwest::header::CONTENT_LENGTH]
            .to_str()
            .expect("ascii")
            .parse()
            .expect("a number");
        let html = response.text().await.expect("the page");
        assert_eq!(length, html.len(), "{path}");
        assert!(html.contains("</html>"), "{path}: the whole page");
    }
}
