//! recto's object storage: one [`Store`] over a local folder (the embedded
//! default, no credentials) or an S3-compatible bucket (Backblaze B2, Garage,
//! AWS), built on the `object_store` crate.
//!
//! Every object carries its sha256: as user metadata (`x-amz-meta-sha256`) on
//! S3, and for the local folder as the content itself, which is at hand. That
//! lets callers recognise unchanged content without downloading it. Requests
//! to S3 are retried with exponential backoff and jitter; large files go up
//! as multipart uploads. Credentials come from the environment only and never
//! appear in messages.

mod clone;
mod config;
mod error;
mod store;

pub use config::{Credentials, StoreConfig, StoreLocation};
pub use error::StoreError;
pub use store::{
    MULTIPART_THRESHOLD, ObjectInfo, RetryPolicy, Store, error_causes, error_chain, sha256_file,
};
