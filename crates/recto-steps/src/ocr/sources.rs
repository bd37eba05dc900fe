//! Each citekey's source PDF fetched and verified for the engine (a
//! failure fails that citekey only), and identical PDFs under several
//! citekeys read once.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use recto_ocr::DocTask;
use recto_registry::{Citekey, JobId};
use recto_store::Store;
use serde_json::Value;

use super::plan::Plan;
use super::types::{CitekeyResult, OcrBody};
use crate::fetch::fetch_source;
use crate::harness::{self};

/// Fetch and verify each source; a failure here fails that citekey only.
pub(crate) async fn fetch_sources(
    plan: &Plan,
    stores: &BTreeMap<JobId, Store>,
    keys: &[&Citekey],
    cache_dir: &Path,
    job: &JobId,
    password: Option<&str>,
) -> (
    Vec<DocTask>,
    BTreeMap<String, String>,
    Vec<(Citekey, Citekey)>,
) {
    let mut failures = BTreeMap::new();
    let mut tasks = Vec::new();
    // Identical PDFs under several citekeys are read once.
    let mut by_sha: BTreeMap<String, Citekey> = BTreeMap::new();
    let mut dups = Vec::new();
    for k in keys {
        let src = &plan.sources[k.as_str()];
        let meta = &plan.source_metas[src];
        let sha = meta
            .get("checksums")
            .and_then(|c| c.get(k.as_str()))
            .and_then(Value::as_str);
        let twin = sha.and_then(|sha| by_sha.get(sha)).cloned();
        match fetch_source(&stores[src], meta, k, cache_dir).await {
            // Verified like any source, then read once with its twin.
            Ok(_) if twin.is_some() => {
                let first = twin.expect("checked");
                tracing::info!("{k}: the same PDF as {first}; read once");
                dups.push(((*k).clone(), first));
            }
            Ok(pdf) => {
                if let Some(sha) = sha {
                    by_sha.insert(sha.to_owned(), (*k).clone());
                }
                tasks.push(DocTask {
                    citekey: k.as_str().to_owned(),
                    pdf,
                    password: password.map(str::to_owned),
                    out_dir: harness::output_dir(&plan.output, k, job),
                    languages: plan.languages.get(k.as_str()).cloned(),
                    pages: None,
                })
            }
            Err(why) => {
                // Name the user's own file too: the stored copy's path means
                // little to them.
                let why = why.to_string();
                let why = match meta
                    .get("files")
                    .and_then(|f| f.get(k.as_str()))
                    .and_then(Value::as_str)
                {
                    Some(orig) => format!("{why} (uploaded from {orig})"),
                    None => why,
                };
                tracing::warn!("{k}: {why}");
                failures.insert(k.as_str().to_owned(), why);
            }
        }
    }
    (tasks, failures, dups)
}

/// Each duplicate's folder becomes a link to its twin's result (or fails
/// with its twin), and its record entry a copy naming the twin.
pub(crate) fn link_duplicates(
    plan: &Plan,
    job: &JobId,
    dups: &[(Citekey, Citekey)],
    body: &mut OcrBody,
    failures: &mut BTreeMap<String, String>,
) {
    for (dup, first) in dups {
        if let Some(why) = failures.get(first.as_str()).cloned() {
            failures.insert(
                dup.as_str().to_owned(),
                format!("the same PDF as {first}, which failed: {why}"),
            );
            continue;
        }
        let Some(result) = body.per_citekey.get(first.as_str()).cloned() else {
            continue;
        };
        let dir = harness::output_dir(&plan.output, dup, job);
        let target = PathBuf::from("..")
            .join(first.file_stem())
            .join(job.as_str());
        let linked = dir
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| match std::fs::symlink_metadata(&dir) {
                Ok(_) => Ok(()),
                Err(_) => std::os::unix::fs::symlink(&target, &dir),
            });
        if let Err(e) = linked {
            failures.insert(
                dup.as_str().to_owned(),
                format!("{}: could not link to {first}'s result: {e}", dir.display()),
            );
            continue;
        }
        body.pages.total += result.pages;
        body.pages.text_layer += result.text_layer;
        body.pages.ocr += result.ocr;
        body.per_citekey.insert(
            dup.as_str().to_owned(),
            CitekeyResult {
                dir: dir.display().to_string(),
                same_as: Some(first.as_str().to_owned()),
                source_job_id: plan.sources.get(dup.as_str()).map(|j| j.to_string()),
                ..result
            },
        );
    }
}
