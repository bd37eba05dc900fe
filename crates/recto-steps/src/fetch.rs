//! Source PDFs as the steps read them: the store an upload job recorded,
//! and each citekey's PDF fetched from it and verified against its
//! recorded sha256 (read in place from a local store, downloaded into a
//! content-addressed cache from S3). The OCR step reads its sources through
//! here, and so do the steps that go back to a source after OCR (toc's
//! outline and labels, export's searchable PDF) and the sync.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use recto_library::{LibraryError, StepResult};
use recto_registry::{Citekey, JobId, Registry};
use recto_store::{Store, StoreConfig, StoreError};
use serde_json::{Map, Value};

use crate::StepError;

/// Why a citekey's source PDF could not be had.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SourceError {
    #[error("the OCR job records no upload for it")]
    NoUpload,
    #[error("the source job records no object")]
    NoObject,
    #[error("the source job records no valid sha256 checksum")]
    NoChecksum,
    #[error("source job {job} records no store")]
    NoStore { job: JobId },
    #[error(
        "checksum mismatch for {object} in {store}: recorded sha256 {expected}, found {actual}"
    )]
    Mismatch {
        object: String,
        store: String,
        expected: String,
        actual: String,
    },
    #[error(transparent)]
    Registry(#[from] recto_registry::Error),
    /// Boxed: object_store's errors are large.
    #[error("{}", recto_store::error_chain(.0))]
    Store(Box<StoreError>),
    /// The caller did not fetch it (a step that only needed it for some
    /// formats).
    #[error("it was not fetched")]
    NotFetched,
}

impl From<StoreError> for SourceError {
    fn from(e: StoreError) -> Self {
        SourceError::Store(Box::new(e))
    }
}

/// The store an upload job recorded (its URL, endpoint, region, addressing).
pub fn recorded_store(meta: &Map<String, Value>, job: &JobId) -> Result<StoreConfig, StepError> {
    let url = meta
        .get("store")
        .and_then(Value::as_str)
        .ok_or_else(|| StepError::NoStoreRecorded { job: job.clone() })?;
    Ok(StoreConfig {
        url: url.to_owned(),
        endpoint_url: meta
            .get("endpoint_url")
            .and_then(Value::as_str)
            .map(str::to_owned),
        region: meta
            .get("region")
            .and_then(Value::as_str)
            .map(str::to_owned),
        path_style: meta.get("path_style").and_then(Value::as_bool),
    })
}

/// The source PDF the OCR result `ocr` read, verified against its checksum;
/// `stores` keeps one open store per upload job.
pub async fn source_pdf(
    registry: &Registry,
    key: &Citekey,
    ocr: &recto_library::StepResult,
    stores: &mut BTreeMap<String, Store>,
    cache: &Path,
) -> Result<PathBuf, SourceError> {
    let upload = ocr
        .entry
        .as_ref()
        .and_then(|e| e.get("source_job_id"))
        .and_then(Value::as_str)
        .map(str::to_owned)
        .or_else(|| {
            let (_, meta) = registry.metadata_by_name("ocr", ocr.job_id.as_str()).ok()?;
            meta.get("sources")
                .and_then(|s| s.get(key.as_str()))
                .or_else(|| meta.get("source_job_id"))
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .ok_or(SourceError::NoUpload)?;
    let job = JobId::parse(&upload)?;
    let (_, meta) = registry.metadata_by_name("source", job.as_str())?;
    if !stores.contains_key(&upload) {
        let cfg = recorded_store(&meta, &job).map_err(|_| SourceError::NoStore { job })?;
        stores.insert(upload.clone(), Store::open(&cfg, Path::new("."))?);
    }
    fetch_source(&stores[&upload], &meta, key, cache).await
}

/// The source PDF of `key`, verified against the recorded sha256: read in
/// place from a local store, downloaded into the cache from S3. The object
/// key comes from metadata, so it goes through the store's own key checks
/// like any other key: a key that would leave the store is refused.
pub async fn fetch_source(
    store: &Store,
    meta: &Map<String, Value>,
    key: &Citekey,
    cache: &Path,
) -> Result<PathBuf, SourceError> {
    let object = meta
        .get("objects")
        .and_then(|o| o.get(key.as_str()))
        .and_then(Value::as_str)
        .ok_or(SourceError::NoObject)?;
    let expected = meta
        .get("checksums")
        .and_then(|o| o.get(key.as_str()))
        .and_then(Value::as_str)
        .filter(|s| s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()))
        .ok_or(SourceError::NoChecksum)?;
    let mismatch = |actual: String| SourceError::Mismatch {
        object: object.to_owned(),
        store: store.url().to_string(),
        expected: expected.to_owned(),
        actual,
    };
    if let Some(path) = store.local_path(object)? {
        tracing::debug!("{key}: reading {} in place", path.display());
        let (actual, _) = recto_store::sha256_file(&path).await?;
        return if actual == expected {
            Ok(path)
        } else {
            Err(mismatch(actual))
        };
    }
    let cached = cache.join(format!("{expected}.pdf"));
    if cached.is_file()
        && let Ok((actual, _)) = recto_store::sha256_file(&cached).await
        && actual == expected
    {
        tracing::debug!("{key}: using the cached copy {}", cached.display());
        return Ok(cached);
    }
    tracing::debug!("{key}: downloading {object} from {}", store.url());
    match store.get_to_file(object, &cached, Some(expected)).await {
        Ok(_) => Ok(cached),
        Err(StoreError::ChecksumMismatch { actual, .. }) => Err(mismatch(actual)),
        Err(e) => Err(e.into()),
    }
}

/// A citekey's OCR result and, once fetched, the source PDF it read: the
/// input of the steps that go back to the source (toc's outline and
/// labels, export's searchable PDF).
#[derive(Debug)]
pub struct OcrAndSource {
    pub ocr: StepResult,
    /// Shared: one failure may be reported for several formats.
    pub pdf: Result<PathBuf, Arc<SourceError>>,
}

impl OcrAndSource {
    /// The citekey's OCR result (of `job` when given), its PDF not fetched.
    pub fn lookup(
        registry: &Registry,
        key: &Citekey,
        job: Option<&JobId>,
    ) -> Result<Self, LibraryError> {
        Ok(OcrAndSource {
            ocr: recto_library::ocr_result(registry, key, job)?,
            pdf: Err(Arc::new(SourceError::NotFetched)),
        })
    }

    /// Fetch each one's source PDF into `cache`, one store per upload.
    pub async fn fetch_all(registry: &Registry, found: &mut [(Citekey, Self)], cache: &Path) {
        let mut stores = BTreeMap::new();
        for (key, input) in found {
            input.pdf = source_pdf(registry, key, &input.ocr, &mut stores, cache)
                .await
                .map_err(Arc::new);
        }
    }
}
