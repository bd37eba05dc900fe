//! The [`Store`]: puts, heads, gets and listings with sha256 on every object.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::TryStreamExt;
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::{
    Attribute, AttributeValue, Attributes, BackoffConfig, ClientOptions, GetOptions, ObjectStore,
    ObjectStoreExt, PutMultipartOptions, PutOptions, PutPayload, RetryConfig, WriteMultipart,
};
use sha2::{Digest, Sha256};
use tokio::io::AsyncReadExt;

use crate::config::{Credentials, StoreConfig, StoreLocation};
use crate::error::StoreError;

/// The user-metadata key of the checksum (`x-amz-meta-sha256` on S3).
const SHA256_META: &str = "sha256";

/// Files larger than this go up as multipart uploads.
pub const MULTIPART_THRESHOLD: u64 = 16 * 1024 * 1024;
/// Part size of multipart uploads (B2 and S3 need at least 5 MiB).
const PART_SIZE: usize = 8 * 1024 * 1024;
/// Parts of one file in flight at once.
const PART_CONCURRENCY: usize = 4;

/// What a listing or head says about an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectInfo {
    /// The key, relative to the store's root (its prefix excluded).
    pub key: String,
    pub size: u64,
    /// The object's sha256, when known without downloading it.
    pub sha256: Option<String>,
}

/// A local folder or an S3 bucket (with an optional prefix).
#[derive(Debug, Clone)]
pub struct Store {
    inner: Arc<dyn ObjectStore>,
    location: StoreLocation,
    prefix: String,
}

/// How hard to retry requests to S3.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub max_retries: usize,
    pub retry_timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 10,
            retry_timeout: Duration::from_secs(180),
        }
    }
}

impl RetryPolicy {
    /// The default, unless `RECTO_S3_MAX_RETRIES` / `RECTO_S3_RETRY_TIMEOUT_SECS` say otherwise.
    pub fn from_env() -> Self {
        let mut p = RetryPolicy::default();
        if let Some(n) = std::env::var("RECTO_S3_MAX_RETRIES")
            .ok()
            .and_then(|v| v.parse().ok())
        {
            p.max_retries = n;
        }
        if let Some(s) = std::env::var("RECTO_S3_RETRY_TIMEOUT_SECS")
            .ok()
            .and_then(|v| v.parse().ok())
        {
            p.retry_timeout = Duration::from_secs(s);
        }
        p
    }
}

impl Store {
    /// Open the store named by `config` (relative folders resolve against
    /// `base_dir`); S3 credentials come from the environment.
    pub fn open(config: &StoreConfig, base_dir: &Path) -> Result<Self, StoreError> {
        let location = config.resolve(base_dir)?;
        Self::open_location(location, Credentials::from_env(), RetryPolicy::from_env())
    }

    pub fn open_location(
        location: StoreLocation,
        credentials: Option<Credentials>,
        retry: RetryPolicy,
    ) -> Result<Self, StoreError> {
        match &location {
            StoreLocation::Local { root } => {
                std::fs::create_dir_all(root).map_err(|source| StoreError::Io {
                    path: root.clone(),
                    source,
                })?;
                let fs = LocalFileSystem::new_with_prefix(root)
                    .map_err(|e| StoreError::InvalidUrl {
                        url: location.url(),
                        reason: e.to_string(),
                    })?
                    .with_automatic_cleanup(true);
                Ok(Store {
                    inner: Arc::new(fs),
                    location,
                    prefix: String::new(),
                })
            }
            StoreLocation::Memory { name } => {
                static STORES: std::sync::OnceLock<
                    std::sync::Mutex<
                        std::collections::HashMap<String, Arc<object_store::memory::InMemory>>,
                    >,
                > = std::sync::OnceLock::new();
                let inner = STORES
                    .get_or_init(Default::default)
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .entry(name.clone())
                    .or_insert_with(|| Arc::new(object_store::memory::InMemory::new()))
                    .clone();
                Ok(Store {
                    inner,
                    location,
                    prefix: String::new(),
                })
            }
            StoreLocation::S3 {
                bucket,
                prefix,
                endpoint_url,
                region,
                path_style,
            } => {
                let creds = credentials.ok_or_else(|| StoreError::MissingCredentials {
                    store: location.url(),
                })?;
                let mut b = AmazonS3Builder::new()
                    .with_bucket_name(bucket)
                    .with_region(region)
                    .with_access_key_id(&creds.access_key_id)
                    .with_secret_access_key(&creds.secret_access_key)
                    .with_virtual_hosted_style_request(!path_style)
                    .with_retry(RetryConfig {
                        backoff: BackoffConfig {
                            init_backoff: Duration::from_millis(100),
                            max_backoff: Duration::from_secs(15),
                            base: 2.0,
                        },
                        max_retries: retry.max_retries,
                        retry_timeout: retry.retry_timeout,
                    })
                    .with_client_options(
                        ClientOptions::new()
                            .with_connect_timeout(Duration::from_secs(10))
                            .with_timeout(Duration::from_secs(300)),
                    );
                if let Some(e) = endpoint_url {
                    b = b.with_endpoint(e).with_allow_http(e.starts_with("http://"));
                }
                let s3 = b.build().map_err(|e| StoreError::InvalidUrl {
                    url: location.url(),
                    reason: e.to_string(),
                })?;
                Ok(Store {
                    inner: Arc::new(s3),
                    prefix: prefix.clone(),
                    location,
                })
            }
        }
    }

    pub fn location(&self) -> &StoreLocation {
        &self.location
    }

    /// The store's URL, safe to print and record.
    pub fn url(&self) -> String {
        self.location.url()
    }

    fn is_local(&self) -> bool {
        matches!(self.location, StoreLocation::Local { .. })
    }

    fn path(&self, key: &str) -> Result<ObjectPath, StoreError> {
        let invalid = |reason: &str| StoreError::InvalidKey {
            key: key.to_owned(),
            reason: reason.to_owned(),
        };
        if key.is_empty() || key.starts_with('/') || key.ends_with('/') {
            return Err(invalid("empty, or a leading or trailing '/'"));
        }
        if key
            .split('/')
            .any(|s| s.is_empty() || s == "." || s == "..")
        {
            return Err(invalid("empty, '.' or '..' segment"));
        }
        let full = if self.prefix.is_empty() {
            key.to_owned()
        } else {
            format!("{}/{key}", self.prefix)
        };
        ObjectPath::parse(&full).map_err(|e| invalid(&e.to_string()))
    }

    fn strip_prefix<'a>(&self, p: &'a str) -> &'a str {
        if self.prefix.is_empty() {
            p
        } else {
            p.strip_prefix(&self.prefix)
                .map(|r| r.trim_start_matches('/'))
                .unwrap_or(p)
        }
    }

    /// The file behind `key` in a local store, after the same key checks
    /// as every other operation (no `..`, no absolute keys); `None` for an
    /// S3 store. Keys read from metadata must come through here, never be
    /// joined to the root by hand.
    pub fn local_path(&self, key: &str) -> Result<Option<PathBuf>, StoreError> {
        self.path(key)?;
        Ok(self.local_file(key))
    }

    fn local_file(&self, key: &str) -> Option<PathBuf> {
        match &self.location {
            StoreLocation::Local { root } => Some(root.join(key)),
            StoreLocation::S3 { .. } | StoreLocation::Memory { .. } => None,
        }
    }

    /// Map an object_store error to ours, naming the store and key.
    ///
    /// By object_store's variants first. It maps the HTTP status of simple
    /// requests to its own variants but wraps listing errors (and S3's
    /// error codes, which no variant names) as `Generic`; only then is its
    /// text read, and a connection that failed is found by the I/O error
    /// in its chain before its message is looked at.
    fn classify(&self, key: &str, e: object_store::Error) -> StoreError {
        let store = self.url();
        let debug = format!("{e:?}");
        let status = match &e {
            object_store::Error::NotFound { .. } => Some(404),
            object_store::Error::PermissionDenied { .. } => Some(403),
            object_store::Error::Unauthenticated { .. } => Some(401),
            _ => http_status(&debug),
        };
        let key = key.to_owned();
        match status {
            _ if debug.contains("AuthorizationHeaderMalformed")
                || debug.contains("IllegalLocationConstraint") =>
            {
                StoreError::WrongRegion {
                    store,
                    region: match &self.location {
                        StoreLocation::S3 { region, .. } => region.clone(),
                        StoreLocation::Local { .. } | StoreLocation::Memory { .. } => String::new(),
                    },
                    source: e,
                }
            }
            _ if debug.contains("NoSuchBucket") => StoreError::BucketNotFound {
                bucket: self.location.bucket().unwrap_or_default().to_owned(),
                endpoint: self.location.endpoint_url().unwrap_or("AWS S3").to_owned(),
                source: e,
            },
            Some(404) => StoreError::NotFound { store, key },
            Some(status @ (401 | 403)) => StoreError::AccessDenied {
                store,
                key,
                status,
                source: e,
            },
            None if io_failure(&e) || is_connection_error(&error_chain(&e)) => {
                StoreError::Unreachable {
                    store,
                    key,
                    source: e,
                }
            }
            _ => StoreError::Request {
                store,
                key,
                source: e,
            },
        }
    }

    /// Check that the store answers and the credentials and bucket are
    /// good, with one cheap listing request.
    pub async fn check(&self) -> Result<(), StoreError> {
        tracing::debug!("store {}: list (check)", self.url());
        let prefix = (!self.prefix.is_empty()).then(|| ObjectPath::from(self.prefix.as_str()));
        self.inner
            .list_with_delimiter(prefix.as_ref())
            .await
            .map(|_| ())
            .map_err(|e| {
                let err = self.classify("", e);
                // A listing of a missing bucket is a 404 on the bucket itself.
                match err {
                    StoreError::NotFound { .. } => StoreError::BucketNotFound {
                        bucket: self.location.bucket().unwrap_or_default().to_owned(),
                        endpoint: self.location.endpoint_url().unwrap_or("AWS S3").to_owned(),
                        source: object_store::Error::NotFound {
                            path: String::new(),
                            source: "the bucket does not exist".into(),
                        },
                    },
                    other => other,
                }
            })
    }

    /// Size and (when known without a download) sha256 of `key`, or `None`
    /// when there is no such object. For the local store the checksum is
    /// computed from the file when `want_sha256` is set.
    pub async fn head(
        &self,
        key: &str,
        want_sha256: bool,
    ) -> Result<Option<ObjectInfo>, StoreError> {
        tracing::debug!("store {}: head {key}", self.url());
        let path = self.path(key)?;
        let opts = GetOptions {
            head: true,
            ..Default::default()
        };
        match self.inner.get_opts(&path, opts).await {
            Ok(r) => {
                let mut sha256 = r
                    .attributes
                    .get(&Attribute::Metadata(SHA256_META.into()))
                    .map(|v| v.as_ref().to_owned());
                if sha256.is_none()
                    && want_sha256
                    && let Some(file) = self.local_file(key)
                {
                    sha256 = Some(sha256_file(&file).await?.0);
                }
                Ok(Some(ObjectInfo {
                    key: key.to_owned(),
                    size: r.meta.size,
                    sha256,
                }))
            }
            Err(object_store::Error::NotFound { .. }) if self.is_local() => Ok(None),
            Err(e) => match self.classify(key, e) {
                StoreError::NotFound { .. } => Ok(None),
                other => Err(other),
            },
        }
    }

    fn put_attributes(&self, sha256: &str) -> Attributes {
        let mut a = Attributes::new();
        // The local filesystem store keeps no attributes; there the content
        // itself is the checksum's source.
        if !self.is_local() {
            a.insert(
                Attribute::Metadata(SHA256_META.into()),
                AttributeValue::from(sha256.to_owned()),
            );
        }
        a
    }

    /// Upload bytes held in memory, with their sha256 as metadata.
    pub async fn put_bytes(&self, key: &str, bytes: Bytes) -> Result<String, StoreError> {
        tracing::debug!("store {}: put {key} ({} bytes)", self.url(), bytes.len());
        let sha = hex::encode(Sha256::digest(&bytes));
        let path = self.path(key)?;
        let opts = PutOptions {
            attributes: self.put_attributes(&sha),
            ..Default::default()
        };
        self.inner
            .put_opts(&path, PutPayload::from_bytes(bytes), opts)
            .await
            .map_err(|e| self.classify(key, e))?;
        Ok(sha)
    }

    /// Upload a local file whose sha256 the caller computed; files above
    /// [`MULTIPART_THRESHOLD`] go up in parts. `progress` gets byte counts as
    /// they are handed to the network.
    pub async fn put_file(
        &self,
        key: &str,
        file: &Path,
        sha256: &str,
        progress: &(dyn Fn(u64) + Send + Sync),
    ) -> Result<(), StoreError> {
        tracing::debug!("store {}: put {key} from {}", self.url(), file.display());
        let io = |source| StoreError::Io {
            path: file.to_owned(),
            source,
        };
        let path = self.path(key)?;
        let size = tokio::fs::metadata(file).await.map_err(io)?.len();
        // A local store: a reflink where the filesystem makes one, so the
        // store does not double the library's disk; else a copy.
        if let Some(dest) = self.local_file(key) {
            let (from, to) = (file.to_owned(), dest.clone());
            let how = tokio::task::spawn_blocking(move || crate::clone::clone_or_copy(&from, &to))
                .await
                .map_err(|e| io(std::io::Error::other(e)))?
                .map_err(|e| StoreError::Io {
                    path: dest,
                    source: e,
                })?;
            tracing::debug!("store {}: {key} stored as a {how:?}", self.url());
            progress(size);
            return Ok(());
        }
        if size <= MULTIPART_THRESHOLD {
            let bytes = tokio::fs::read(file).await.map_err(io)?;
            let opts = PutOptions {
                attributes: self.put_attributes(sha256),
                ..Default::default()
            };
            self.inner
                .put_opts(&path, PutPayload::from(bytes), opts)
                .await
                .map_err(|e| self.classify(key, e))?;
            progress(size);
            return Ok(());
        }
        let opts = PutMultipartOptions {
            attributes: self.put_attributes(sha256),
            ..Default::default()
        };
        let upload = self
            .inner
            .put_multipart_opts(&path, opts)
            .await
            .map_err(|e| self.classify(key, e))?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_SIZE);
        let mut f = tokio::fs::File::open(file).await.map_err(io)?;
        let result: Result<(), StoreError> = async {
            loop {
                writer
                    .wait_for_capacity(PART_CONCURRENCY)
                    .await
                    .map_err(|e| self.classify(key, e))?;
                let mut buf = vec![0u8; PART_SIZE];
                let mut filled = 0;
                while filled < PART_SIZE {
                    let n = f.read(&mut buf[filled..]).await.map_err(io)?;
                    if n == 0 {
                        break;
                    }
                    filled += n;
                }
                if filled == 0 {
                    break;
                }
                buf.truncate(filled);
                writer.put(Bytes::from(buf));
                progress(filled as u64);
            }
            Ok(())
        }
        .await;
        match result {
            Ok(()) => {
                writer.finish().await.map_err(|e| self.classify(key, e))?;
                Ok(())
            }
            Err(e) => {
                let _ = writer.abort().await;
                Err(e)
            }
        }
    }

    /// Download `key` to `dest` (atomically: temp file, then rename), and
    /// check its sha256 when `expected_sha256` is given. Returns the sha256.
    pub async fn get_to_file(
        &self,
        key: &str,
        dest: &Path,
        expected_sha256: Option<&str>,
    ) -> Result<String, StoreError> {
        tracing::debug!("store {}: get {key} to {}", self.url(), dest.display());
        use tokio::io::AsyncWriteExt;
        let path = self.path(key)?;
        let io = |p: &Path| {
            let p = p.to_owned();
            move |source| StoreError::Io { path: p, source }
        };
        let dir = dest.parent().unwrap_or(Path::new("."));
        tokio::fs::create_dir_all(dir).await.map_err(io(dir))?;
        // Unique across the machines of a cluster sharing the cache folder
        // (pids alone repeat from one node to the next).
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let tmp = dir.join(format!(
            ".tmp-{}-{nanos}-{}",
            std::process::id(),
            dest.file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("download")
        ));
        let result = async {
            let r = self
                .inner
                .get(&path)
                .await
                .map_err(|e| self.classify(key, e))?;
            let mut stream = r.into_stream();
            let mut out = tokio::fs::File::create(&tmp).await.map_err(io(&tmp))?;
            let mut hasher = Sha256::new();
            while let Some(chunk) = stream.try_next().await.map_err(|e| self.classify(key, e))? {
                hasher.update(&chunk);
                out.write_all(&chunk).await.map_err(io(&tmp))?;
            }
            out.sync_all().await.map_err(io(&tmp))?;
            let actual = hex::encode(hasher.finalize());
            if let Some(expected) = expected_sha256
                && expected != actual
            {
                return Err(StoreError::ChecksumMismatch {
                    store: self.url(),
                    key: key.to_owned(),
                    expected: expected.to_owned(),
                    actual,
                });
            }
            tokio::fs::rename(&tmp, dest).await.map_err(io(dest))?;
            Ok(actual)
        }
        .await;
        if result.is_err() {
            let _ = tokio::fs::remove_file(&tmp).await;
        }
        result
    }

    /// Read a whole (small) object into memory.
    pub async fn get_bytes(&self, key: &str) -> Result<Bytes, StoreError> {
        tracing::debug!("store {}: get {key}", self.url());
        let path = self.path(key)?;
        let r = self
            .inner
            .get(&path)
            .await
            .map_err(|e| self.classify(key, e))?;
        r.bytes().await.map_err(|e| self.classify(key, e))
    }

    /// Every object under `prefix` (a key prefix ending in `/`, or empty for
    /// all), with sizes; sha256 is not part of a listing.
    pub async fn list(&self, prefix: &str) -> Result<Vec<ObjectInfo>, StoreError> {
        tracing::debug!("store {}: list {prefix}", self.url());
        let trimmed = prefix.trim_end_matches('/');
        let full = match (self.prefix.is_empty(), trimmed.is_empty()) {
            (true, true) => None,
            (true, false) => Some(self.path(trimmed)?),
            (false, true) => Some(ObjectPath::from(self.prefix.as_str())),
            (false, false) => Some(self.path(trimmed)?),
        };
        let metas: Vec<object_store::ObjectMeta> = self
            .inner
            .list(full.as_ref())
            .try_collect()
            .await
            .map_err(|e| self.classify(prefix, e))?;
        Ok(metas
            .into_iter()
            .map(|m| ObjectInfo {
                key: self.strip_prefix(m.location.as_ref()).to_owned(),
                size: m.size,
                sha256: None,
            })
            .collect())
    }

    pub async fn delete(&self, key: &str) -> Result<(), StoreError> {
        tracing::debug!("store {}: delete {key}", self.url());
        let path = self.path(key)?;
        self.inner
            .delete(&path)
            .await
            .map_err(|e| self.classify(key, e))
    }
}

/// The sha256 and size of a local file, streamed (never whole in memory).
pub async fn sha256_file(path: &Path) -> Result<(String, u64), StoreError> {
    let p = path.to_owned();
    tokio::task::spawn_blocking(move || {
        use std::io::Read;
        let io = |source| StoreError::Io {
            path: p.clone(),
            source,
        };
        let mut f = std::fs::File::open(&p).map_err(io)?;
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 1 << 20];
        let mut size = 0u64;
        loop {
            let n = f.read(&mut buf).map_err(io)?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            size += n as u64;
        }
        Ok((hex::encode(hasher.finalize()), size))
    })
    .await
    .expect("hashing task panicked")
}

/// An error's message, then those of its causes that add something: a
/// cause whose text the messages so far already hold is left out
/// (object_store's errors repeat their sources). The one formatter of error
/// chains: [`error_chain`] joins it into a line for metadata, the CLI prints
/// it as `error:` and `caused by:` lines.
pub fn error_causes(e: &(dyn std::error::Error + 'static)) -> Vec<String> {
    let mut out = vec![e.to_string()];
    let mut shown = out[0].clone();
    let mut cur = e.source();
    while let Some(c) = cur {
        let t = c.to_string();
        if !shown.contains(&t) {
            shown.push_str(&t);
            out.push(t);
        }
        cur = c.source();
    }
    out
}

/// An error with its causes on one line, `a: b: c` (see [`error_causes`]).
pub fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    error_causes(e).join(": ")
}

/// The HTTP status in an object_store error's debug text (`status: 403`).
fn http_status(debug: &str) -> Option<u16> {
    let i = debug.find("status: ")? + "status: ".len();
    debug[i..].get(..3)?.parse().ok()
}

/// An I/O error in the chain of `e` that means the server could not be
/// talked to (refused, reset, aborted, timed out, unreachable).
fn io_failure(e: &object_store::Error) -> bool {
    use std::io::ErrorKind::*;
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(c) = cause {
        if let Some(io) = c.downcast_ref::<std::io::Error>()
            && matches!(
                io.kind(),
                ConnectionRefused
                    | ConnectionReset
                    | ConnectionAborted
                    | NotConnected
                    | BrokenPipe
                    | TimedOut
                    | HostUnreachable
                    | NetworkUnreachable
            )
        {
            return true;
        }
        cause = c.source();
    }
    false
}

/// The message of a connection failure, for errors whose chain holds no
/// I/O error (the HTTP client's own).
fn is_connection_error(text: &str) -> bool {
    let t = text.to_ascii_lowercase();
    [
        "connection refused",
        "error sending request",
        "tcp connect",
        "connection reset",
        "connection closed",
        "dns error",
        "timed out",
        "operation timed out",
        "broken pipe",
    ]
    .iter()
    .any(|needle| t.contains(needle))
}
