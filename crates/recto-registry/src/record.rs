//! One metadata file as the registry sees it: a source upload job or a step
//! of a job, with the few fields the registry itself interprets.

use chrono::{DateTime, FixedOffset, Local, SecondsFormat};
use serde_json::{Map, Value};

use crate::Error;
use crate::citekey::Citekey;
use crate::ids::{JobId, RecordKind, Status};
use crate::layout::relative_metadata_path;

/// The version of every file the registry writes.
pub const SCHEMA_VERSION: u64 = 1;

/// What one record says of one citekey (the index's `citekeys` table).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CitekeyRow<'a> {
    pub citekey: &'a str,
    pub failed: bool,
    pub sha256: Option<&'a str>,
    pub size: Option<u64>,
    pub pages: Option<u64>,
    pub confidence: Option<f64>,
    pub reason: Option<&'a str>,
    /// The upload this record read the citekey from.
    pub source_job_id: Option<&'a str>,
}

/// A parsed metadata file.
#[derive(Debug, Clone)]
pub struct Record {
    pub kind: RecordKind,
    pub job_id: JobId,
    pub status: Status,
    pub timestamp: String,
    pub source_job_id: Option<JobId>,
    /// `citekeys.list` when the metadata has one.
    pub citekeys: Option<Vec<String>>,
    /// The keys of `failures` (`{citekey: reason}`): citekeys this record
    /// tried and failed.
    pub failed_citekeys: Vec<String>,
    pub meta: Map<String, Value>,
}

/// Why a metadata file cannot be used as a record.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RecordError {
    #[error("unreadable: {0}")]
    Unreadable(#[source] std::io::Error),
    #[error("not a JSON object: {0}")]
    NotJson(#[source] serde_json::Error),
    #[error("status {0:?} is not one of pending, running, completed, failed")]
    UnknownStatus(String),
    #[error("status is missing")]
    NoStatus,
    /// A field of the wrong JSON type.
    #[error("{field} must be {expected}, got {got}")]
    WrongType {
        field: &'static str,
        expected: &'static str,
        got: Value,
    },
    #[error("source_job_id: {0}")]
    SourceJob(#[source] Box<crate::Error>),
}

impl Record {
    /// Interpret metadata read from disk. Lenient about what the registry
    /// does not need (a missing timestamp falls back to the job id's time),
    /// strict about what it does (status, types of the lineage fields).
    pub fn from_meta(
        kind: RecordKind,
        job_id: JobId,
        meta: Map<String, Value>,
    ) -> Result<Self, RecordError> {
        let wrong = |field, expected, got: &Value| RecordError::WrongType {
            field,
            expected,
            got: got.clone(),
        };
        let status = match meta.get("status") {
            Some(Value::String(s)) => {
                Status::parse(s).ok_or_else(|| RecordError::UnknownStatus(s.clone()))?
            }
            None if kind == RecordKind::Source => Status::Completed,
            None => return Err(RecordError::NoStatus),
            Some(other) => return Err(wrong("status", "a string", other)),
        };
        let source_job_id = match meta.get("source_job_id") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => {
                Some(JobId::parse(s).map_err(|e| RecordError::SourceJob(Box::new(e)))?)
            }
            Some(other) => return Err(wrong("source_job_id", "a string", other)),
        };
        let citekeys = match meta.get("citekeys") {
            None | Some(Value::Null) => None,
            Some(Value::Object(c)) => match c.get("list") {
                None | Some(Value::Null) => None,
                Some(Value::Array(items)) => Some(
                    items
                        .iter()
                        .map(|v| match v {
                            Value::String(s) => Ok(s.clone()),
                            other => Err(wrong("citekeys.list", "strings", other)),
                        })
                        .collect::<Result<Vec<_>, _>>()?,
                ),
                Some(other) => return Err(wrong("citekeys.list", "an array", other)),
            },
            // A step may summarise citekeys some other way; only `list` is ours.
            Some(_) => None,
        };
        let failed_citekeys = match meta.get("failures") {
            Some(Value::Object(f)) => f.keys().cloned().collect(),
            _ => Vec::new(),
        };
        let timestamp = match meta.get("timestamp") {
            Some(Value::String(s)) => s.clone(),
            _ => job_id
                .datetime()
                .and_local_timezone(Local)
                .earliest()
                .map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, false))
                .unwrap_or_else(|| job_id.to_string()),
        };
        Ok(Record {
            kind,
            job_id,
            status,
            timestamp,
            source_job_id,
            citekeys,
            failed_citekeys,
            meta,
        })
    }

    /// One row per citekey this record names, in its `citekeys.list` or
    /// its `failures`, with what the record says of it. Names that are not
    /// valid citekeys (files written by hand, keys of other things in
    /// `failures`) are left out.
    pub(crate) fn citekey_rows(&self) -> Vec<CitekeyRow<'_>> {
        let valid = |c: &&String| Citekey::parse(c).is_ok();
        let mut names: Vec<&String> = self.citekeys.iter().flatten().filter(valid).collect();
        for f in self.failed_citekeys.iter().filter(valid) {
            if !names.contains(&f) {
                names.push(f);
            }
        }
        let per = self.meta.get("per_citekey").and_then(Value::as_object);
        let field = |map: &str, k: &str| self.meta.get(map).and_then(|m| m.get(k));
        names
            .into_iter()
            .map(|c| {
                let mine = per.and_then(|p| p.get(c.as_str()));
                let reason = field("failures", c).and_then(Value::as_str);
                CitekeyRow {
                    citekey: c,
                    failed: self.failed_citekeys.iter().any(|f| f == c),
                    // An upload's checksum and size of the citekey's PDF; a
                    // step's own record of the source it read, if it has one.
                    sha256: field("checksums", c)
                        .or_else(|| mine.and_then(|m| m.get("sha256")))
                        .and_then(Value::as_str),
                    size: field("sizes", c).and_then(Value::as_u64),
                    pages: mine.and_then(|m| m.get("pages")).and_then(Value::as_u64),
                    confidence: mine
                        .and_then(|m| m.get("mean_confidence"))
                        .and_then(Value::as_f64),
                    reason,
                    source_job_id: mine
                        .and_then(|m| m.get("source_job_id"))
                        .and_then(Value::as_str)
                        .filter(|s| JobId::parse(s).is_ok())
                        .or(self.source_job_id.as_ref().map(JobId::as_str)),
                }
            })
            .collect()
    }

    /// A failed record with no per-citekey failures, or with an `error`:
    /// the step failed as a whole, so none of its citekeys is done.
    pub(crate) fn failed_as_a_whole(&self) -> bool {
        self.status == Status::Failed
            && (self.failed_citekeys.is_empty()
                || self.meta.get("error").is_some_and(|e| !e.is_null()))
    }

    /// Whether this record says which citekeys it covers.
    pub(crate) fn names_citekeys(&self) -> bool {
        self.citekeys.is_some() || !self.failed_citekeys.is_empty()
    }

    pub fn metadata_path(&self) -> String {
        relative_metadata_path(self.kind.step(), &self.job_id)
    }

    /// The time used to order traces; unparseable timestamps sort first.
    pub fn sort_time(&self) -> Option<DateTime<FixedOffset>> {
        DateTime::parse_from_rfc3339(&self.timestamp).ok()
    }

    /// The upstream job, unless it is this record's own job.
    pub fn upstream(&self) -> Option<&JobId> {
        self.source_job_id.as_ref().filter(|u| **u != self.job_id)
    }
}

/// Read and interpret one metadata file; the error is the reason it cannot be used.
pub(crate) fn read_record(
    path: &std::path::Path,
    kind: RecordKind,
    job: JobId,
) -> Result<Record, RecordError> {
    let bytes = std::fs::read(path).map_err(RecordError::Unreadable)?;
    let meta: Map<String, Value> = serde_json::from_slice(&bytes).map_err(RecordError::NotJson)?;
    Record::from_meta(kind, job, meta)
}

/// The current time as recorded in metadata.
pub fn now_timestamp() -> String {
    Local::now().to_rfc3339_opts(SecondsFormat::Micros, false)
}

/// Check metadata handed to `save_*` and return it with the registry's own
/// fields added: `schema_version` first, then the caller's fields as given,
/// then what was missing (`step`, `job_id`, `timestamp`).
pub(crate) fn prepare_for_save(
    kind: &RecordKind,
    job_id: &JobId,
    meta: Value,
) -> Result<Map<String, Value>, Error> {
    let invalid = |reason: String| Error::InvalidMetadata {
        step: kind.label().to_owned(),
        job_id: job_id.to_string(),
        reason,
    };
    let Value::Object(given) = meta else {
        return Err(invalid(format!(
            "expected a JSON object, got {}",
            json_kind(&meta)
        )));
    };
    match (kind, given.get("status")) {
        (RecordKind::Step(_), None) => {
            return Err(invalid(
                "\"status\" is required (one of pending, running, completed, failed)".into(),
            ));
        }
        (_, Some(Value::String(s))) if Status::parse(s).is_none() => {
            return Err(invalid(format!(
                "status {s:?} is not one of pending, running, completed, failed"
            )));
        }
        (_, Some(v)) if !v.is_string() => {
            return Err(invalid(format!(
                "status must be a string, got {}",
                json_kind(v)
            )));
        }
        _ => {}
    }
    if let Some(v) = given.get("timestamp") {
        match v.as_str().map(DateTime::parse_from_rfc3339) {
            Some(Ok(_)) => {}
            _ => {
                return Err(invalid(format!(
                    "timestamp must be an ISO 8601 (RFC 3339) string, got {v}"
                )));
            }
        }
    }
    let depth = json_depth(&Value::Object(given.clone()));
    if depth > MAX_DEPTH {
        return Err(invalid(format!(
            "nested {depth} levels deep; at most {MAX_DEPTH} can be read back"
        )));
    }
    let list = given
        .get("citekeys")
        .and_then(|c| c.get("list"))
        .and_then(Value::as_array);
    if *kind == RecordKind::Source && list.is_none() {
        return Err(invalid("a source job needs citekeys.list".into()));
    }
    // Every citekey the registry will index must be one a later step can
    // turn into a path safely; refuse here rather than skip it later.
    for k in list.into_iter().flatten() {
        let k = k
            .as_str()
            .ok_or_else(|| invalid(format!("citekeys.list must hold strings, got {k}")))?;
        Citekey::parse(k).map_err(|e| invalid(format!("citekeys.list: {e}")))?;
    }
    match given.get("pid") {
        None | Some(Value::Null) => {}
        Some(v)
            if v.as_u64()
                .is_some_and(|p| p > 0 && u32::try_from(p).is_ok()) => {}
        Some(v) => {
            return Err(invalid(format!(
                "pid must be a positive process id, got {v}"
            )));
        }
    }
    if let Some(v) = given.get("host")
        && !v.is_string()
    {
        return Err(invalid(format!("host must be a string, got {v}")));
    }

    let mut out = Map::new();
    out.insert("schema_version".into(), SCHEMA_VERSION.into());
    for (k, v) in given {
        if k != "schema_version" {
            out.insert(k, v);
        }
    }
    if *kind == RecordKind::Source && !out.contains_key("status") {
        out.insert("status".into(), Status::Completed.as_str().into());
    }
    if let RecordKind::Step(s) = kind {
        out.entry("step").or_insert_with(|| s.as_str().into());
    }
    out.entry("job_id")
        .or_insert_with(|| job_id.as_str().into());
    out.entry("timestamp")
        .or_insert_with(|| now_timestamp().into());

    // Validate the lineage fields the same way a later rebuild will.
    Record::from_meta(kind.clone(), job_id.clone(), out.clone())
        .map_err(|e| invalid(e.to_string()))?;
    Ok(out)
}

/// How deep metadata may nest: serde_json reads back at most 128 levels,
/// and the registry wraps step metadata two levels deeper.
pub(crate) const MAX_DEPTH: usize = 100;

fn json_depth(v: &Value) -> usize {
    // Iterative, so that hostile input cannot overflow our own stack.
    let mut deepest = 0;
    let mut stack = vec![(v, 1usize)];
    while let Some((v, d)) = stack.pop() {
        deepest = deepest.max(d);
        match v {
            Value::Array(a) => stack.extend(a.iter().map(|x| (x, d + 1))),
            Value::Object(o) => stack.extend(o.values().map(|x| (x, d + 1))),
            _ => {}
        }
    }
    deepest
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::StepName;
    use serde_json::json;

    fn job() -> JobId {
        JobId::parse("2026-01-01_21-45-14").unwrap()
    }

    fn ocr() -> RecordKind {
        RecordKind::Step(StepName::parse("ocr").unwrap())
    }

    #[test]
    fn save_keeps_custom_fields_and_adds_ours() {
        let m = prepare_for_save(
            &ocr(),
            &job(),
            json!({"status": "completed", "custom_metric": 95.2}),
        )
        .unwrap();
        let keys: Vec<_> = m.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "schema_version",
                "status",
                "custom_metric",
                "step",
                "job_id",
                "timestamp"
            ]
        );
        assert_eq!(m["custom_metric"], json!(95.2));
    }

    #[test]
    fn save_rejects_bad_metadata() {
        for (meta, needle) in [
            (json!([1]), "JSON object"),
            (json!({}), "required"),
            (json!({"status": "done"}), "not one of"),
            (json!({"status": 3}), "must be a string"),
            (
                json!({"status": "completed", "source_job_id": "../x"}),
                "source_job_id",
            ),
            (
                json!({"status": "completed", "citekeys": {"list": [1]}}),
                "strings",
            ),
            (
                json!({"status": "completed", "timestamp": "yesterday"}),
                "timestamp",
            ),
            (
                json!({"status": "completed", "citekeys": {"list": ["ok", "../../x"]}}),
                "../../x",
            ),
            (json!({"status": "running", "pid": -1}), "pid"),
            (json!({"status": "running", "pid": "abc"}), "pid"),
            (json!({"status": "running", "pid": 0}), "pid"),
            (json!({"status": "running", "host": 7}), "host"),
        ] {
            let err = prepare_for_save(&ocr(), &job(), meta.clone())
                .unwrap_err()
                .to_string();
            assert!(err.contains(needle), "{meta}: {err}");
            assert!(err.contains("2026-01-01_21-45-14"), "{err}");
        }
    }

    #[test]
    fn source_needs_valid_citekeys() {
        let err =
            prepare_for_save(&RecordKind::Source, &job(), json!({"bucket": "b"})).unwrap_err();
        assert!(err.to_string().contains("citekeys.list"));
        let err = prepare_for_save(
            &RecordKind::Source,
            &job(),
            json!({"citekeys": {"list": ["a/b"]}}),
        )
        .unwrap_err();
        assert!(err.to_string().contains("a/b"));
        let m = prepare_for_save(
            &RecordKind::Source,
            &job(),
            json!({"citekeys": {"list": ["a"]}}),
        )
        .unwrap();
        assert_eq!(m["status"], "completed");
    }

    #[test]
    fn deep_nesting_is_refused_at_save() {
        let mut v = json!(1);
        for _ in 0..(MAX_DEPTH + 5) {
            v = json!([v]);
        }
        let err = prepare_for_save(&ocr(), &job(), json!({"status": "completed", "deep": v}))
            .unwrap_err()
            .to_string();
        assert!(err.contains("levels deep"), "{err}");
        let mut ok = json!(1);
        for _ in 0..50 {
            ok = json!([ok]);
        }
        prepare_for_save(&ocr(), &job(), json!({"status": "completed", "deep": ok})).unwrap();
    }

    #[test]
    fn missing_timestamp_falls_back_to_job_time() {
        let r = Record::from_meta(
            ocr(),
            job(),
            json!({"status": "failed"}).as_object().unwrap().clone(),
        )
        .unwrap();
        assert!(
            r.timestamp.starts_with("2026-01-01T21:45:14"),
            "{}",
            r.timestamp
        );
        assert!(r.sort_time().is_some());
    }
}
