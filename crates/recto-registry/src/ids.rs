//! Validated names: job ids, step names, statuses and the kind of record
//! (a source upload or a step).
//!
//! Every name that ends up in a path goes through one of these types first, so
//! nothing the user types can escape its directory.

use std::fmt;
use std::str::FromStr;

use chrono::{Local, NaiveDateTime};

use crate::Error;

/// The spec's job id format: `2026-01-01_21-45-14`, local time, second resolution.
pub const JOB_ID_FORMAT: &str = "%Y-%m-%d_%H-%M-%S";

/// A job id in the spec's format, known to be a real date and time.
///
/// Ids sort by time because the format is big-endian and zero-padded, so the
/// derived `Ord` on the string is the chronological order.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct JobId(String);

impl JobId {
    pub fn parse(s: &str) -> Result<Self, Error> {
        let invalid = |reason: &'static str| Error::InvalidJobId {
            id: s.to_owned(),
            reason,
        };
        if s.len() != 19 || !s.is_ascii() {
            return Err(invalid(
                "expected the form YYYY-MM-DD_HH-MM-SS, e.g. 2026-01-01_21-45-14",
            ));
        }
        let shape_ok = s.bytes().enumerate().all(|(i, b)| match i {
            4 | 7 | 13 | 16 => b == b'-',
            10 => b == b'_',
            _ => b.is_ascii_digit(),
        });
        if !shape_ok {
            return Err(invalid(
                "expected the form YYYY-MM-DD_HH-MM-SS, e.g. 2026-01-01_21-45-14",
            ));
        }
        NaiveDateTime::parse_from_str(s, JOB_ID_FORMAT)
            .map_err(|_| invalid("not a real date and time"))?;
        Ok(JobId(s.to_owned()))
    }

    /// For ids read back from the index, which only ever holds validated ids.
    pub(crate) fn from_trusted(s: String) -> Self {
        debug_assert!(Self::parse(&s).is_ok(), "{s}");
        JobId(s)
    }

    pub fn from_datetime(t: NaiveDateTime) -> Self {
        JobId(t.format(JOB_ID_FORMAT).to_string())
    }

    /// The id for the current local time (not reserved: see `Registry::new_job_id`).
    pub fn now() -> Self {
        Self::from_datetime(Local::now().naive_local())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn datetime(&self) -> NaiveDateTime {
        // Validated in `parse`, so this cannot fail.
        NaiveDateTime::parse_from_str(&self.0, JOB_ID_FORMAT).expect("validated job id")
    }
}

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for JobId {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        Self::parse(s)
    }
}

impl AsRef<str> for JobId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// Names that would collide with the registry's own folders or with the
/// source section, so no step may use them.
const RESERVED_STEPS: &[&str] = &["job_registry", "source", "sources"];

/// A pipeline step name: `[a-z][a-z0-9_]*`, at most 64 characters.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StepName(String);

impl StepName {
    pub fn parse(s: &str) -> Result<Self, Error> {
        let invalid = |reason: &'static str| Error::InvalidStepName {
            name: s.to_owned(),
            reason,
        };
        let mut bytes = s.bytes();
        match bytes.next() {
            None => return Err(invalid("empty")),
            Some(b) if !b.is_ascii_lowercase() => {
                return Err(invalid("must start with a lowercase letter a-z"));
            }
            _ => {}
        }
        if !bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_') {
            return Err(invalid("only a-z, 0-9 and _ are allowed ([a-z][a-z0-9_]*)"));
        }
        if s.len() > 64 {
            return Err(invalid("longer than 64 characters"));
        }
        if RESERVED_STEPS.contains(&s) {
            return Err(invalid(
                "reserved by the registry (job_registry, source, sources)",
            ));
        }
        Ok(StepName(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for StepName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for StepName {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        Self::parse(s)
    }
}

/// The status of a step or source job, as the spec names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    Pending,
    Running,
    Completed,
    Failed,
}

impl Status {
    pub const ALL: [Status; 4] = [
        Status::Pending,
        Status::Running,
        Status::Completed,
        Status::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Running => "running",
            Status::Completed => "completed",
            Status::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// How a run that has ended is recorded: completed when everything
    /// succeeded, else failed. For work that is all or nothing (a shard's
    /// own record, a sync that must be a true copy).
    pub fn ended(succeeded: bool) -> Self {
        if succeeded {
            Status::Completed
        } else {
            Status::Failed
        }
    }

    /// How a step run that reached its end over `done` citekeys with
    /// `failed` others is recorded: `completed`, its per-citekey failures
    /// listed beside (as the spec's `citekeys: {successful, failed}`
    /// shows), unless every citekey failed. `failed` is for a run that did
    /// not finish or read nothing.
    pub fn ended_with(done: usize, failed: usize) -> Self {
        if failed == 0 || done > 0 {
            Status::Completed
        } else {
            Status::Failed
        }
    }
}

impl serde::Serialize for Status {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for Status {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Status::parse(&s).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "status {s:?} is not one of pending, running, completed, failed"
            ))
        })
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_that_reached_its_end_is_completed_unless_nothing_was_done() {
        assert_eq!(Status::ended_with(3, 0), Status::Completed);
        assert_eq!(Status::ended_with(6, 1), Status::Completed);
        assert_eq!(Status::ended_with(0, 0), Status::Completed);
        assert_eq!(Status::ended_with(0, 2), Status::Failed);
    }

    #[test]
    fn job_ids() {
        assert!(JobId::parse("2026-01-01_21-45-14").is_ok());
        for bad in [
            "",
            "latest",
            "2026-01-01 21-45-14",
            "2026-13-01_21-45-14",
            "2026-02-30_21-45-14",
            "2026-01-01_25-45-14",
            "../../etc/passwd",
            "2026-01-01_21-45-1/",
            "2026-01-01_21-45-14\0",
            "2026-01-01_21-45-14.json",
            "２026-01-01_21-45-1",
        ] {
            assert!(JobId::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn job_ids_sort_by_time() {
        let a = JobId::parse("2025-12-31_23-59-59").unwrap();
        let b = JobId::parse("2026-01-01_00-00-00").unwrap();
        assert!(a < b);
        assert!(a.datetime() < b.datetime());
    }

    #[test]
    fn step_names() {
        for good in ["ocr", "sync_ocr", "toc", "my_step2"] {
            assert!(StepName::parse(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "OCR",
            "2ocr",
            "_ocr",
            "sync-ocr",
            "a/b",
            "..",
            "job_registry",
            "source",
            "ocr\0",
        ] {
            assert!(StepName::parse(bad).is_err(), "{bad:?} accepted");
        }
        assert!(StepName::parse(&"a".repeat(65)).is_err());
    }

    #[test]
    fn statuses_round_trip() {
        for s in Status::ALL {
            assert_eq!(Status::parse(s.as_str()), Some(s));
        }
        assert_eq!(Status::parse("done"), None);
    }
}

/// How a source upload appears where steps are listed (the spec's example
/// output of `find_jobs_for_citekey`).
pub const SOURCE_STEP_LABEL: &str = "source (upload)";

/// The key of source records in the index; never a valid step name.
pub(crate) const SOURCE_KEY: &str = "source";

/// Which kind of metadata file a record comes from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RecordKind {
    Source,
    Step(StepName),
}

impl RecordKind {
    pub fn key(&self) -> &str {
        match self {
            RecordKind::Source => SOURCE_KEY,
            RecordKind::Step(s) => s.as_str(),
        }
    }

    pub(crate) fn from_key(key: &str) -> Result<Self, Error> {
        if key == SOURCE_KEY {
            Ok(RecordKind::Source)
        } else {
            StepName::parse(key).map(RecordKind::Step)
        }
    }

    /// The kind a user means by `name`: `source` and `upload` (the step's
    /// name in the pipeline) are the source upload, anything else a step.
    pub fn from_user(name: &str) -> Result<Self, Error> {
        match name {
            SOURCE_KEY | "upload" => Ok(RecordKind::Source),
            other => StepName::parse(other).map(RecordKind::Step),
        }
    }

    /// The name shown in traces and citekey listings.
    pub fn label(&self) -> &str {
        match self {
            RecordKind::Source => SOURCE_STEP_LABEL,
            RecordKind::Step(s) => s.as_str(),
        }
    }

    pub fn step(&self) -> Option<&StepName> {
        match self {
            RecordKind::Source => None,
            RecordKind::Step(s) => Some(s),
        }
    }
}
