//! The library view: per citekey, its newest source and the state of each
//! pipeline step on it, derived from the index (the job record stays the
//! truth). This answers "which of my papers are done, which failed and
//! why", without knowing job ids.
//!
//! A step's state on a citekey comes from the newest job of that step that
//! names the citekey:
//!
//! - `running` / `stale`: that job is still recorded as running (`stale`
//!   when its process is gone);
//! - `failed`: the job failed on this citekey (with the reason), or failed
//!   as a whole (`interrupted` when Ctrl-C or SIGTERM ended it);
//! - `outdated`: it completed, but on a source whose sha256 differs from the
//!   citekey's newest upload;
//! - `done`: it completed on the newest source;
//! - `pending`: no job of the step names the citekey.
//!
//! The citekey's own state is the first of failed, interrupted, stale,
//! running, outdated, pending that any step has, else done; a citekey
//! without a source because its upload failed on it is `failed`, with the
//! upload's reason as its `source_problem`.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use crate::ids::SOURCE_KEY;
use crate::index::StateRow;

/// The newest upload of a citekey.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SourceState {
    pub job_id: String,
    pub sha256: Option<String>,
    pub size: Option<u64>,
}

/// One step's state on one citekey.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct StepOnCitekey {
    pub step: String,
    /// `done`, `failed`, `outdated`, `running`, `stale` or `pending`.
    pub state: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pages: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mean_confidence: Option<f64>,
    /// Why it failed, or why it is outdated or stale.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl StepOnCitekey {
    /// No completed result on the citekey's newest upload: never run
    /// (`pending`), `outdated`, or a run that did not give one (`failed`,
    /// `interrupted`, `stale`). A run still going (`running`) is not.
    pub fn needs_run(&self) -> bool {
        matches!(self.state.as_str(), "pending" | "outdated") || self.failed()
    }

    /// A run on the citekey that gave no result: `failed`, `interrupted`
    /// or `stale` (its process died).
    pub fn failed(&self) -> bool {
        matches!(self.state.as_str(), "failed" | "interrupted" | "stale")
    }
}

/// A citekey's state across the pipeline.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CitekeyState {
    pub citekey: String,
    pub state: String,
    pub source: Option<SourceState>,
    /// Why the citekey has no source: its newest upload failed on it (the
    /// file was not found, not a PDF, ...). The citekey is then `failed`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_problem: Option<String>,
    pub steps: Vec<StepOnCitekey>,
}

/// The states in the order they win for a citekey as a whole.
pub const STATE_ORDER: [&str; 7] = [
    "failed",
    "interrupted",
    "stale",
    "running",
    "outdated",
    "pending",
    "done",
];

/// What the registry reads from a record's file for the library view, for
/// the few records that need it (running or failed as a whole).
pub(crate) struct RecordDetail {
    /// Why a running record's process is known to be gone.
    pub stale: Option<String>,
    /// Ctrl-C or SIGTERM ended it (`interrupted: true`).
    pub interrupted: bool,
    /// The record's `error`, for a step that failed as a whole.
    pub error: Option<String>,
}

/// Derive the states of the citekeys in `rows` (ordered by citekey, step,
/// job) for `steps`. `stale` says whether a running record's process is
/// gone (it reads the record's metadata, so it is only asked for running
/// records).
pub(crate) fn states(
    rows: &[StateRow],
    steps: &[String],
    detail: &dyn Fn(&str, &str) -> RecordDetail,
) -> Vec<CitekeyState> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < rows.len() {
        let key = &rows[i].citekey;
        let end = rows[i..]
            .iter()
            .position(|r| &r.citekey != key)
            .map_or(rows.len(), |n| i + n);
        out.push(one(key, &rows[i..end], steps, detail));
        i = end;
    }
    out
}

fn one(
    citekey: &str,
    rows: &[StateRow],
    steps: &[String],
    detail: &dyn Fn(&str, &str) -> RecordDetail,
) -> CitekeyState {
    let lineage = Lineage::of(rows);
    let mut states = Vec::new();
    for step in steps {
        let Some(r) = rows.iter().rev().find(|r| &r.kind == step) else {
            states.push(StepOnCitekey {
                step: step.clone(),
                state: "pending".into(),
                job_id: None,
                timestamp: None,
                pages: None,
                mean_confidence: None,
                reason: None,
            });
            continue;
        };
        let (state, reason) = step_state(r, &lineage, detail);
        states.push(StepOnCitekey {
            step: step.clone(),
            state: state.into(),
            job_id: Some(r.job_id.clone()),
            timestamp: Some(r.timestamp.clone()),
            pages: r.pages,
            mean_confidence: r.confidence,
            reason,
        });
    }
    // No source, because the upload that named it failed on it: that is
    // the problem to show, before any step's `pending`.
    let source_problem = match lineage.newest {
        Some(_) => None,
        None => rows
            .iter()
            .rev()
            .find(|r| r.kind == SOURCE_KEY && r.failed)
            .map(|r| {
                r.reason
                    .clone()
                    .unwrap_or_else(|| format!("upload job {} failed on it", r.job_id))
            }),
    };
    let state = if source_problem.is_some() {
        "failed"
    } else {
        STATE_ORDER
            .iter()
            .find(|s| states.iter().any(|st| st.state == **s))
            .copied()
            .unwrap_or("done")
    };
    CitekeyState {
        citekey: citekey.to_owned(),
        state: state.into(),
        source: lineage.newest.map(|r| SourceState {
            job_id: r.job_id.clone(),
            sha256: r.sha256.clone(),
            size: r.size,
        }),
        source_problem,
        steps: states,
    }
}

/// Where a citekey's results come from: the uploads that stored it, and
/// which job read which.
struct Lineage<'a> {
    /// Uploads that stored this citekey, by job.
    sources: BTreeMap<&'a str, &'a StateRow>,
    /// The newest of them: the current source.
    newest: Option<&'a StateRow>,
    /// Each job's input job (toc -> ocr -> upload).
    upstream: HashMap<&'a str, &'a str>,
}

impl<'a> Lineage<'a> {
    fn of(rows: &'a [StateRow]) -> Self {
        let sources: BTreeMap<&str, &StateRow> = rows
            .iter()
            .filter(|r| r.kind == SOURCE_KEY && !r.failed && r.status != "running")
            .map(|r| (r.job_id.as_str(), r))
            .collect();
        let newest = sources.iter().next_back().map(|(_, r)| *r);
        // A job's input for this citekey: its step's own row (which says
        // which upload the citekey was read from), never a sync's, whose
        // source is the job's as a whole.
        let upstream = rows
            .iter()
            .filter(|r| r.kind != SOURCE_KEY && !r.kind.starts_with("sync_"))
            .filter_map(|r| Some((r.job_id.as_str(), r.source_job_id.as_deref()?)))
            .collect();
        Lineage {
            sources,
            newest,
            upstream,
        }
    }

    /// The upload a job read this citekey from, following the chain.
    fn source_of(&self, job: &str) -> Option<String> {
        let mut j = job;
        for _ in 0..8 {
            if self.sources.contains_key(j) {
                return Some(j.to_owned());
            }
            j = self.upstream.get(j)?;
        }
        None
    }
}

/// A step's state on the citekey from its newest record `r`, and why when
/// it is not done.
fn step_state(
    r: &StateRow,
    lineage: &Lineage<'_>,
    detail: &dyn Fn(&str, &str) -> RecordDetail,
) -> (&'static str, Option<String>) {
    match r.status.as_str() {
        "running" => match detail(&r.kind, &r.job_id).stale {
            Some(why) => ("stale", Some(why)),
            None => ("running", None),
        },
        "pending" => ("pending", None),
        _ if r.failed => ("failed", r.reason.clone()),
        _ if r.whole_failed => {
            let d = detail(&r.kind, &r.job_id);
            let reason = d
                .error
                .unwrap_or_else(|| format!("{} job {} failed as a whole", r.kind, r.job_id));
            let state = if d.interrupted {
                "interrupted"
            } else {
                "failed"
            };
            (state, Some(reason))
        }
        _ => {
            // A sync read what its job's step read; a step, what its input
            // job read for this citekey.
            let read = if r.kind.starts_with("sync_") {
                lineage.source_of(&r.job_id)
            } else {
                r.source_job_id
                    .as_deref()
                    .map(|s| lineage.source_of(s).unwrap_or_else(|| s.to_owned()))
            };
            match (lineage.newest, read) {
                (Some(n), Some(read)) if n.job_id != read => {
                    let old_sha = lineage
                        .sources
                        .get(read.as_str())
                        .and_then(|s| s.sha256.as_deref());
                    if old_sha.is_some() && old_sha == n.sha256.as_deref() {
                        ("done", None)
                    } else {
                        let why = format!(
                            "ran on upload {read}; upload {} has a newer version",
                            n.job_id
                        );
                        ("outdated", Some(why))
                    }
                }
                _ => ("done", None),
            }
        }
    }
}

/// Known citekeys closest to `unknown`, best first; for "did you mean":
/// the same key in another case (`Smith2020`), keys it begins (`smith`
/// for `smith2020a`, `smith2020b`), then keys within an edit distance of a
/// third of its length (at least 2), compared without case.
pub(crate) fn suggestions(unknown: &str, known: &[String]) -> Vec<String> {
    let lower = unknown.to_lowercase();
    let limit = (unknown.chars().count() / 3).max(2);
    let mut scored: Vec<(usize, usize, &String)> = known
        .iter()
        .filter_map(|k| {
            let kl = k.to_lowercase();
            let d = distance(&lower, &kl);
            let rank = if kl == lower {
                0
            } else if lower.chars().count() >= 3 && kl.starts_with(&lower) {
                1
            } else if d <= limit {
                2
            } else {
                return None;
            };
            Some((rank, d, k))
        })
        .collect();
    scored.sort();
    scored
        .into_iter()
        .take(5)
        .map(|(_, _, k)| k.clone())
        .collect()
}

/// Damerau-Levenshtein distance (optimal string alignment): a swap of two
/// neighbours (`linn1958` for `linn1985`) counts as one edit.
fn distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let w = b.len() + 1;
    let mut d = vec![0usize; (a.len() + 1) * w];
    for i in 0..=a.len() {
        d[i * w] = i;
    }
    for (j, cell) in d.iter_mut().enumerate().take(w) {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[(i - 1) * w + j] + 1)
                .min(d[i * w + j - 1] + 1)
                .min(d[(i - 1) * w + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[(i - 2) * w + j - 2] + 1);
            }
            d[i * w + j] = v;
        }
    }
    d[a.len() * w + b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pending_is_every_state_without_a_completed_result() {
        let step = |state: &str| StepOnCitekey {
            step: "ocr".into(),
            state: state.into(),
            job_id: None,
            timestamp: None,
            pages: None,
            mean_confidence: None,
            reason: None,
        };
        for s in ["pending", "outdated", "failed", "interrupted", "stale"] {
            assert!(step(s).needs_run(), "{s}");
        }
        for s in ["done", "running"] {
            assert!(!step(s).needs_run(), "{s}");
        }
        for s in ["failed", "interrupted", "stale"] {
            assert!(step(s).failed(), "{s}");
        }
        for s in ["pending", "outdated", "done", "running"] {
            assert!(!step(s).failed(), "{s}");
        }
    }

    #[test]
    fn typos_are_suggested() {
        let known: Vec<String> = ["linn1985", "smith2020", "doe2019"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(suggestions("linn1958", &known), ["linn1985"]);
        assert_eq!(suggestions("smyth2020", &known), ["smith2020"]);
        assert!(suggestions("zzz", &known).is_empty());
        // Case, and a prefix of several keys.
        let known: Vec<String> = ["Smith2020", "smith2020a", "smith2020b", "doe2019"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(suggestions("smith2020", &known)[0], "Smith2020");
        assert_eq!(
            suggestions("smith", &known),
            ["Smith2020", "smith2020a", "smith2020b"]
        );
        assert_eq!(suggestions("DOE2019", &known), ["doe2019"]);
        assert_eq!(distance("ab", "ba"), 1);
        assert_eq!(distance("", "abc"), 3);
    }
}
