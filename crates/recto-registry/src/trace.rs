//! The central registry of a job, derived from metadata records.
//!
//! The registry of job X is its complete trace: the upstream chain down to
//! the source upload, every step recorded under X, and every step downstream
//! of X. It is a pure function of the records, which is what makes
//! `rebuild_central_registry` give back exactly the files it replaces.

use std::collections::{BTreeSet, HashSet, VecDeque};
use std::sync::Arc;

use serde_json::{Map, Value, json};

use crate::error::Result;
use crate::ids::RecordKind;
use crate::ids::{JobId, StepName};
use crate::record::{Record, SCHEMA_VERSION};

/// Read access to records, from the in-memory scan of a rebuild or the index.
pub(crate) trait Lookup {
    fn records_of(&self, job: &JobId) -> Result<Vec<Arc<Record>>>;
    /// Jobs with a record whose `source_job_id` is `job`.
    fn dependents_of(&self, job: &JobId) -> Result<Vec<JobId>>;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Relation {
    Own,
    Upstream,
    Downstream,
}

impl Relation {
    fn as_str(self) -> &'static str {
        match self {
            Relation::Own => "own",
            Relation::Upstream => "upstream",
            Relation::Downstream => "downstream",
        }
    }
}

struct Traced {
    record: Arc<Record>,
    relation: Relation,
    depth: usize,
}

/// Every record in the trace of `job`, or `None` when `job` has no records.
struct Trace {
    records: Vec<Traced>,
    /// Upstream ids that have no records (e.g. a source job never registered).
    unknown_upstream: Vec<JobId>,
}

fn collect(lookup: &dyn Lookup, job: &JobId) -> Result<Option<Trace>> {
    let own = lookup.records_of(job)?;
    if own.is_empty() {
        return Ok(None);
    }
    let mut seen: HashSet<JobId> = HashSet::from([job.clone()]);
    let mut records: Vec<Traced> = own
        .iter()
        .map(|r| Traced {
            record: r.clone(),
            relation: Relation::Own,
            depth: 0,
        })
        .collect();
    let mut unknown_upstream = Vec::new();

    let mut queue: VecDeque<(Vec<Arc<Record>>, usize)> = VecDeque::from([(own, 0)]);
    while let Some((recs, depth)) = queue.pop_front() {
        let ups: BTreeSet<&JobId> = recs.iter().filter_map(|r| r.upstream()).collect();
        for up in ups {
            if !seen.insert(up.clone()) {
                continue;
            }
            let found = lookup.records_of(up)?;
            if found.is_empty() {
                unknown_upstream.push(up.clone());
                continue;
            }
            records.extend(found.iter().map(|r| Traced {
                record: r.clone(),
                relation: Relation::Upstream,
                depth: depth + 1,
            }));
            queue.push_back((found, depth + 1));
        }
    }

    let mut queue: VecDeque<(JobId, usize)> = VecDeque::from([(job.clone(), 0)]);
    while let Some((j, depth)) = queue.pop_front() {
        for down in lookup.dependents_of(&j)? {
            if !seen.insert(down.clone()) {
                continue;
            }
            records.extend(lookup.records_of(&down)?.into_iter().map(|r| Traced {
                record: r,
                relation: Relation::Downstream,
                depth: depth + 1,
            }));
            queue.push_back((down, depth + 1));
        }
    }
    Ok(Some(Trace {
        records,
        unknown_upstream,
    }))
}

/// Jobs whose registries include a record of `job`: itself, its upstream
/// chain and everything downstream of it.
pub(crate) fn related_jobs(lookup: &dyn Lookup, job: &JobId) -> Result<BTreeSet<JobId>> {
    let mut out = BTreeSet::from([job.clone()]);
    if let Some(trace) = collect(lookup, job)? {
        out.extend(trace.records.iter().map(|t| t.record.job_id.clone()));
    }
    Ok(out)
}

/// Order of the trace: by time, then source before steps, then pipeline order.
fn trace_order(pipeline: &[StepName]) -> impl Fn(&Record, &Record) -> std::cmp::Ordering + '_ {
    let rank = move |r: &Record| match &r.kind {
        RecordKind::Source => 0,
        RecordKind::Step(s) => {
            1 + pipeline
                .iter()
                .position(|p| p == s)
                .unwrap_or(pipeline.len())
        }
    };
    move |a, b| {
        a.sort_time()
            .cmp(&b.sort_time())
            .then_with(|| rank(a).cmp(&rank(b)))
            .then_with(|| a.kind.label().cmp(b.kind.label()))
            .then_with(|| a.job_id.cmp(&b.job_id))
    }
}

/// The registry document of `job`, or `None` when the job has no records.
pub(crate) fn registry_document(
    lookup: &dyn Lookup,
    job: &JobId,
    pipeline: &[StepName],
) -> Result<Option<Value>> {
    let Some(trace) = collect(lookup, job)? else {
        return Ok(None);
    };
    let order = trace_order(pipeline);

    let own_times = trace
        .records
        .iter()
        .filter(|t| t.relation == Relation::Own)
        .map(|t| &t.record);
    let created = own_times
        .min_by(|a, b| order(a, b))
        .map(|r| r.timestamp.clone());
    let updated = trace
        .records
        .iter()
        .map(|t| &t.record)
        .max_by(|a, b| order(a, b))
        .map(|r| r.timestamp.clone());

    // The source: the job's own upload, else the nearest one upstream.
    let source = trace
        .records
        .iter()
        .filter(|t| t.record.kind == RecordKind::Source && t.relation != Relation::Downstream)
        .min_by_key(|t| (t.relation, t.depth))
        .map(|t| source_section(&t.record))
        .or_else(|| {
            trace
                .unknown_upstream
                .first()
                .map(|id| json!({"job_id": id.as_str(), "recorded": false}))
        })
        .unwrap_or(Value::Null);

    // One entry per step name: the job's own record, else the nearest
    // upstream one, else the newest downstream one.
    let mut chosen: Vec<&Traced> = Vec::new();
    let mut candidates: Vec<&Traced> = trace
        .records
        .iter()
        .filter(|t| matches!(t.record.kind, RecordKind::Step(_)))
        .collect();
    candidates.sort_by(|a, b| {
        (
            a.relation,
            if a.relation == Relation::Downstream {
                0
            } else {
                a.depth
            },
        )
            .cmp(&(
                b.relation,
                if b.relation == Relation::Downstream {
                    0
                } else {
                    b.depth
                },
            ))
            .then_with(|| order(&b.record, &a.record))
    });
    let mut names = HashSet::new();
    for t in candidates {
        if names.insert(t.record.kind.label().to_owned()) {
            chosen.push(t);
        }
    }
    chosen.sort_by(|a, b| order(&a.record, &b.record));
    let mut steps = Map::new();
    for t in chosen {
        steps.insert(t.record.kind.label().to_owned(), step_entry(t));
    }

    let mut all: Vec<&Arc<Record>> = trace.records.iter().map(|t| &t.record).collect();
    all.sort_by(|a, b| order(a, b));
    let execution_trace: Vec<Value> = all
        .into_iter()
        .map(|r| {
            json!({
                "step": r.kind.label(),
                "job_id": r.job_id.as_str(),
                "timestamp": r.timestamp,
                "status": r.status.as_str(),
            })
        })
        .collect();

    Ok(Some(json!({
        "schema_version": SCHEMA_VERSION,
        "job_id": job.as_str(),
        "timestamp": created,
        "updated_at": updated,
        "source": source,
        "pipeline_steps": steps,
        "execution_trace": execution_trace,
    })))
}

/// Fields of a record that the registry places itself, so they are not
/// copied twice from the metadata.
const PLACED: &[&str] = &["schema_version", "job_id", "step", "status", "timestamp"];

fn source_section(r: &Record) -> Value {
    let mut m = Map::new();
    m.insert("job_id".into(), r.job_id.as_str().into());
    m.insert("status".into(), r.status.as_str().into());
    m.insert("timestamp".into(), r.timestamp.clone().into());
    m.insert("metadata_path".into(), r.metadata_path().into());
    for (k, v) in &r.meta {
        if !PLACED.contains(&k.as_str()) && !m.contains_key(k) {
            m.insert(k.clone(), v.clone());
        }
    }
    Value::Object(m)
}

fn step_entry(t: &Traced) -> Value {
    let r = &t.record;
    let mut m = Map::new();
    m.insert("job_id".into(), r.job_id.as_str().into());
    m.insert("status".into(), r.status.as_str().into());
    m.insert("timestamp".into(), r.timestamp.clone().into());
    m.insert("metadata_path".into(), r.metadata_path().into());
    m.insert("trace_relation".into(), t.relation.as_str().into());
    if let Some(c) = r.meta.get("citekeys") {
        m.insert("citekeys".into(), c.clone());
    }
    for (k, v) in &r.meta {
        if !PLACED.contains(&k.as_str()) && !m.contains_key(k) {
            m.insert(k.clone(), v.clone());
        }
    }
    Value::Object(m)
}
