//! Storage errors. Each names the store (by its URL, never its credentials)
//! and the key or path involved.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    #[error("invalid store {url:?}: {reason}")]
    InvalidUrl { url: String, reason: String },

    #[error(
        "no credentials for {store}: set B2_APPLICATION_KEY_ID and B2_APPLICATION_KEY \
         (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)"
    )]
    MissingCredentials { store: String },

    #[error("invalid object key {key:?}: {reason}")]
    InvalidKey { key: String, reason: String },

    #[error(
        "{store} refused the credentials for {key:?} (HTTP {status}): check B2_APPLICATION_KEY_ID / \
         B2_APPLICATION_KEY (or AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY) and the key's bucket permissions"
    )]
    AccessDenied {
        store: String,
        key: String,
        status: u16,
        #[source]
        source: object_store::Error,
    },

    #[error(
        "{store} rejected the region {region:?}: the bucket's region must be given (RECTO_REGION, or the store's region setting)"
    )]
    WrongRegion {
        store: String,
        region: String,
        #[source]
        source: object_store::Error,
    },

    #[error("bucket {bucket:?} does not exist at {endpoint}")]
    BucketNotFound {
        bucket: String,
        endpoint: String,
        #[source]
        source: object_store::Error,
    },

    #[error("{key:?} not found in {store}")]
    NotFound { store: String, key: String },

    #[error("{store} could not be reached for {key:?} (after retries)")]
    Unreachable {
        store: String,
        key: String,
        #[source]
        source: object_store::Error,
    },

    #[error("checksum mismatch for {key:?} in {store}: expected sha256 {expected}, got {actual}")]
    ChecksumMismatch {
        store: String,
        key: String,
        expected: String,
        actual: String,
    },

    #[error("{}: {source}", .path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("{store}: request for {key:?} failed")]
    Request {
        store: String,
        key: String,
        #[source]
        source: object_store::Error,
    },
}

impl StoreError {
    /// True for errors that say the store as a whole is unusable (wrong
    /// credentials, no bucket, server down), as opposed to one object.
    pub fn is_store_wide(&self) -> bool {
        matches!(
            self,
            StoreError::AccessDenied { .. }
                | StoreError::BucketNotFound { .. }
                | StoreError::WrongRegion { .. }
                | StoreError::Unreachable { .. }
                | StoreError::MissingCredentials { .. }
        )
    }
}
