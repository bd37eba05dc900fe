//! One suite, two backends.

use bytes::Bytes;
use recto_store::{Credentials, Store, StoreLocation, sha256_file};
use recto_test_support::{S3Server, TestContext};

fn s3_store(server: &S3Server, prefix: &str) -> Store {
    Store::open_location(
        StoreLocation::S3 {
            bucket: server.bucket.clone(),
            prefix: prefix.to_owned(),
            endpoint_url: Some(server.endpoint.clone()),
            region: server.region.clone(),
            path_style: true,
        },
        Some(Credentials {
            access_key_id: server.access_key.clone(),
            secret_access_key: server.secret_key.clone(),
        }),
        Default::default(),
    )
    .unwrap()
}

fn local_store(ctx: &TestContext) -> Store {
    Store::open_location(
        StoreLocation::Local {
            root: ctx.root().join("store"),
        },
        None,
        Default::default(),
    )
    .unwrap()
}

async fn suite(store: &Store, ctx: &TestContext) {
    store.check().await.unwrap();
    assert_eq!(
        store.head("sources/a/missing.pdf", true).await.unwrap(),
        None
    );

    // Small file: one put, sha256 known without downloading.
    let small = ctx.root().join("small.pdf");
    std::fs::write(&small, b"%PDF-1.4 small").unwrap();
    let (sha, size) = sha256_file(&small).await.unwrap();
    store
        .put_file("sources/a/x.pdf", &small, &sha, &|_| {})
        .await
        .unwrap();
    let info = store.head("sources/a/x.pdf", true).await.unwrap().unwrap();
    assert_eq!(
        (info.size, info.sha256.as_deref()),
        (size, Some(sha.as_str()))
    );

    // Large file: multipart, progress adds up to the size.
    let big = ctx.root().join("big.bin");
    let data: Vec<u8> = (0..(20 * 1024 * 1024 + 123))
        .map(|i| (i * 7 % 251) as u8)
        .collect();
    std::fs::write(&big, &data).unwrap();
    let (big_sha, big_size) = sha256_file(&big).await.unwrap();
    let sent = std::sync::atomic::AtomicU64::new(0);
    store
        .put_file("sources/b/big.bin", &big, &big_sha, &|n| {
            sent.fetch_add(n, std::sync::atomic::Ordering::Relaxed);
        })
        .await
        .unwrap();
    assert_eq!(sent.into_inner(), big_size);
    let info = store
        .head("sources/b/big.bin", true)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(info.sha256.as_deref(), Some(big_sha.as_str()));

    // Download verifies the checksum.
    let back = ctx.root().join("dl/big.bin");
    assert_eq!(
        store
            .get_to_file("sources/b/big.bin", &back, Some(&big_sha))
            .await
            .unwrap(),
        big_sha
    );
    assert_eq!(std::fs::read(&back).unwrap(), data);
    let err = store
        .get_to_file(
            "sources/a/x.pdf",
            &ctx.root().join("dl/x.pdf"),
            Some(&big_sha),
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("checksum mismatch"), "{err}");
    assert!(
        !ctx.root().join("dl/x.pdf").exists(),
        "no file left after a mismatch"
    );

    // Bytes and listings.
    store
        .put_bytes("analytics/m.json", Bytes::from_static(b"{}"))
        .await
        .unwrap();
    assert_eq!(
        store.get_bytes("analytics/m.json").await.unwrap(),
        Bytes::from_static(b"{}")
    );
    let mut keys: Vec<(String, u64)> = store
        .list("sources/")
        .await
        .unwrap()
        .into_iter()
        .map(|o| (o.key, o.size))
        .collect();
    keys.sort();
    assert_eq!(
        keys,
        vec![
            ("sources/a/x.pdf".to_owned(), size),
            ("sources/b/big.bin".to_owned(), big_size)
        ]
    );
    assert_eq!(store.list("").await.unwrap().len(), 3);

    // Keys that would escape are refused before any request.
    for bad in ["../x", "a/../b", "/abs", "a//b", ""] {
        assert!(store.head(bad, false).await.is_err(), "{bad:?}");
    }
    store.delete("analytics/m.json").await.unwrap();
    assert_eq!(store.head("analytics/m.json", false).await.unwrap(), None);
}

#[tokio::test]
async fn local_store_conforms() {
    let ctx = TestContext::new();
    suite(&local_store(&ctx), &ctx).await;
}

#[tokio::test]
async fn s3_store_conforms() {
    let ctx = TestContext::new();
    let Some(server) = S3Server::gated() else {
        return;
    };
    suite(&s3_store(&server, ""), &ctx).await;
}

#[tokio::test]
async fn s3_store_with_prefix_conforms() {
    let ctx = TestContext::new();
    let Some(server) = S3Server::gated() else {
        return;
    };
    let store = s3_store(&server, "library/v1");
    suite(&store, &ctx).await;
    // Everything really is under the prefix.
    let root = s3_store(&server, "");
    assert!(
        root.list("")
            .await
            .unwrap()
            .iter()
            .all(|o| o.key.starts_with("library/v1/"))
    );
}
