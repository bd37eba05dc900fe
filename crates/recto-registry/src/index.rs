//! The derived index: a SQLite file that answers "which jobs touched this
//! citekey", "which jobs ran this step" and lineage look-ups without reading
//! thousands of JSON files.
//!
//! It is never the only copy of anything: every row comes from a metadata
//! file, and `rebuild` recreates it from scratch.

use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, params};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::ids::{JobId, RecordKind};
use crate::layout::Layout;
use crate::record::{Record, read_record};
use crate::trace::Lookup;

/// Bumped when the tables change; an index of another version is rebuilt.
const INDEX_VERSION: i64 = 5;

#[derive(Debug)]
pub(crate) struct Index {
    conn: Connection,
    path: PathBuf,
    layout: Layout,
    /// The inode the connection was opened on, to notice a rebuild's swap;
    /// `None` for an index in memory (a read-only registry's).
    ino: Option<u64>,
}

const SCHEMA: &str = "
    CREATE TABLE meta (key TEXT PRIMARY KEY, value) WITHOUT ROWID;
    CREATE TABLE records (
        kind TEXT NOT NULL,
        job_id TEXT NOT NULL,
        status TEXT NOT NULL,
        timestamp TEXT NOT NULL,
        source_job_id TEXT,
        has_citekeys INTEGER NOT NULL,
        whole_failed INTEGER NOT NULL,
        duration_seconds REAL,
        PRIMARY KEY (kind, job_id)
    ) WITHOUT ROWID;
    CREATE TABLE citekeys (
        citekey TEXT NOT NULL,
        kind TEXT NOT NULL,
        job_id TEXT NOT NULL,
        failed INTEGER NOT NULL,
        sha256 TEXT,
        size INTEGER,
        pages INTEGER,
        confidence REAL,
        reason TEXT,
        source_job_id TEXT,
        PRIMARY KEY (citekey, kind, job_id)
    ) WITHOUT ROWID;";

const SECONDARY_INDEXES: &str = "
    CREATE INDEX records_job ON records (job_id);
    CREATE INDEX records_source ON records (source_job_id);
    CREATE INDEX citekeys_job ON citekeys (job_id);";

const INSERT_RECORD: &str = "INSERT OR REPLACE INTO records
    (kind, job_id, status, timestamp, source_job_id, has_citekeys, whole_failed, duration_seconds)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";

const INSERT_CITEKEY: &str = "INSERT OR IGNORE INTO citekeys
    (citekey, kind, job_id, failed, sha256, size, pages, confidence, reason, source_job_id)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";

/// `(job_id, kind, status, source_job_id)` of one record.
/// One record as `jobs list` shows it.
pub(crate) struct SummaryRow {
    pub job_id: String,
    pub kind: String,
    pub status: String,
    pub source_job_id: Option<String>,
    /// Citekeys the record names, and how many of them failed.
    pub citekeys: u64,
    pub failed: u64,
    pub duration_seconds: Option<f64>,
}

/// One citekey in one record, with the record's status.
#[derive(Debug, Clone)]
pub(crate) struct StateRow {
    pub citekey: String,
    pub kind: String,
    pub job_id: String,
    pub failed: bool,
    pub sha256: Option<String>,
    pub size: Option<u64>,
    pub pages: Option<u64>,
    pub confidence: Option<f64>,
    pub reason: Option<String>,
    pub source_job_id: Option<String>,
    pub status: String,
    pub timestamp: String,
    pub whole_failed: bool,
}

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
    pub fn open(layout: &Layout) -> Result<Option<Self>> {
        let path = &layout.index_path();
        if !path.exists() {
            return Ok(None);
        }
        let idx = match Self::connect(layout) {
            Ok(idx) => idx,
            Err(_) => return Ok(None),
        };
        Ok((schema_version(&idx.conn) == Some(INDEX_VERSION)).then_some(idx))
    }

    fn connect(layout: &Layout) -> Result<Self> {
        let path = &layout.index_path();
        let err = |source| Error::Index {
            path: path.to_owned(),
            source,
        };
        let conn = Connection::open(path).map_err(err)?;
        conn.busy_timeout(Duration::from_secs(30)).map_err(err)?;
        // A rollback journal, not WAL: rebuilds replace the file by rename,
        // which a WAL file beside it would not survive.
        conn.execute_batch("PRAGMA journal_mode = DELETE; PRAGMA synchronous = FULL;")
            .map_err(err)?;
        let ino = std::fs::metadata(path)
            .map_err(|e| Error::io(path, e))?
            .ino();
        Ok(Index {
            conn,
            path: path.to_owned(),
            layout: layout.clone(),
            ino: Some(ino),
        })
    }

    /// Open the index on disk to read only (no journal, no pragma that
    /// writes); `Ok(None)` when it is missing, unreadable or of another
    /// version.
    pub fn open_read_only(layout: &Layout) -> Result<Option<Self>> {
        use rusqlite::OpenFlags;
        let path = &layout.index_path();
        let Ok(meta) = std::fs::metadata(path) else {
            return Ok(None);
        };
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let Ok(conn) = Connection::open_with_flags(path, flags) else {
            return Ok(None);
        };
        let _ = conn.busy_timeout(Duration::from_secs(30));
        Ok(
            (schema_version(&conn) == Some(INDEX_VERSION)).then(|| Index {
                conn,
                path: path.to_owned(),
                layout: layout.clone(),
                ino: Some(meta.ino()),
            }),
        )
    }

    /// An index in memory built from `records`: what a read-only registry
    /// answers from when the one on disk is missing, dirty or behind.
    pub fn in_memory(layout: &Layout, records: &[Arc<Record>], log_offset: u64) -> Result<Self> {
        let path = layout.index_path();
        let err = |source| Error::Index {
            path: path.clone(),
            source,
        };
        let mut conn = Connection::open_in_memory().map_err(err)?;
        fill(&mut conn, records, log_offset).map_err(err)?;
        Ok(Index {
            conn,
            path: path.clone(),
            layout: layout.clone(),
            ino: None,
        })
    }

    fn err(&self) -> impl Fn(rusqlite::Error) -> Error + '_ {
        |source| Error::Index {
            path: self.path.clone(),
            source,
        }
    }

    /// Replace the whole index with one built from `records`.
    ///
    /// The new index is built in a temp file without journaling (nothing is
    /// lost if this dies: it is derived) and renamed over the old one, so
    /// other processes see either the old or the new index, never a mix.
    /// Their open connections notice the swap through [`Index::is_current`].
    pub fn rebuild(layout: &Layout, records: &[Arc<Record>], log_offset: u64) -> Result<Self> {
        let path = &layout.index_path();
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        let tmp = path.with_extension(format!("rebuild-{}", std::process::id()));
        let _ = std::fs::remove_file(&tmp);
        let err = |source| Error::Index {
            path: tmp.clone(),
            source,
        };
        {
            let mut conn = Connection::open(&tmp).map_err(err)?;
            conn.execute_batch(
                "PRAGMA journal_mode = OFF;
                 PRAGMA synchronous = OFF;
                 PRAGMA cache_size = -65536;",
            )
            .map_err(err)?;
            fill(&mut conn, records, log_offset).map_err(err)?;
        }
        std::fs::File::open(&tmp)
            .and_then(|f| f.sync_all())
            .map_err(|e| Error::io(&tmp, e))?;
        std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))?;
        Self::connect(layout)
    }

    /// False when the index file was replaced (by a rebuild in any process)
    /// since this connection was opened.
    pub fn is_current(&self) -> bool {
        match self.ino {
            Some(ino) => std::fs::metadata(&self.path).is_ok_and(|m| m.ino() == ino),
            None => true,
        }
    }

    /// True for an index built in memory.
    pub fn is_in_memory(&self) -> bool {
        self.ino.is_none()
    }

    /// How far into the change log this index is up to date.
    pub fn log_offset(&self) -> u64 {
        self.conn
            .query_row("SELECT value FROM meta WHERE key = 'log_offset'", [], |r| {
                r.get::<_, i64>(0)
            })
            .optional()
            .ok()
            .flatten()
            .map_or(0, |v| u64::try_from(v).unwrap_or(0))
    }

    /// Record that the index is up to date to `offset` (never moving back:
    /// two processes catching up at once both replay, idempotently).
    pub fn set_log_offset(&self, offset: u64) -> Result<()> {
        self.conn
            .execute(
                "INSERT INTO meta VALUES ('log_offset', ?1)
                 ON CONFLICT(key) DO UPDATE SET value = max(value, excluded.value)",
                [i64::try_from(offset).unwrap_or(i64::MAX)],
            )
            .map_err(self.err())?;
        Ok(())
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
            .prepare_cached(
                "SELECT r.job_id, r.kind, r.status, r.source_job_id, r.duration_seconds,
                        COUNT(c.citekey), COALESCE(SUM(c.failed), 0)
                 FROM records r LEFT JOIN citekeys c ON c.kind = r.kind AND c.job_id = r.job_id
                 GROUP BY r.kind, r.job_id
                 ORDER BY r.job_id, r.timestamp",
            )
            .map_err(self.err())?;
        let rows = st
            .query_map([], |r| {
                Ok(SummaryRow {
                    job_id: r.get(0)?,
                    kind: r.get(1)?,
                    status: r.get(2)?,
                    source_job_id: r.get(3)?,
                    duration_seconds: r.get(4)?,
                    citekeys: r.get::<_, i64>(5)? as u64,
                    failed: r.get::<_, i64>(6)? as u64,
                })
            })
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
    /// Every row of the citekeys table with its record's status and time,
    /// for the given citekeys or all of them, ordered by citekey, step, job.
    pub fn state_rows(&self, citekeys: Option<&[String]>) -> Result<Vec<StateRow>> {
        // Rows of records that list their citekeys come in key order
        // straight from the table's primary key; a record without a citekey
        // list (a sync written by hand, say) covers the citekeys of its own
        // job's other records, or else of its upstream job's, as in
        // `citekey_hits`. Those are few, fetched apart and merged.
        const LISTED: &str = "SELECT c.citekey, c.kind, c.job_id, c.failed, c.sha256, c.size,
                c.pages, c.confidence, c.reason, c.source_job_id, r.status, r.timestamp,
                r.whole_failed
             FROM citekeys c JOIN records r ON r.kind = c.kind AND r.job_id = c.job_id";
        const UNLISTED: &str = "SELECT DISTINCT c.citekey, r.kind, r.job_id, 0, NULL, NULL, NULL,
                NULL, NULL, r.source_job_id, r.status, r.timestamp, r.whole_failed
             FROM records r JOIN citekeys c ON c.job_id = CASE
                 WHEN EXISTS (SELECT 1 FROM records o WHERE o.job_id = r.job_id AND o.has_citekeys = 1)
                 THEN r.job_id ELSE r.source_job_id END
             WHERE r.has_citekeys = 0";
        let map = |r: &rusqlite::Row<'_>| {
            Ok(StateRow {
                citekey: r.get(0)?,
                kind: r.get(1)?,
                job_id: r.get(2)?,
                failed: r.get(3)?,
                sha256: r.get(4)?,
                size: r.get::<_, Option<i64>>(5)?.map(|v| v as u64),
                pages: r.get::<_, Option<i64>>(6)?.map(|v| v as u64),
                confidence: r.get(7)?,
                reason: r.get(8)?,
                source_job_id: r.get(9)?,
                status: r.get(10)?,
                timestamp: r.get(11)?,
                whole_failed: r.get(12)?,
            })
        };
        let mut out = Vec::new();
        let query = |out: &mut Vec<StateRow>, sql: &str, key: Option<&str>| -> Result<()> {
            let mut st = self.conn.prepare_cached(sql).map_err(self.err())?;
            let rows = match key {
                Some(k) => st.query_map([k], map),
                None => st.query_map([], map),
            }
            .map_err(self.err())?;
            for row in rows {
                out.push(row.map_err(self.err())?);
            }
            Ok(())
        };
        match citekeys {
            None => {
                query(
                    &mut out,
                    &format!("{LISTED} ORDER BY c.citekey, c.kind, c.job_id"),
                    None,
                )?;
                let n = out.len();
                query(&mut out, UNLISTED, None)?;
                if out.len() > n {
                    out.sort_by(|a, b| {
                        (&a.citekey, &a.kind, &a.job_id).cmp(&(&b.citekey, &b.kind, &b.job_id))
                    });
                }
            }
            Some(keys) => {
                for k in keys {
                    query(&mut out, &format!("{LISTED} WHERE c.citekey = ?1"), Some(k))?;
                    query(&mut out, &format!("{UNLISTED} AND c.citekey = ?1"), Some(k))?;
                }
            }
        }
        Ok(out)
    }

    /// Every citekey the index knows, sorted.
    pub fn all_citekeys(&self) -> Result<Vec<String>> {
        let mut st = self
            .conn
            .prepare_cached("SELECT DISTINCT citekey FROM citekeys ORDER BY citekey")
            .map_err(self.err())?;
        let rows = st
            .query_map([], |r| r.get(0))
            .map_err(self.err())?
            .collect::<rusqlite::Result<_>>()
            .map_err(self.err())?;
        Ok(rows)
    }

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
                    // A finished step reports the citekey's own outcome: a
                    // job that failed on other citekeys completed this one.
                    "SELECT r.kind, r.job_id,
                            CASE WHEN r.status IN ('completed', 'failed')
                                 THEN (CASE WHEN c.failed OR r.whole_failed THEN 'failed' ELSE 'completed' END)
                                 ELSE r.status END,
                            r.timestamp, r.source_job_id
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

fn record_params(r: &Record) -> Vec<Box<dyn rusqlite::ToSql + '_>> {
    vec![
        Box::new(r.kind.key()),
        Box::new(r.job_id.as_str()),
        Box::new(r.status.as_str()),
        Box::new(r.timestamp.as_str()),
        Box::new(r.source_job_id.as_ref().map(JobId::as_str)),
        Box::new(r.names_citekeys()),
        Box::new(r.failed_as_a_whole()),
        Box::new(r.meta.get("duration_seconds").and_then(Value::as_f64)),
    ]
}

fn insert(tx: &rusqlite::Transaction<'_>, r: &Record) -> rusqlite::Result<()> {
    let p = record_params(r);
    tx.prepare_cached(INSERT_RECORD)?
        .execute(rusqlite::params_from_iter(p.iter().map(|b| b.as_ref())))?;
    let mut st = tx.prepare_cached(INSERT_CITEKEY)?;
    for row in r.citekey_rows() {
        st.execute(citekey_params(&row, r.kind.key(), r.job_id.as_str()))?;
    }
    Ok(())
}

fn citekey_params<'a>(
    row: &'a crate::record::CitekeyRow<'a>,
    kind: &'a str,
    job: &'a str,
) -> impl rusqlite::Params + 'a {
    (
        row.citekey,
        kind,
        job,
        row.failed,
        row.sha256,
        row.size.map(|s| s as i64),
        row.pages.map(|p| p as i64),
        row.confidence,
        row.reason,
        row.source_job_id,
    )
}

impl Lookup for Index {
    /// The index says which records a job has; their content is read from
    /// the metadata files themselves, which are the truth.
    fn records_of(&self, job: &JobId) -> Result<Vec<Arc<Record>>> {
        let mut st = self
            .conn
            .prepare_cached("SELECT kind FROM records WHERE job_id = ?1 ORDER BY kind")
            .map_err(self.err())?;
        let kinds: Vec<String> = st
            .query_map([job.as_str()], |r| r.get(0))
            .map_err(self.err())?
            .collect::<rusqlite::Result<_>>()
            .map_err(self.err())?;
        let mut out = Vec::with_capacity(kinds.len());
        for k in kinds {
            let Ok(kind) = RecordKind::from_key(&k) else {
                continue;
            };
            let path = self.layout.metadata_path(&kind, job);
            match read_record(&path, kind, job.clone()) {
                Ok(r) => out.push(Arc::new(r)),
                // Changed or removed behind our back: leave it out until the
                // next rebuild rather than fail every query that touches it.
                Err(reason) => {
                    tracing::warn!(path = %path.display(), %reason, "skipping metadata file")
                }
            }
        }
        Ok(out)
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

/// The index version `conn` was built with, when it says.
fn schema_version(conn: &Connection) -> Option<i64> {
    conn.query_row("SELECT value FROM meta WHERE key = 'version'", [], |r| {
        r.get(0)
    })
    .optional()
    .unwrap_or(None)
}

/// Create the tables in `conn` and fill them with `records`.
fn fill(conn: &mut Connection, records: &[Arc<Record>], log_offset: u64) -> rusqlite::Result<()> {
    let tx = conn.transaction()?;
    tx.execute_batch(SCHEMA)?;
    tx.execute("INSERT INTO meta VALUES ('version', ?1)", [INDEX_VERSION])?;
    tx.execute(
        "INSERT INTO meta VALUES ('log_offset', ?1)",
        [i64::try_from(log_offset).unwrap_or(i64::MAX)],
    )?;
    // Inserting in key order keeps every B-tree append-only.
    let mut sorted: Vec<&Arc<Record>> = records.iter().collect();
    sorted.sort_by(|a, b| (a.kind.key(), &a.job_id).cmp(&(b.kind.key(), &b.job_id)));
    let mut keys: Vec<(&str, &str, &str, crate::record::CitekeyRow<'_>)> = Vec::new();
    {
        let mut st = tx.prepare(INSERT_RECORD)?;
        for r in &sorted {
            let p = record_params(r);
            st.execute(rusqlite::params_from_iter(p.iter().map(|b| b.as_ref())))?;
            for row in r.citekey_rows() {
                keys.push((row.citekey, r.kind.key(), r.job_id.as_str(), row));
            }
        }
    }
    keys.sort_unstable_by(|a, b| (a.0, a.1, a.2).cmp(&(b.0, b.1, b.2)));
    keys.dedup_by(|a, b| (a.0, a.1, a.2) == (b.0, b.1, b.2));
    {
        let mut st = tx.prepare(INSERT_CITEKEY)?;
        for (_, k, j, row) in keys {
            st.execute(citekey_params(&row, k, j))?;
        }
    }
    tx.execute_batch(SECONDARY_INDEXES)?;
    tx.commit()
}
