//! `recto index` and `recto search`: the library's full-text index.

use recto_registry::Citekey;
use recto_search::SearchRequest;
use recto_steps::harness::Selection;
use recto_steps::search::{IndexRequest, run_index};

use super::Outcome;
use crate::cli::{IndexArgs, SearchArgs};
use crate::config::Config;
use crate::output;
use crate::progress::CliProgress;

pub fn index(args: IndexArgs, config: &Config) -> anyhow::Result<Outcome> {
    let registry = config.registry();
    let selection = if args.citekeys.is_empty() {
        Selection::All
    } else {
        Selection::Given(args.citekeys.clone())
    };
    let progress = CliProgress::new(args.quiet || args.json, "citekeys");
    let out = run_index(
        &registry,
        &IndexRequest {
            selection,
            rebuild: args.rebuild,
        },
        &progress,
    )?;
    for (key, why) in &out.failures {
        tracing::error!("{key}: not indexed: {why}");
    }
    let report = recto_steps::report::index(&out);
    if args.json {
        output::json(&report.json)?;
    } else if !args.quiet {
        output::line(format!(
            "indexed {} ({}, {:.0} pages/s), {} unchanged, {} failed; {} in the index",
            output::count(out.indexed.len(), "citekey"),
            output::count(out.pages, "page"),
            out.pages_per_second,
            out.unchanged,
            out.failures.len(),
            output::count(out.pages_in_index, "page")
        ))?;
    }
    super::ended(report.ending)
}

pub fn search(args: SearchArgs, config: &Config) -> anyhow::Result<Outcome> {
    let registry = config.reader();
    let citekey = match &args.citekey {
        Some(k) => Some(Citekey::parse(k)?.as_str().to_owned()),
        None => None,
    };
    let mut req = SearchRequest::new(&args.query.join(" "));
    req.citekey = citekey;
    req.limit = args.limit.max(1);
    req.fuzzy = args.fuzzy;
    let found = recto_library::search::search(&registry, &req)?;
    if args.json {
        output::json(&found)?;
        return Ok(Outcome::Success);
    }
    // Grouped by item, the items in the order of their best page.
    let mut items: Vec<&str> = Vec::new();
    for h in &found.hits {
        if !items.contains(&h.hit.citekey.as_str()) {
            items.push(&h.hit.citekey);
        }
    }
    for key in items {
        let pages: Vec<_> = found.hits.iter().filter(|h| h.hit.citekey == key).collect();
        let about = pages[0]
            .bib
            .as_ref()
            .map(|b| b.line())
            .filter(|l| !l.is_empty())
            .map(|l| format!(" — {l}"))
            .unwrap_or_default();
        output::line(format!("{key}{about}"))?;
        for h in pages {
            let label = h
                .hit
                .label
                .as_ref()
                .map(|l| format!(" (p. {l})"))
                .unwrap_or_default();
            output::line(format!(
                "  page {}{label}  {:.2}\n      {}",
                h.hit.page, h.hit.score, h.marked
            ))?;
        }
    }
    output::line(format!(
        "{} of {} pages shown",
        found.hits.len(),
        found.total
    ))?;
    Ok(Outcome::Success)
}
