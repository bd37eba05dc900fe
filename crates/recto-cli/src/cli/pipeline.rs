//! The clap types of the pipeline's commands: which citekeys, how a job is
//! cut into shards, the store, and each step's own flags (upload, ocr,
//! toc, segment, export, sync, slurm).

use std::path::PathBuf;

use clap::{Args, Subcommand};

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

/// `I/N` of `--shard`: shard I of N, numbered from 0 as Slurm's array tasks.
pub fn parse_shard(s: &str) -> Result<(usize, usize), crate::commands::CliError> {
    s.split_once('/')
        .and_then(|(i, n)| Some((i.parse::<usize>().ok()?, n.parse::<usize>().ok()?)))
        .filter(|(i, n)| i < n)
        .ok_or_else(|| {
            crate::commands::CliError::Usage(format!(
                "--shard {s}: expected I/N with 0 <= I < N (shards are numbered from 0, as Slurm's array tasks)"
            ))
        })
}

pub(crate) fn parse_job(s: &str) -> Result<recto_registry::JobId, crate::commands::CliError> {
    recto_registry::JobId::parse(s).map_err(|e| crate::commands::CliError::Usage(e.to_string()))
}

/// Which citekeys a step that reads another step's results takes.
#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub struct WhichCitekeys {
    /// Citekeys, comma-separated.
    #[arg(long, value_delimiter = ',', value_name = "KEY,...")]
    pub citekeys: Vec<String>,
    /// Every citekey with a result of the step this one reads and no
    /// completed result of this step on it (never run, outdated, failed,
    /// interrupted).
    #[arg(long)]
    pub pending: bool,
    /// Only the citekeys whose run of this step failed or was interrupted.
    #[arg(long)]
    pub failed: bool,
    /// Every citekey with a result of the step this one reads.
    #[arg(long)]
    pub all: bool,
    /// Run shard I (0 to N-1) of the sharded job --job-id: only its
    /// citekeys; the last shard to end merges the job.
    #[arg(long, value_name = "I/N", requires = "job_id")]
    pub shard: Option<String>,
    /// Merge the shards of a sharded job into its record (refused while a
    /// shard still runs).
    #[arg(long, value_name = "JOB")]
    pub finalize: Option<String>,
}

/// One job of a per-citekey step in shards (docs/scale.md).
#[derive(Debug, Args)]
pub struct ShardArgs {
    /// Plan a new job over the selected citekeys in N shards and run
    /// nothing; then run each with --job-id JOB --shard I/N, on any machine
    /// sharing the data directory.
    #[arg(long, value_name = "N", conflicts_with_all = ["shard", "finalize"])]
    pub shards: Option<usize>,
    /// The sharded job that --shard belongs to.
    #[arg(long, value_name = "JOB", requires = "shard")]
    pub job_id: Option<String>,
}

impl WhichCitekeys {
    /// Whole, or which part of a sharded job.
    pub fn sharding(
        &self,
        extra: &ShardArgs,
    ) -> Result<recto_steps::driver::Sharding, crate::commands::CliError> {
        use recto_steps::driver::Sharding;
        if let Some(job) = &self.finalize {
            return parse_job(job).map(Sharding::Merge);
        }
        if let Some(shard) = &self.shard {
            let (index, of) = parse_shard(shard)?;
            let job = parse_job(extra.job_id.as_deref().unwrap_or_default())?;
            return Ok(Sharding::Shard { job, index, of });
        }
        Ok(extra.shards.map_or(Sharding::Whole, Sharding::Plan))
    }

    /// The steps' own selection type.
    pub fn selection(&self) -> recto_steps::harness::Selection {
        recto_steps::harness::Selection::of(&self.citekeys, self.pending, self.failed)
    }
}

#[derive(Debug, Args)]
pub struct TocArgs {
    #[command(flatten)]
    pub which: WhichCitekeys,
    #[command(flatten)]
    pub sharding: ShardArgs,
    /// The OCR job to read (an id or `latest`) [default: each citekey's
    /// newest OCR result].
    #[arg(long, value_name = "JOB")]
    pub ocr_job_id: Option<String>,
    /// Print the job's result as JSON.
    #[arg(long)]
    pub json: bool,
    /// No progress, no summary line.
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct SegmentArgs {
    #[command(flatten)]
    pub which: WhichCitekeys,
    #[command(flatten)]
    pub sharding: ShardArgs,
    /// The TOC job to read (an id or `latest`) [default: each citekey's
    /// newest table of contents].
    #[arg(long, value_name = "JOB")]
    pub toc_job_id: Option<String>,
    /// Where the Hunspell dictionaries are (they decide whether a hyphen at
    /// a line end is a break or a real hyphen).
    #[arg(
        long,
        env = "RECTO_HUNSPELL_DIR",
        default_value = recto_lexicon::DEFAULT_DIR,
        value_name = "DIR"
    )]
    pub dictionaries: std::path::PathBuf,
    /// Print the job's result as JSON.
    #[arg(long)]
    pub json: bool,
    /// No progress, no summary line.
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Formats, comma-separated: pdf (searchable), txt, md, hocr, alto.
    #[arg(
        long,
        value_delimiter = ',',
        value_name = "FORMAT,...",
        required = true
    )]
    pub format: Vec<String>,
    #[command(flatten)]
    pub which: WhichCitekeys,
    #[command(flatten)]
    pub sharding: ShardArgs,
    /// The OCR job to export (an id or `latest`) [default: each citekey's
    /// newest result].
    #[arg(long, value_name = "JOB")]
    pub ocr_job_id: Option<String>,
    /// Where to write [default: <data dir>/analytics/export].
    #[arg(long, value_name = "DIR")]
    pub out: Option<std::path::PathBuf>,
    /// Also write each exported file as DIR/<citekey>.<ext>, replacing the
    /// old one atomically: one flat folder to link from Zotero.
    #[arg(long, value_name = "DIR")]
    pub flat: Option<std::path::PathBuf>,
    /// The password of encrypted sources (or RECTO_PDF_PASSWORD); never
    /// recorded.
    #[arg(long, env = "RECTO_PDF_PASSWORD", hide_env_values = true)]
    pub password: Option<String>,
    /// Write the searchable copies of encrypted sources without
    /// encryption (without it they are refused).
    #[arg(long)]
    pub decrypt: bool,
    /// Do not add the TOC step's entries as bookmarks to PDFs that have no
    /// outline.
    #[arg(long)]
    pub no_bookmarks: bool,
    /// Keep sideways and upside-down scans as the source shows them (by
    /// default the searchable PDF shows the pages recto turned upright).
    #[arg(long)]
    pub no_rotate_pages: bool,
    /// Keep askew scans as the source shows them, the text layer on the
    /// slanted lines (by default the searchable PDF shows the pages recto
    /// levelled level, their images untouched, the text level on them).
    #[arg(long)]
    pub no_deskew_pages: bool,
    /// Print the job's result as JSON.
    #[arg(long)]
    pub json: bool,
    /// No progress, no summary line.
    #[arg(long, short)]
    pub quiet: bool,
}

pub(crate) fn parse_path_map(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((from, to)) if !from.is_empty() => Ok((from.to_owned(), to.to_owned())),
        _ => Err(format!("{s:?} is not FROM=TO")),
    }
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("input").required(true).args(["from", "bib"])))]
pub struct UploadArgs {
    /// Citekeys to upload from --from DIR (DIR/<citekey>.pdf), comma-separated.
    #[arg(long, value_delimiter = ',', requires = "from", value_name = "KEY,...")]
    pub citekeys: Vec<String>,
    /// Folder of <citekey>.pdf files, subfolders included (Zotero's storage
    /// folder has one per item); without --citekeys, every PDF in it.
    #[arg(long, value_name = "DIR", conflicts_with = "bib")]
    pub from: Option<PathBuf>,
    /// With --from: only the PDFs directly in DIR, not in its subfolders.
    #[arg(long, requires = "from")]
    pub no_recursive: bool,
    /// A BibTeX/BibLaTeX file (Zotero + Better BibTeX): citekeys and their
    /// `file` field. Entries without a PDF are skipped, with the reason.
    #[arg(long, value_name = "FILE")]
    pub bib: Option<PathBuf>,
    /// With --bib: resolve the `file` field's relative paths against DIR
    /// [default: the .bib file's folder].
    #[arg(long, value_name = "DIR", requires = "bib")]
    pub bib_base_dir: Option<PathBuf>,
    /// With --bib: rewrite paths starting with FROM to start with TO, for a
    /// .bib exported on another machine (e.g. /home/ana/Zotero=/data/zotero).
    #[arg(long, value_name = "FROM=TO", requires = "bib", value_parser = parse_path_map)]
    pub bib_path_map: Vec<(String, String)>,
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
    /// Print the outcome as one JSON object (job id, status, counts), for
    /// scripts; progress is not shown.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
#[command(group(
    clap::ArgGroup::new("which")
        .required(true)
        .multiple(true)
        .args(["citekeys", "citekeys_from", "bib", "pending", "failed", "all", "resume", "shard", "finalize"])
))]
pub struct OcrArgs {
    /// Citekeys to process, comma-separated; each is read from its newest
    /// upload unless --source-job-id names one.
    #[arg(long, value_delimiter = ',', value_name = "KEY,...")]
    pub citekeys: Vec<String>,
    /// Citekeys from a file, one a line (`-` for stdin; blank lines and
    /// lines starting with # are ignored).
    #[arg(long, value_name = "FILE|-")]
    pub citekeys_from: Option<PathBuf>,
    /// The citekeys of a BibTeX file (entries never uploaded are skipped).
    #[arg(long, value_name = "FILE")]
    pub bib: Option<PathBuf>,
    /// Every uploaded citekey without a completed OCR result on its
    /// newest upload (never run, outdated, failed, interrupted).
    #[arg(long)]
    pub pending: bool,
    /// Only the uploaded citekeys whose OCR failed or was interrupted.
    #[arg(long)]
    pub failed: bool,
    /// Every uploaded citekey.
    #[arg(long)]
    pub all: bool,
    /// Say what would be done (citekeys, sources, pages, estimated time);
    /// record and write nothing.
    #[arg(long, conflicts_with = "resume")]
    pub dry_run: bool,
    /// The upload job to read from, or `latest` [default: the newest one
    /// holding every citekey].
    #[arg(long, value_name = "JOB")]
    pub source_job_id: Option<String>,
    /// Where page results go [default: <data dir>/analytics/ocr].
    #[arg(long, value_name = "DIR")]
    pub output: Option<std::path::PathBuf>,
    /// Tesseract languages, '+'-separated, e.g. eng, eng+deu+fra
    /// [default: eng+deu+fra, or a BibTeX entry's langid]; repeat as
    /// CITEKEY=LANGS for one citekey (--lang smith2020=deu+frk).
    #[arg(long = "lang", value_name = "[CITEKEY=]LANGS")]
    pub languages: Vec<String>,
    /// Resolution for OCR and for all boxes in the page JSON, 70-1200
    /// [default: 300]. A page too large for --max-megapixels at this
    /// resolution is rendered at the highest one under the limit.
    #[arg(long, value_name = "N")]
    pub dpi: Option<u32>,
    /// Resolution of the stored page images (grayscale JPEG) [default: 100].
    #[arg(long, value_name = "N")]
    pub image_dpi: Option<u32>,
    /// auto: text layer where usable, OCR elsewhere; force-ocr: OCR every
    /// page; text-layer-only: never OCR [default: auto].
    #[arg(long, value_enum)]
    pub mode: Option<OcrMode>,
    /// The largest page image rendered, in millions of pixels [default: 100].
    #[arg(long, value_name = "MP")]
    pub max_megapixels: Option<f64>,
    /// Pages processed at once (one single-threaded Tesseract each)
    /// [default: all cores].
    #[arg(long, short = 'j', alias = "jobs", value_name = "N")]
    pub workers: Option<usize>,
    /// Continue a killed or failed OCR job (an id or `latest`): pages
    /// already written are kept, and the job's recorded settings are used.
    #[arg(long, value_name = "JOB")]
    pub resume: Option<String>,
    /// Password of encrypted source PDFs.
    #[arg(long, env = "RECTO_PDF_PASSWORD", hide_env_values = true)]
    pub password: Option<String>,
    /// Give up on one page's OCR after this many seconds (the page is
    /// recorded as failed, the document goes on) [default: 180].
    #[arg(long, value_name = "SECONDS")]
    pub page_timeout: Option<u64>,
    /// Do not detect and undo 90/180/270-degree page rotation.
    #[arg(long)]
    pub no_rotate: bool,
    /// Binarisation: one method for all pages, or auto (per page: sauvola
    /// for faint ink on white paper, else otsu; better on typescripts,
    /// worse on blurred scans) [default: otsu].
    #[arg(long, value_enum)]
    pub thresholding: Option<ThresholdingArg>,
    /// Do not read low-confidence pages a second time (the other way round,
    /// or with the other binarisation).
    #[arg(long)]
    pub no_retry: bool,
    /// Do not find and level small-angle skew on OCRed pages.
    #[arg(long)]
    pub no_deskew: bool,
    /// Read pages Tesseract's script detection finds set in Fraktur with
    /// the given languages only (by default the Fraktur model, installed
    /// by setup, is added for them; needs rotation detection).
    #[arg(long)]
    pub no_fraktur: bool,
    /// Read scans at --dpi even when the scan itself is finer (by default
    /// a 600 dpi scan is read at 600 dpi, up to 1200).
    #[arg(long)]
    pub no_native_resolution: bool,
    /// Plan a new job in N shards and run nothing: the job is recorded
    /// (running) with its plan, pages balanced by estimated cost; run each
    /// shard with --job-id JOB --shard I/N, on any machine sharing the data
    /// directory (or use `recto slurm ocr`).
    #[arg(long, value_name = "N", conflicts_with_all = ["resume", "dry_run", "shard", "finalize"])]
    pub shards: Option<usize>,
    /// Run shard I (0 to N-1) of the sharded job --job-id: only its pages;
    /// run again, it skips the pages already done. The last shard to end
    /// merges the job.
    #[arg(long, value_name = "I/N", requires = "job_id", conflicts_with_all = ["resume", "dry_run", "finalize"])]
    pub shard: Option<String>,
    /// The sharded job that --shard belongs to.
    #[arg(long, value_name = "JOB", requires = "shard")]
    pub job_id: Option<String>,
    /// Merge the shards of a sharded job into its record (completed, or
    /// failed naming the shards and citekeys); waits for no shard: refuses
    /// while one still runs.
    #[arg(long, value_name = "JOB", conflicts_with_all = ["resume", "dry_run"])]
    pub finalize: Option<String>,
    /// Read sources from this store instead of the one their upload recorded.
    #[command(flatten)]
    pub store: StoreArgs,
    /// Print nothing but errors.
    #[arg(long, short)]
    pub quiet: bool,
    /// Print the outcome as one JSON object (job id, status, counts), for
    /// scripts; progress is not shown.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum SlurmCommand {
    /// One OCR job as a Slurm array: --workers N array tasks (the job's
    /// shards, each with --cpus-per-task pages at once) and a finalize job
    /// that runs after all of them (afterany) and merges them. The data
    /// directory must be on a filesystem every node sees; sources come
    /// from the store. Slurm's job ids are recorded in the job's metadata;
    /// `recto jobs status JOB` shows each shard.
    ///
    /// Examples:
    ///   recto slurm ocr --pending --workers 32 --cpus-per-task 4 --time 02:00:00 --dry-run
    ///   recto slurm ocr --citekeys smith2020,doe2019 --workers 4 --partition short
    #[command(verbatim_doc_comment)]
    Ocr(SlurmOcrArgs),
}

#[derive(Debug, Args)]
pub struct SlurmOcrArgs {
    /// Citekeys and OCR settings as for `recto ocr`; --workers is the
    /// number of array tasks (shards) [default: 4].
    #[command(flatten)]
    pub ocr: OcrArgs,
    /// Slurm partition.
    #[arg(long, value_name = "P")]
    pub partition: Option<String>,
    /// Time limit of each task (Slurm's format, e.g. 02:00:00).
    #[arg(long, value_name = "T")]
    pub time: Option<String>,
    /// Memory of each task (e.g. 4G).
    #[arg(long, value_name = "M")]
    pub mem: Option<String>,
    /// CPUs of each task: its pages at once [default: 1].
    #[arg(long, value_name = "C", default_value_t = 1)]
    pub cpus_per_task: usize,
}

#[derive(Debug, Args)]
pub struct SyncArgs {
    /// The job to sync, or `latest` (the newest job with the step).
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
    /// Sync what is complete of a failed or unfinished job.
    #[arg(long)]
    pub allow_incomplete: bool,
    #[command(flatten)]
    pub store: StoreArgs,
    /// Print nothing but errors.
    #[arg(long, short)]
    pub quiet: bool,
    /// Print the outcome as one JSON object (job id, status, counts), for
    /// scripts; progress is not shown.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct SyncStepArgs {
    /// The step whose results to push: ocr, toc, segmentation, export, ...
    #[arg(long, default_value = "ocr", value_name = "STEP")]
    pub step: String,
    #[command(flatten)]
    pub sync: SyncArgs,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum ThresholdingArg {
    Auto,
    Otsu,
    LeptonicaOtsu,
    Sauvola,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum OcrMode {
    Auto,
    ForceOcr,
    TextLayerOnly,
}
