//! The one command that brings a citekey forward, from its state in the
//! library view: what `recto status` prints as `fix:` and the web app
//! shows on a citekey it cannot show yet, written once for both.

use recto_registry::CitekeyState;

/// The command that runs step `step` (`segmentation` is `recto segment`,
/// `source` is `recto upload`).
pub fn command_of(step: &str) -> &str {
    match step {
        "segmentation" => "segment",
        "source" => "upload",
        s => s,
    }
}

/// The one command that brings citekey `s` forward: its first step
/// without a completed result (a sync step pushes the job its step ran
/// in); `None` when nothing is to do or a run is still going.
pub fn fix_command(s: &CitekeyState) -> Option<String> {
    let key = shlex::try_quote(&s.citekey).ok()?;
    if s.source.is_none() {
        let missing = s
            .source_problem
            .as_deref()
            .is_some_and(|p| p.contains("file not found"));
        return Some(if missing {
            format!(
                "correct its file path in the .bib, or map another machine's paths: recto upload --bib FILE --bib-path-map FROM=TO --citekeys {key}"
            )
        } else {
            format!("upload its PDF: recto upload --from DIR --citekeys {key}")
        });
    }
    let st = s.steps.iter().find(|st| st.needs_run())?;
    // A source that cannot be read is not fixed by running again.
    let reason = st.reason.as_deref().unwrap_or("");
    if reason.contains("encrypted and no password") || reason.contains("wrong password") {
        return Some(format!(
            "recto {} --citekeys {key} --password PASSWORD",
            command_of(&st.step)
        ));
    }
    if [
        "cannot open as PDF",
        "the PDF has no pages",
        "checksum mismatch",
    ]
    .iter()
    .any(|r| reason.contains(r))
    {
        return Some(format!(
            "replace its PDF with a good copy, then: recto upload --from DIR --citekeys {key} && recto run"
        ));
    }
    Some(match st.step.strip_prefix("sync_") {
        Some(step) => {
            let job = s
                .steps
                .iter()
                .find(|x| x.step == step)
                .and_then(|x| x.job_id.as_deref())
                .unwrap_or("latest");
            if step == "ocr" {
                format!("recto sync-ocr --job-id {job}")
            } else {
                format!("recto sync --step {step} --job-id {job}")
            }
        }
        None => format!("recto {} --citekeys {key}", command_of(&st.step)),
    })
}
