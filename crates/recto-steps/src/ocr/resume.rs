//! A resume continues an OCR job as recorded: its citekeys, settings,
//! uploads and output folder. Anything given that differs from the record
//! is refused with the differences listed, never applied; a completed job
//! is left alone; a sharded job is finished by its shards, not here.

use std::collections::BTreeMap;
use std::path::Path;

use recto_ocr::Mode;
use recto_registry::{Registry, Status};
use serde_json::Value;

use super::plan::{Plan, recorded_plan, recorded_source};
use super::types::{
    CitekeyResult, Ocr, OcrOptions, OcrOutcome, OcrRequest, OcrRunning, OcrSettings,
};
use crate::StepError;
use crate::harness::{self, Step, StepMetadata};

/// The plan of resuming job `resume` (an id or `latest`), or
/// `Err(AlreadyCompleted)` when it has nothing left to do.
pub(crate) fn plan_resume(
    registry: &Registry,
    req: &OcrRequest,
    resume: &str,
) -> Result<Result<Plan, OcrOutcome>, StepError> {
    let job = recto_library::resolve_job(registry, Ocr::NAME, resume)?;
    let meta = registry.metadata_by_name(Ocr::NAME, job.as_str())?.1;
    let status = meta
        .get("status")
        .and_then(Value::as_str)
        .and_then(Status::parse);
    let kind = harness::kind_of::<Ocr>();
    let recorded: StepMetadata<OcrRunning> = harness::read_metadata(&kind, &job, meta.clone())?;
    // A completed job has nothing left unless some citekeys failed: a
    // resume gives those another try, in the job, keeping the rest.
    let failures = recorded.failures.clone().unwrap_or_default();
    if status == Some(Status::Completed) && failures.is_empty() {
        tracing::info!("job {job} is already completed; nothing to resume");
        return Ok(Err(OcrOutcome::AlreadyCompleted { job_id: job }));
    }
    // A sharded job is finished by its shards and its merge, not by one
    // process: a resume here would record it as a one-machine job.
    if let Some(shards) = &recorded.body.shards {
        return Err(StepError::InvalidSetting {
            name: "resume".into(),
            reason: format!(
                "job {job} runs in {} shards: run its unfinished shards (recto ocr --job-id {job} --shard I/{}), then recto ocr --finalize {job}",
                shards.count, shards.count
            ),
        });
    }
    let source_job = recorded_source(&job, &recorded)?;
    let mut differences = differences_from_record(req, &recorded, registry);
    if let Some(v) = &req.source_job_id {
        let given = recto_library::resolve_job(registry, "source", v)?;
        differences.check("source_job_id", given.to_string(), source_job.to_string());
    }
    if !differences.0.is_empty() {
        return Err(StepError::ResumeConflict {
            job,
            differences: differences.0,
        });
    }
    // A run that ended recorded which citekeys it finished; those stay as
    // they are. A killed run recorded none, so all are done again (their
    // pages on disk are kept by the engine's own resume).
    let ended = matches!(status, Some(Status::Failed | Status::Completed));
    let kept: BTreeMap<String, CitekeyResult> = if ended {
        meta.get("per_citekey")
            .cloned()
            .and_then(|v| serde_json::from_value::<BTreeMap<String, CitekeyResult>>(v).ok())
            .unwrap_or_default()
            .into_iter()
            .filter(|(k, _)| !failures.contains_key(k))
            .collect()
    } else {
        BTreeMap::new()
    };
    tracing::debug!(
        "resuming job {job} ({}), source {source_job}, settings as recorded",
        status.map_or("unknown", Status::as_str)
    );
    let plan = recorded_plan(registry, &job, &recorded, source_job)?;
    Ok(Ok(Plan { kept, ..plan }))
}

/// What a resume was given that its record says otherwise, one line each.
#[derive(Debug, Default)]
struct Differences(Vec<String>);

impl Differences {
    fn check(&mut self, name: &str, given: String, recorded: String) {
        if given != recorded {
            self.0
                .push(format!("{name}: given {given}, recorded {recorded}"));
        }
    }

    /// An on/off setting, when given.
    fn switch(&mut self, name: &str, given: Option<bool>, recorded: bool) {
        if let Some(v) = given {
            self.check(name, v.to_string(), recorded.to_string());
        }
    }
}

/// The request's citekeys, settings and output against the record.
fn differences_from_record(
    req: &OcrRequest,
    recorded: &StepMetadata<OcrRunning>,
    registry: &Registry,
) -> Differences {
    let mut d = Differences::default();
    if !req.citekeys.is_empty() {
        let mut a = req.citekeys.clone();
        let mut b = recorded.citekeys.list.clone();
        a.sort();
        a.dedup();
        b.sort();
        d.check("citekeys", a.join(","), b.join(","));
    }
    settings_differences(
        &req.options,
        &recorded.body.config,
        &recorded.body.citekey_languages,
        &mut d,
    );
    let output = harness::recorded_path(registry, &recorded.body.output_dir);
    if let Some(v) = &req.output
        && !same_path(v, &output)
    {
        d.check(
            "output",
            v.display().to_string(),
            output.display().to_string(),
        );
    }
    d
}

/// Each setting given against the one recorded (a citekey's own languages
/// against its recorded ones, else the job's).
fn settings_differences(
    given: &OcrOptions,
    settings: &OcrSettings,
    citekey_languages: &BTreeMap<String, String>,
    d: &mut Differences,
) {
    if let Some(v) = &given.languages {
        d.check("languages", v.clone(), settings.languages.clone());
    }
    for (k, l) in &given.citekey_languages {
        let recorded = citekey_languages
            .get(k)
            .cloned()
            .unwrap_or_else(|| settings.languages.clone());
        d.check(&format!("languages of {k}"), l.clone(), recorded);
    }
    if let Some(v) = given.dpi {
        d.check("dpi", v.to_string(), settings.dpi.to_string());
    }
    if let Some(v) = given.image_dpi {
        d.check("image_dpi", v.to_string(), settings.image_dpi.to_string());
    }
    if let Some(v) = given.mode {
        d.check("mode", mode_name(v), mode_name(settings.mode));
    }
    d.switch(
        "detect_rotation",
        given.detect_rotation,
        settings.detect_rotation,
    );
    if let Some(v) = given.page_timeout {
        let recorded = settings
            .page_timeout_seconds
            .map_or("none".into(), |s| s.to_string());
        d.check("page_timeout_seconds", v.as_secs().to_string(), recorded);
    }
    if let Some(v) = given.thresholding {
        d.check(
            "thresholding",
            format!("{v:?}"),
            format!("{:?}", settings.thresholding),
        );
    }
    d.switch(
        "retry_low_confidence",
        given.retry_low_confidence,
        settings.retry_low_confidence,
    );
    d.switch("deskew", given.deskew, settings.deskew);
    d.switch(
        "detect_fraktur",
        given.detect_fraktur,
        settings.detect_fraktur,
    );
    d.switch(
        "native_resolution",
        given.native_resolution,
        settings.native_resolution,
    );
    if let Some(v) = given.max_megapixels {
        d.check(
            "max_megapixels",
            v.to_string(),
            settings.max_megapixels.to_string(),
        );
    }
}

fn mode_name(m: Mode) -> String {
    serde_json::to_value(m)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn same_path(a: &Path, b: &Path) -> bool {
    a == b
        || matches!(
            (std::fs::canonicalize(a), std::fs::canonicalize(b)),
            (Ok(x), Ok(y)) if x == y
        )
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use serde_json::json;

    use super::*;
    use crate::ocr::Selection;

    fn settings() -> OcrSettings {
        serde_json::from_value(json!({
            "dpi": 300, "image_dpi": 150, "languages": "eng+deu", "mode": "auto",
            "workers": 2, "page_timeout_seconds": 600, "detect_rotation": true,
        }))
        .unwrap()
    }

    fn request(resume: &str) -> OcrRequest {
        OcrRequest {
            citekeys: vec![],
            selection: Selection::Given,
            dry_run: false,
            source_job_id: None,
            output: None,
            resume: Some(resume.into()),
            password: None,
            options: OcrOptions::default(),
            workers: None,
            store: None,
            cache_dir: "cache".into(),
        }
    }

    #[test]
    fn settings_given_as_recorded_are_no_difference() {
        let given = OcrOptions {
            languages: Some("eng+deu".into()),
            dpi: Some(300),
            mode: Some(Mode::Auto),
            deskew: Some(true),
            page_timeout: Some(Duration::from_secs(600)),
            ..Default::default()
        };
        let mut d = Differences::default();
        settings_differences(&given, &settings(), &BTreeMap::new(), &mut d);
        assert!(d.0.is_empty(), "{:?}", d.0);
    }

    #[test]
    fn each_setting_that_differs_is_named_with_both_values() {
        let given = OcrOptions {
            dpi: Some(400),
            mode: Some(Mode::ForceOcr),
            deskew: Some(false),
            citekey_languages: [("k".to_owned(), "fra".to_owned())].into(),
            ..Default::default()
        };
        let mut d = Differences::default();
        let own = [("k".to_owned(), "fra+eng".to_owned())].into();
        settings_differences(&given, &settings(), &own, &mut d);
        assert_eq!(
            d.0,
            [
                "languages of k: given fra, recorded fra+eng",
                "dpi: given 400, recorded 300",
                "mode: given force-ocr, recorded auto",
                "deskew: given false, recorded true",
            ]
        );
    }

    /// The planner on a real registry: a completed job is left alone, a
    /// sharded one is sent to its shards, other settings are refused.
    #[test]
    fn a_resume_is_decided_from_the_record() {
        let dir = tempfile::tempdir().unwrap();
        let reg = Registry::open(dir.path());
        let save = |job: &str, status: &str, shards: Option<Value>| {
            let mut meta = json!({
                "status": status, "source_job_id": "2026-01-01_00-00-00",
                "citekeys": {"total": 1, "successful": 0, "failed": 0, "list": ["k"]},
                "config": settings(), "output_dir": "analytics/ocr",
            });
            if let Some(s) = shards {
                meta["shards"] = s;
            }
            reg.save_by_name("ocr", job, meta).unwrap();
        };
        save("2026-01-02_00-00-00", Status::Completed.as_str(), None);
        let done = plan_resume(&reg, &request("2026-01-02_00-00-00"), "2026-01-02_00-00-00");
        assert!(matches!(
            done.unwrap(),
            Err(OcrOutcome::AlreadyCompleted { .. })
        ));

        save(
            "2026-01-03_00-00-00",
            "failed",
            Some(json!({"count": 4, "dir": "analytics/ocr/shards"})),
        );
        let sharded = plan_resume(&reg, &request("x"), "2026-01-03_00-00-00").unwrap_err();
        assert!(
            sharded.to_string().contains("runs in 4 shards"),
            "{sharded}"
        );

        save("2026-01-04_00-00-00", "failed", None);
        let mut req = request("2026-01-04_00-00-00");
        req.options.dpi = Some(200);
        req.citekeys = vec!["other".into()];
        match plan_resume(&reg, &req, "2026-01-04_00-00-00") {
            Err(StepError::ResumeConflict { differences, .. }) => assert_eq!(
                differences,
                [
                    "citekeys: given other, recorded k",
                    "dpi: given 200, recorded 300"
                ]
            ),
            other => panic!("{other:?}"),
        }
    }
}
