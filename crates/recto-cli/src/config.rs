//! The typed configuration every command gets, built once from the flags,
//! the environment (clap reads `RECTO_*`), `./recto.toml` (the project's),
//! then the user's `$XDG_CONFIG_HOME/recto/config.toml` (default
//! `~/.config/recto/config.toml`), in that order: the first that sets a key
//! wins, key by key.
//!
//! Keys of both files (all optional):
//!
//! ```toml
//! data_dir = "data"
//! pipeline = ["ocr", "sync_ocr"]
//!
//! # Where `recto run` and `recto watch` upload from (one of the two).
//! [sources]
//! bib = "~/Zotero/library.bib"
//! from = "~/papers"
//! bib_path_map = ["/Users/ann/Zotero=/home/ann/Zotero"]
//!
//! [store]
//! url = "s3://my-bucket/library"
//! endpoint_url = "https://s3.eu-central-003.backblazeb2.com"
//! region = "eu-central-003"
//! path_style = false
//! ```
//!
//! Credentials are never read from this file: only from the environment.

use std::path::{Path, PathBuf};

use anyhow::Context;
use recto_registry::{Registry, StepName, parse_pipeline};
use recto_store::StoreConfig;
use serde::Deserialize;

use crate::cli::{GlobalArgs, StoreArgs};

#[derive(Debug, Clone)]
pub struct Config {
    pub data_dir: PathBuf,
    pub pipeline: Vec<StepName>,
    file: FileConfig,
}

/// `recto.toml`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    data_dir: Option<PathBuf>,
    pipeline: Option<Vec<String>>,
    #[serde(default)]
    store: FileStore,
    #[serde(default)]
    sources: Sources,
}

/// Where the library's PDFs come from, for `recto run` and `recto watch`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sources {
    pub bib: Option<PathBuf>,
    pub from: Option<PathBuf>,
    /// `FROM=TO` prefix rewrites of the .bib's paths, as `--bib-path-map`.
    #[serde(default)]
    pub bib_path_map: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileStore {
    url: Option<String>,
    endpoint_url: Option<String>,
    region: Option<String>,
    path_style: Option<bool>,
}

impl Config {
    pub fn from_args(args: &GlobalArgs) -> anyhow::Result<Self> {
        let project = load_file(Path::new("recto.toml"))?;
        let file = match user_config_path() {
            Some(p) => project.over(load_file(&p)?),
            None => project,
        };
        let data_dir = args
            .data_dir
            .clone()
            .or_else(|| file.data_dir.clone())
            .unwrap_or_else(|| PathBuf::from("data"));
        let pipeline = match (&args.pipeline, &file.pipeline) {
            (Some(p), _) => parse_pipeline(p).context("--pipeline / RECTO_PIPELINE")?,
            (None, Some(list)) => {
                parse_pipeline(&list.join(",")).context("recto.toml: pipeline")?
            }
            (None, None) => parse_pipeline("ocr,sync_ocr").expect("valid default"),
        };
        Ok(Config {
            data_dir,
            pipeline,
            file,
        })
    }

    /// An error when the data directory does not exist: a command that
    /// only reads would otherwise answer "nothing", as if it were empty.
    pub fn require_data_dir(&self) -> anyhow::Result<()> {
        if self.data_dir.is_dir() {
            Ok(())
        } else {
            Err(crate::commands::CliError::NotFound(format!(
                "no data directory at {} (nothing recorded yet here; give --data-dir or set RECTO_DATA_DIR, or run `recto upload` first)",
                self.data_dir.display()
            ))
            .into())
        }
    }

    /// Every pipeline step is one of recto's, its sync, or a step with
    /// jobs recorded here. Not asked of `step` and `registry`, which record
    /// the first job of a step of the user's own.
    pub fn check_pipeline(&self) -> anyhow::Result<()> {
        for step in &self.pipeline {
            check_step(step, &self.data_dir)?;
        }
        Ok(())
    }

    /// recto.toml's `[sources]`, `~/` read as the home folder.
    pub fn sources(&self) -> Sources {
        let home = |p: &PathBuf| match (p.strip_prefix("~"), std::env::var_os("HOME")) {
            (Ok(rest), Some(h)) => PathBuf::from(h).join(rest),
            _ => p.clone(),
        };
        Sources {
            bib: self.file.sources.bib.as_ref().map(home),
            from: self.file.sources.from.as_ref().map(home),
            bib_path_map: self.file.sources.bib_path_map.clone(),
        }
    }

    pub fn registry(&self) -> Registry {
        Registry::open(&self.data_dir).with_pipeline(self.pipeline.clone())
    }

    /// The registry for a read command (`status`, `jobs`, `step show`,
    /// `text`, `show`, `search`, `serve`): open to read only, so it never
    /// writes under the data directory, not even a repair.
    pub fn reader(&self) -> Registry {
        self.registry().read_only()
    }

    /// The store the flags name, falling back to recto.toml, then to
    /// `<data dir>/store`; `None` when nothing names one (for commands that
    /// default to the store recorded in a job).
    pub fn store(&self, args: &StoreArgs) -> Option<StoreConfig> {
        let url = args.url.clone().or_else(|| self.file.store.url.clone())?;
        Some(StoreConfig {
            url,
            endpoint_url: args
                .endpoint_url
                .clone()
                .or_else(|| self.file.store.endpoint_url.clone()),
            region: args
                .region
                .clone()
                .or_else(|| self.file.store.region.clone()),
            path_style: if args.path_style {
                Some(true)
            } else {
                self.file.store.path_style
            },
        })
    }

    /// Like [`Config::store`], with the embedded default `<data dir>/store`.
    pub fn store_or_default(&self, args: &StoreArgs) -> StoreConfig {
        self.store(args).unwrap_or_else(|| StoreConfig {
            url: self.data_dir.join("store").display().to_string(),
            ..Default::default()
        })
    }
}

/// The steps recto runs; each has a `sync_` step too.
const STEPS: [&str; 4] = ["ocr", "toc", "segmentation", "export"];

/// A pipeline step is one of recto's, its sync, or a step with jobs
/// recorded in this data directory (a step of the user's own, saved
/// through the spec's API); a typo such as `segment` is an error, not a
/// step that stays pending forever.
fn check_step(step: &StepName, data_dir: &Path) -> anyhow::Result<()> {
    let name = step.as_str();
    let ours = |s: &str| STEPS.contains(&s);
    if ours(name) || name.strip_prefix("sync_").is_some_and(ours) {
        return Ok(());
    }
    if data_dir
        .join("analytics")
        .join(name)
        .join("job_metadata")
        .is_dir()
    {
        return Ok(());
    }
    let near = STEPS
        .iter()
        .find(|s| s.starts_with(name) || name.starts_with(*s))
        .map(|s| format!(" (did you mean {s}?)"))
        .unwrap_or_default();
    Err(crate::commands::CliError::Usage(format!(
        "pipeline: no step {name:?}{near}: recto's steps are {}, each with its sync_ step, or a step with jobs recorded here",
        STEPS.join(", ")
    ))
    .into())
}

/// `$XDG_CONFIG_HOME/recto/config.toml`, else `~/.config/recto/config.toml`.
fn user_config_path() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
    Some(base.join("recto").join("config.toml"))
}

impl FileConfig {
    /// `self` where it sets a key, else `under`.
    fn over(self, under: FileConfig) -> FileConfig {
        FileConfig {
            data_dir: self.data_dir.or(under.data_dir),
            pipeline: self.pipeline.or(under.pipeline),
            store: FileStore {
                url: self.store.url.or(under.store.url),
                endpoint_url: self.store.endpoint_url.or(under.store.endpoint_url),
                region: self.store.region.or(under.store.region),
                path_style: self.store.path_style.or(under.store.path_style),
            },
            // The two sources come from one file, never one from each.
            sources: if self.sources.bib.is_some() || self.sources.from.is_some() {
                self.sources
            } else {
                under.sources
            },
        }
    }
}

fn load_file(path: &Path) -> anyhow::Result<FileConfig> {
    match std::fs::read_to_string(path) {
        Ok(text) => toml::from_str(&text)
            .with_context(|| format!("{}: invalid configuration", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(FileConfig::default()),
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}
