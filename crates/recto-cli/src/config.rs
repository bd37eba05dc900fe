//! The typed configuration every command gets, built once from the flags.

use std::path::PathBuf;

use anyhow::Context;
use recto_registry::{Registry, StepName, parse_pipeline};

use crate::cli::GlobalArgs;

#[derive(Debug, Clone)]
pub struct Config {
    pub data_dir: PathBuf,
    pub pipeline: Vec<StepName>,
}

impl Config {
    pub fn from_args(args: &GlobalArgs) -> anyhow::Result<Self> {
        let pipeline = parse_pipeline(&args.pipeline).context("--pipeline / RECTO_PIPELINE")?;
        Ok(Config {
            data_dir: args.data_dir.clone(),
            pipeline,
        })
    }

    pub fn registry(&self) -> Registry {
        Registry::open(&self.data_dir).with_pipeline(self.pipeline.clone())
    }
}
