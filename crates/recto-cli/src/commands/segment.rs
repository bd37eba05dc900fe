//! `recto segment`: the segmentation step.

use recto_steps::driver::Request;
use recto_steps::segment::{SegmentCitekey, SegmentStep};

use super::Outcome;
use super::citekey_step::{self, Printing, Report};
use crate::cli::SegmentArgs;
use crate::config::Config;

pub fn run(args: SegmentArgs, config: &Config) -> anyhow::Result<Outcome> {
    let step = SegmentStep::new(&args.dictionaries);
    let req = Request {
        selection: args.which.selection(),
        input_job: args.toc_job_id.clone(),
        sharding: args.which.sharding(&args.sharding)?,
        output: None,
    };
    let printing = Printing {
        json: args.json,
        quiet: args.quiet,
    };
    citekey_step::run(&step, &req, printing, config)
}

impl Report for SegmentStep {
    fn line(key: &str, c: &SegmentCitekey) -> String {
        format!(
            "{key}: {}, {}, {} joined at line ends ({} kept){}",
            crate::output::count(c.units, "unit"),
            crate::output::count(c.footnotes, "footnote"),
            crate::output::count(c.dehyphenated, "word"),
            crate::output::count(c.hyphens_kept, "hyphen"),
            c.dictionary
                .as_deref()
                .map(|d| format!(", dictionary {d}"))
                .unwrap_or_default(),
        )
    }
}
