//! What the S3 store says when credentials, bucket or server are wrong.

use std::time::Duration;

use recto_store::{Credentials, RetryPolicy, Store, StoreError, StoreLocation};
use recto_test_support::S3Server;

fn store(server: &S3Server, bucket: &str, secret: &str, endpoint: &str) -> Store {
    Store::open_location(
        StoreLocation::S3 {
            bucket: bucket.to_owned(),
            prefix: String::new(),
            endpoint_url: Some(endpoint.to_owned()),
            region: server.region.clone(),
            path_style: true,
        },
        Some(Credentials {
            access_key_id: server.access_key.clone(),
            secret_access_key: secret.to_owned(),
        }),
        RetryPolicy {
            max_retries: 2,
            retry_timeout: Duration::from_secs(5),
        },
    )
    .unwrap()
}

#[tokio::test]
async fn wrong_secret_is_access_denied_and_never_printed() {
    let Some(server) = S3Server::gated() else {
        return;
    };
    let wrong = "0".repeat(64);
    let s = store(&server, &server.bucket, &wrong, &server.endpoint);
    let err = s.check().await.unwrap_err();
    assert!(matches!(err, StoreError::AccessDenied { .. }), "{err:?}");
    let msg = format!("{err}: {:?}", err);
    assert!(msg.contains("refused the credentials"), "{msg}");
    assert!(!msg.contains(&wrong) && !msg.contains(&server.secret_key));
}

#[tokio::test]
async fn missing_bucket_is_named() {
    let Some(server) = S3Server::gated() else {
        return;
    };
    let s = store(
        &server,
        "no-such-bucket",
        &server.secret_key,
        &server.endpoint,
    );
    let err = s.check().await.unwrap_err();
    assert!(err.to_string().contains("no-such-bucket"), "{err}");
    assert!(err.is_store_wide());
}

#[tokio::test]
async fn server_not_running_is_unreachable_after_retries() {
    let Some(server) = S3Server::gated() else {
        return;
    };
    let endpoint = server.endpoint.clone();
    server.stop();
    let s = store(&server, &server.bucket, &server.secret_key, &endpoint);
    let t = std::time::Instant::now();
    let err = s.check().await.unwrap_err();
    assert!(matches!(err, StoreError::Unreachable { .. }), "{err:?}");
    assert!(err.to_string().contains("could not be reached"), "{err}");
    assert!(
        t.elapsed() > Duration::from_millis(200),
        "retried with backoff first"
    );
}

#[test]
fn missing_credentials_are_a_clear_error() {
    let err = Store::open_location(
        StoreLocation::S3 {
            bucket: "b-1".into(),
            prefix: String::new(),
            endpoint_url: None,
            region: "us-east-1".into(),
            path_style: false,
        },
        None,
        RetryPolicy::default(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("B2_APPLICATION_KEY_ID"), "{err}");
}
