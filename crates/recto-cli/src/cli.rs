//! The command line, as clap types. They are turned into a typed
//! [`crate::config::Config`] once, in `main`, and go no further.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// recto: page-accurate text from a library of PDFs, with an exact record of
/// every step that touched every source.
#[derive(Debug, Parser)]
#[command(name = "recto", version, about, long_about = None, after_help = EXIT_CODES)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Command,
}

pub const EXIT_CODES: &str = "\
Exit codes:
  0  success
  1  error: the command could not do its work (message on stderr)
  2  usage error: bad flags or arguments
  3  partial: the command finished, but some items (citekeys, files) failed
  4  not found: the job, step or citekey asked for does not exist";

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Data directory holding sources/, analytics/ and the registry
    /// [default: data, or `data_dir` in ./recto.toml].
    #[arg(long, global = true, env = "RECTO_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// Steps that count as pending until completed, comma-separated
    /// [default: ocr,sync_ocr, or `pipeline` in ./recto.toml].
    #[arg(long, global = true, env = "RECTO_PIPELINE", value_name = "STEPS")]
    pub pipeline: Option<String>,

    /// More log output on stderr (-v: debug, -vv: trace).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Upload source PDFs to the store, skipping what is already there.
    ///
    /// Examples:
    ///   recto upload --from ~/papers                       (every PDF there; citekey = file name)
    ///   recto upload --citekeys smith2020,doe2019 --from ~/papers
    ///   recto upload --bib library.bib --store s3://my-bucket/library \
    ///       --endpoint-url https://s3.eu-central-003.backblazeb2.com
    #[command(verbatim_doc_comment)]
    Upload(UploadArgs),
    /// Turn every page of uploaded sources into page JSON and a page image.
    ///
    /// Each page's own text layer is used where it is good; other pages are
    /// rendered and read by Tesseract, turned upright first when rotated.
    /// Output: <output>/<citekey>/<job_id>/page_NNNN.json, page_NNNN.jpg,
    /// fulltext.txt; metadata: <data dir>/analytics/ocr/job_metadata/<job_id>.json.
    ///
    /// Examples:
    ///   recto ocr --citekeys smith2020 --output data/analytics/ocr
    ///   recto ocr --citekeys smith2020,doe2019 --source-job-id 2026-01-01_20-48-14 --lang eng+deu
    ///   recto ocr --resume 2026-01-01_21-45-14          (finish a killed run)
    #[command(verbatim_doc_comment)]
    Ocr(OcrArgs),
    /// Push an OCR job's results to the bucket, incrementally, and verify.
    ///
    /// The target is the store of the job's source upload unless --store
    /// says otherwise. Keys mirror the local layout:
    /// analytics/ocr/<citekey>/<job_id>/..., analytics/ocr/job_metadata/<job_id>.json.
    ///
    /// Examples:
    ///   recto sync-ocr --job-id latest
    ///   recto sync-ocr --job-id 2026-01-01_21-45-14 --skip-images
    #[command(verbatim_doc_comment)]
    SyncOcr(SyncArgs),
    /// Query jobs: list, status, full registry, jobs of a citekey.
    #[command(subcommand)]
    Jobs(JobsCommand),
    /// Read or record one step's metadata (for steps written in any language).
    #[command(subcommand)]
    Step(StepCommand),
    /// Maintain the central registry.
    #[command(subcommand)]
    Registry(RegistryCommand),
}

/// Where objects go: flags, then RECTO_* environment, then ./recto.toml.
#[derive(Debug, Args, Clone, Default)]
pub struct StoreArgs {
    /// The store: a folder, file:///abs/path, or s3://bucket[/prefix]
    /// [default: <data dir>/store].
    #[arg(long = "store", env = "RECTO_STORE", value_name = "URL")]
    pub url: Option<String>,
    /// S3 endpoint, e.g. https://s3.eu-central-003.backblazeb2.com.
    #[arg(long, env = "RECTO_ENDPOINT_URL", value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// S3 region [default: from a B2 endpoint, else us-east-1].
    #[arg(long, env = "RECTO_REGION", value_name = "REGION")]
    pub region: Option<String>,
    /// Path-style addressing (endpoint/bucket/key); on by itself for
    /// endpoints on an IP address or localhost.
    #[arg(long)]
    pub path_style: bool,
}

#[derive(Debug, Args)]
pub struct UploadArgs {
    /// Citekeys to upload from --from DIR (DIR/<citekey>.pdf), comma-separated.
    #[arg(long, value_delimiter = ',', requires = "from", value_name = "KEY,...")]
    pub citekeys: Vec<String>,
    /// Folder of <citekey>.pdf files; without --citekeys, every PDF in it.
    #[arg(
        long,
        value_name = "DIR",
        conflicts_with = "bib",
        required_unless_present = "bib"
    )]
    pub from: Option<PathBuf>,
    /// A BibTeX/BibLaTeX file (Zotero + Better BibTeX): citekeys and their `file` field.
    #[arg(long, value_name = "FILE")]
    pub bib: Option<PathBuf>,
    #[command(flatten)]
    pub store: StoreArgs,
    /// Files uploaded at once.
    #[arg(long, default_value_t = 8, value_name = "N")]
    pub concurrency: usize,
    /// Show what would be uploaded or skipped; upload and record nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Print nothing but errors.
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct OcrArgs {
    /// Citekeys to process, comma-separated (with --resume: taken from the job).
    #[arg(
        long,
        value_delimiter = ',',
        value_name = "KEY,...",
        required_unless_present = "resume"
    )]
    pub citekeys: Vec<String>,
    /// The upload job to read from [default: the newest one holding every citekey].
    #[arg(long, value_name = "JOB")]
    pub source_job_id: Option<String>,
    /// Where page results go [default: <data dir>/analytics/ocr].
    #[arg(long, value_name = "DIR")]
    pub output: Option<std::path::PathBuf>,
    /// Tesseract languages, '+'-separated, e.g. eng, eng+deu+fra.
    #[arg(long = "lang", default_value = "eng+deu+fra", value_name = "LANGS")]
    pub languages: String,
    /// Resolution for OCR and for all boxes in the page JSON.
    #[arg(long, default_value_t = 300, value_name = "N")]
    pub dpi: u32,
    /// Resolution of the stored page images (grayscale JPEG).
    #[arg(long, default_value_t = 100, value_name = "N")]
    pub image_dpi: u32,
    /// auto: text layer where usable, OCR elsewhere; force-ocr: OCR every
    /// page; text-layer-only: never OCR.
    #[arg(long, value_enum, default_value = "auto")]
    pub mode: OcrMode,
    /// Pages processed at once (one single-threaded Tesseract each)
    /// [default: all cores].
    #[arg(long, short = 'j', value_name = "N")]
    pub jobs: Option<usize>,
    /// Continue a killed or failed OCR job: pages already written are kept.
    #[arg(long, value_name = "JOB")]
    pub resume: Option<String>,
    /// Password of encrypted source PDFs.
    #[arg(long, env = "RECTO_PDF_PASSWORD", hide_env_values = true)]
    pub password: Option<String>,
    /// Give up on one page's OCR after this many seconds (the page is
    /// recorded as failed, the document goes on).
    #[arg(long, default_value_t = 180, value_name = "SECONDS")]
    pub page_timeout: u64,
    /// Do not detect and undo 90/180/270-degree page rotation.
    #[arg(long)]
    pub no_rotate: bool,
    /// Read sources from this store instead of the one their upload recorded.
    #[command(flatten)]
    pub store: StoreArgs,
    /// Print nothing but errors.
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct SyncArgs {
    /// The OCR job to sync, or `latest` (the newest job with an ocr step).
    #[arg(long, value_name = "JOB")]
    pub job_id: String,
    /// Leave the page images out (faster; JSON and full text only).
    #[arg(long)]
    pub skip_images: bool,
    /// List what would be uploaded; upload and record nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Files uploaded at once.
    #[arg(long, default_value_t = 16, value_name = "N")]
    pub concurrency: usize,
    /// Sync what is complete of a failed or unfinished OCR job.
    #[arg(long)]
    pub allow_incomplete: bool,
    #[command(flatten)]
    pub store: StoreArgs,
    /// Print nothing but errors.
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum OcrMode {
    Auto,
    ForceOcr,
    TextLayerOnly,
}

#[derive(Debug, Subcommand)]
pub enum JobsCommand {
    /// List every job, oldest first.
    List {
        /// Only jobs that ran this step (`source` for upload jobs).
        #[arg(long)]
        step: Option<String>,
        /// Print the job ids as a JSON array.
        #[arg(long)]
        json: bool,
    },
    /// Print the newest job id.
    Latest {
        #[arg(long)]
        json: bool,
    },
    /// Completed, pending, failed and stale steps of a job.
    Status {
        /// A job id (2026-01-01_21-45-14) or `latest`.
        job: String,
        #[arg(long)]
        json: bool,
    },
    /// Print a job's central registry (its complete trace) as JSON.
    Show {
        /// A job id or `latest`.
        job: String,
    },
    /// Every job that processed a citekey (`JOB > STEP: STATUS`).
    Citekey {
        citekey: String,
        #[arg(long)]
        json: bool,
    },
    /// Reserve and print a fresh job id.
    NewId,
}

#[derive(Debug, Subcommand)]
pub enum StepCommand {
    /// Print a step's metadata as JSON (`source` for an upload job).
    Show {
        step: String,
        /// A job id or `latest` (the newest job with this step).
        job: String,
    },
    /// Record a step's metadata (`source` for an upload job) and update the
    /// central registries.
    ///
    /// Example: echo '{"status": "completed", "source_job_id": "2026-01-01_21-45-14"}' |
    /// recto step save toc new --metadata -
    Save {
        step: String,
        /// A job id, or `new` for a fresh one (printed on stdout).
        job: String,
        /// A JSON file with the metadata, or `-` for stdin. A running step
        /// records the pid of the process that called recto unless `pid` is given.
        #[arg(long, value_name = "FILE")]
        metadata: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum RegistryCommand {
    /// Rescan all step and source metadata and rebuild every registry.
    Rebuild {
        #[arg(long)]
        json: bool,
    },
}
