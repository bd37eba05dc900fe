//! `recto toc` (the spec's `extract_toc.py`): the TOC step.

use recto_steps::driver::Request;
use recto_steps::toc::{TocCitekey, TocStep};

use super::Outcome;
use super::citekey_step::{self, Printing, Report};
use crate::cli::TocArgs;
use crate::config::Config;

pub fn run(args: TocArgs, config: &Config) -> anyhow::Result<Outcome> {
    let step = TocStep {
        cache_dir: config.data_dir.join("cache").join("sources"),
    };
    let req = Request {
        selection: args.which.selection(),
        input_job: args.ocr_job_id.clone(),
        sharding: args.which.sharding(&args.sharding)?,
        output: None,
    };
    let printing = Printing {
        json: args.json,
        quiet: args.quiet,
    };
    citekey_step::run(&step, &req, printing, config)
}

impl Report for TocStep {
    fn line(key: &str, c: &TocCitekey) -> String {
        let printed = match c.toc_pages.as_slice() {
            [] => String::new(),
            p => format!(
                ", contents on page{} {}",
                if p.len() > 1 { "s" } else { "" },
                p.iter()
                    .map(usize::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        format!(
            "{key}: {}{printed}; labels {} ({:.0}% of {}); {} verified, {} corrected",
            if c.entries == 0 {
                "no entries".to_owned()
            } else {
                format!(
                    "{} from {}",
                    crate::output::count(c.entries, "entry"),
                    c.source
                )
            },
            c.label_source,
            c.label_coverage * 100.0,
            crate::output::count(c.pages, "page"),
            c.verified,
            c.corrected,
        )
    }
}
