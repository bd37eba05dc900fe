//! The derived index: a SQLite file that answers "which jobs touched this
//! citekey", "which jobs ran this step" and lineage look-ups without reading
//! thousands of JSON files.
//!
//! It is never the only copy of anything: every row comes from a metadata
//! file, and `rebuild` recreates it from scratch.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, params};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::ids::JobId;
use crate::record::{Record, RecordKind};
use crate::trace::Lookup;

/// Bumped when the tables change; an index of another version is rebuilt.
const INDEX_VERSION: i64 = 1;

#[derive(Debug)]
pub(crate) struct Index {
    conn: Connection,
    path: PathBuf,
}

/// `(job_id, kind, status, source_job_id)` of one record.
pub(crate) type SummaryRow = (String, String, String, Option<String>);

/// One row of `find_jobs_for_citekey`.
#[derive(Debug, Clone)]
pub(crate) struct CitekeyHit {
    pub job_id: String,
    pub kind_key: String,
    pub status: String,
    pub timestamp: String,
    pub source_job_id: Option<String>,
}

impl Index {
    /// Open the index; `Ok(None)` when it is missing, unreadable or of
    /// another version, i.e. when it must be rebuilt first.
    pub fn open(path: &Path) -> Result<Option<Self>> {
        if !path.exists() {
            return Ok(None);
        }
        let idx = match Self::connect(path) {
            Ok(idx) => idx,
            Err(_) => return Ok(None),
        };
        let version: Option<i64> = idx
            .conn
            .query_row("SELECT value FROM meta WHERE key = 'version'", [], |r| {
                r.get(0)
            })
            .optional()
            .unwrap_or(None);
        Ok((version == Some(INDEX_VERSION)).then_some(idx))
    }

    fn connect(path: &Path) -> Result<Self> {
        let err = |source| Error::Index {
            path: path.to_owned(),
            source,
        };
        let conn = Connection::open(path).map_err(err)?;
        conn.busy_timeout(Duration::from_secs(30)).map_err(err)?;
        conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;")
            .map_err(err)?;
        Ok(Index {
            conn,
            path: path.to_owned(),
        })
    }

    fn err(&self) -> impl Fn(rusqlite::Error) -> Error + '_ {
        |source| Error::Index {
            path: self.path.clone(),
            source,
        }
    }

    /// Replace the whole index with `records`, in one transaction.
    pub fn rebuild(path: &Path, records: &[Arc<Record>]) -> Result<Self> {
        let mut idx = match Self::connect(path) {
            Ok(idx) => idx,
            Err(_) => {
                // Unreadable: start over, it holds nothing that is not on disk.
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
                Self::connect(path)?
            }
        };
        let path = idx.path.clone();
        let err = |source| Error::Index {
            path: path.clone(),
            source,
        };
        let tx = idx.conn.transaction().map_err(err)?;
        tx.execute_batch(
            "DROP TABLE IF EXISTS meta;
             DROP TABLE IF EXISTS records;
             DROP TABLE IF EXISTS citekeys;
             CREATE TABLE meta (key TEXT PRIMARY KEY, value) WITHOUT ROWID;
             CREATE TABLE records (
                 kind TEXT NOT NULL,
                 job_id TEXT NOT NULL,
                 status TEXT NOT NULL,
                 timestamp TEXT NOT NULL,
                 source_job_id TEXT,
                 has_citekeys INTEGER NOT NULL,
                 json TEXT NOT NULL,
                 PRIMARY KEY (kind, job_id)
             ) WITHOUT ROWID;
             CREATE INDEX records_job ON records (job_id);
             CREATE INDEX records_source ON records (source_job_id);
             CREATE TABLE citekeys (
                 citekey TEXT NOT NULL,
                 kind TEXT NOT NULL,
                 job_id TEXT NOT NULL,
                 PRIMARY KEY (citekey, kind, job_id)
             ) WITHOUT ROWID;",
        )
        .map_err(err)?;
        tx.execute("INSERT INTO meta VALUES ('version', ?1)", [INDEX_VERSION])
            .map_err(err)?;
        for r in records {
            insert(&tx, r).map_err(err)?;
        }
        tx.commit().map_err(err)?;
        Ok(idx)
    }

    pub fn upsert(&mut self, r: &Record) -> Result<()> {
        let path = self.path.clone();
        let err = |source| Error::Index {
            path: path.clone(),
            source,
        };
        let tx = self.conn.transaction().map_err(err)?;
        tx.execute(
            "DELETE FROM citekeys WHERE kind = ?1 AND job_id = ?2",
            params![r.kind.key(), r.job_id.as_str()],
        )
        .map_err(err)?;
        insert(&tx, r).map_err(err)?;
        tx.commit().map_err(err)
    }

    pub fn record(&self, kind: &RecordKind, job: &JobId) -> Result<Option<Arc<Record>>> {
        let row: Option<String> = self
            .conn
            .query_row(
                "SELECT json FROM records WHERE kind = ?1 AND job_id = ?2",
                params![kind.key(), job.as_str()],
                |r| r.get(0),
            )
            .optional()
            .map_err(self.err())?;
        row.map(|json| self.parse_row(kind.key(), job.as_str(), &json))
            .transpose()
    }

    fn parse_row(&self, kind: &str, job: &str, json: &str) -> Result<Arc<Record>> {
        // Rows were validated when inserted; a failure here means the index
        // file itself was damaged.
        let corrupt = |why: String| Error::Index {
            path: self.path.clone(),
            source: rusqlite::Error::InvalidColumnType(0, why, rusqlite::types::Type::Text),
        };
        let kind = RecordKind::from_key(kind).map_err(|e| corrupt(e.to_string()))?;
        let job = JobId::parse(job).map_err(|e| corrupt(e.to_string()))?;
        let meta: serde_json::Map<String, Value> =
            serde_json::from_str(json).map_err(|e| corrupt(e.to_string()))?;
        Record::from_meta(kind, job, meta)
            .map(Arc::new)
            .map_err(corrupt)
    }

    pub fn job_ids(&self, kind: Option<&str>) -> Result<Vec<String>> {
        let mut out = Vec::new();
        match kind {
            None => {
                let mut st = self
                    .conn
                    .prepare_cached("SELECT DISTINCT job_id FROM records ORDER BY job_id")
                    .map_err(self.err())?;
                let rows = st.query_map([], |r| r.get(0)).map_err(self.err())?;
                for row in rows {
                    out.push(row.map_err(self.err())?);
                }
            }
            Some(k) => {
                let mut st = self
                    .conn
                    .prepare_cached("SELECT job_id FROM records WHERE kind = ?1 ORDER BY job_id")
                    .map_err(self.err())?;
                let rows = st.query_map([k], |r| r.get(0)).map_err(self.err())?;
                for row in rows {
                    out.push(row.map_err(self.err())?);
                }
            }
        }
        Ok(out)
    }

    /// `(job_id, kind, status)` of every record, ordered by job id.
    pub fn summaries(&self) -> Result<Vec<SummaryRow>> {
        let mut st = self
            .conn
            .prepare_cached("SELECT job_id, kind, status, source_job_id FROM records ORDER BY job_id, timestamp")
            .map_err(self.err())?;
        let rows = st
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .map_err(self.err())?
            .collect::<rusqlite::Result<_>>()
            .map_err(self.err())?;
        Ok(rows)
    }

    pub fn latest_job(&self, kind: Option<&str>) -> Result<Option<String>> {
        let q = match kind {
            None => self
                .conn
                .query_row("SELECT MAX(job_id) FROM records", [], |r| r.get(0)),
            Some(k) => self.conn.query_row(
                "SELECT MAX(job_id) FROM records WHERE kind = ?1",
                [k],
                |r| r.get(0),
            ),
        };
        q.map_err(self.err())
    }

    pub fn has_job(&self, job: &str) -> Result<bool> {
        self.conn
            .query_row(
                "SELECT 1 FROM records WHERE job_id = ?1 LIMIT 1",
                [job],
                |_| Ok(()),
            )
            .optional()
            .map(|o| o.is_some())
            .map_err(self.err())
    }

    /// Records that name `citekey` in their `citekeys.list`, plus records
    /// without a list of their own that belong to those jobs or hang below
    /// them (a sync step that records no citekeys covers its OCR job's).
    pub fn citekey_hits(&self, citekey: &str) -> Result<Vec<CitekeyHit>> {
        let map = |r: &rusqlite::Row<'_>| {
            Ok(CitekeyHit {
                kind_key: r.get(0)?,
                job_id: r.get(1)?,
                status: r.get(2)?,
                timestamp: r.get(3)?,
                source_job_id: r.get(4)?,
            })
        };
        let mut hits: Vec<CitekeyHit> = {
            let mut st = self
                .conn
                .prepare_cached(
                    "SELECT r.kind, r.job_id, r.status, r.timestamp, r.source_job_id
                     FROM citekeys c JOIN records r ON r.kind = c.kind AND r.job_id = c.job_id
                     WHERE c.citekey = ?1",
                )
                .map_err(self.err())?;
            st.query_map([citekey], map)
                .map_err(self.err())?
                .collect::<rusqlite::Result<_>>()
                .map_err(self.err())?
        };
        let mut jobs: std::collections::BTreeSet<String> =
            hits.iter().map(|h| h.job_id.clone()).collect();
        let mut frontier: Vec<String> = jobs.iter().cloned().collect();
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT kind, job_id, status, timestamp, source_job_id FROM records AS r
                 WHERE has_citekeys = 0 AND (job_id = ?1 OR (source_job_id = ?1 AND NOT EXISTS (
                     SELECT 1 FROM records AS o WHERE o.job_id = r.job_id AND o.has_citekeys = 1)))",
            )
            .map_err(self.err())?;
        let mut seen: std::collections::HashSet<(String, String)> = hits
            .iter()
            .map(|h| (h.kind_key.clone(), h.job_id.clone()))
            .collect();
        while let Some(job) = frontier.pop() {
            let found: Vec<CitekeyHit> = st
                .query_map([&job], map)
                .map_err(self.err())?
                .collect::<rusqlite::Result<_>>()
                .map_err(self.err())?;
            for h in found {
                if seen.insert((h.kind_key.clone(), h.job_id.clone())) {
                    if jobs.insert(h.job_id.clone()) {
                        frontier.push(h.job_id.clone());
                    }
                    hits.push(h);
                }
            }
        }
        Ok(hits)
    }
}

fn insert(tx: &rusqlite::Transaction<'_>, r: &Record) -> rusqlite::Result<()> {
    let json = serde_json::to_string(&r.meta).expect("a JSON map always serialises");
    tx.prepare_cached(
        "INSERT OR REPLACE INTO records (kind, job_id, status, timestamp, source_job_id, has_citekeys, json)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        r.kind.key(),
        r.job_id.as_str(),
        r.status.as_str(),
        r.timestamp,
        r.source_job_id.as_ref().map(JobId::as_str),
        r.citekeys.is_some(),
        json,
    ])?;
    if let Some(list) = &r.citekeys {
        let mut st = tx.prepare_cached(
            "INSERT OR IGNORE INTO citekeys (citekey, kind, job_id) VALUES (?1, ?2, ?3)",
        )?;
        for c in list {
            st.execute(params![c, r.kind.key(), r.job_id.as_str()])?;
        }
    }
    Ok(())
}

impl Lookup for Index {
    fn records_of(&self, job: &JobId) -> Result<Vec<Arc<Record>>> {
        let mut st = self
            .conn
            .prepare_cached("SELECT kind, json FROM records WHERE job_id = ?1")
            .map_err(self.err())?;
        let rows: Vec<(String, String)> = st
            .query_map([job.as_str()], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(self.err())?
            .collect::<rusqlite::Result<_>>()
            .map_err(self.err())?;
        rows.iter()
            .map(|(kind, json)| self.parse_row(kind, job.as_str(), json))
            .collect()
    }

    fn dependents_of(&self, job: &JobId) -> Result<Vec<JobId>> {
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT DISTINCT job_id FROM records WHERE source_job_id = ?1 AND job_id != ?1",
            )
            .map_err(self.err())?;
        let rows: Vec<String> = st
            .query_map([job.as_str()], |r| r.get(0))
            .map_err(self.err())?
            .collect::<rusqlite::Result<_>>()
            .map_err(self.err())?;
        Ok(rows.iter().filter_map(|s| JobId::parse(s).ok()).collect())
    }
}
