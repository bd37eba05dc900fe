//! The command line, as clap types. The global options become a typed
//! [`crate::config::Config`] once; each command's arguments become the
//! request type of its step in `commands/*`, and no clap type goes further
//! than that module.

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
  2  usage error: bad flags or arguments, or a malformed job id, step name,
     citekey, language or setting
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
    /// Each citekey's table of contents, linked to physical pages and
    /// printed page labels, from its OCR result and its PDF's outline.
    ///
    /// Sources, each checked against the others: the PDF outline; page
    /// labels (the PDF's /PageLabels, or the numbers printed on the pages);
    /// printed contents pages; headings when there is neither.
    /// Output: <data dir>/analytics/toc/<citekey>/<job_id>/toc.json;
    /// metadata: <data dir>/analytics/toc/job_metadata/<job_id>.json.
    ///
    /// Examples:
    ///   recto toc --citekeys smith2020
    ///   recto toc --pending
    ///   recto toc --all --ocr-job-id 2026-01-01_21-45-14 --json
    #[command(verbatim_doc_comment)]
    Toc(TocArgs),
    /// Cut each citekey into its units (chapters, articles, front matter,
    /// bibliography, index), give every line its role, and write clean
    /// Markdown per unit: no running heads, page numbers or footnote marks
    /// in the text, paragraphs whole, words broken at line ends joined.
    ///
    /// Reads the citekey's table of contents (recto toc) and the pages it
    /// was read from. Output: <data dir>/analytics/segmentation/<citekey>/<job_id>/
    /// segments.json, unit_NNN.md, document.md.
    ///
    /// Examples:
    ///   recto segment --citekeys smith2020
    ///   recto segment --pending
    #[command(verbatim_doc_comment)]
    Segment(SegmentArgs),
    /// Export each citekey's OCR result as files other tools read: a
    /// searchable PDF (the source with an invisible text layer on its
    /// OCRed pages), plain text, Markdown (from segmentation where it
    /// exists), hOCR, ALTO 4.
    ///
    /// Output: <data dir>/analytics/export/<citekey>/<job_id>/<citekey>.pdf,
    /// .txt, .md, .hocr, .alto.xml; recorded as step `export`.
    ///
    /// Examples:
    ///   recto export --format pdf --citekeys smith2020
    ///   recto export --format hocr,alto --citekeys smith2020
    ///   recto export --format txt,md --all
    #[command(verbatim_doc_comment)]
    Export(ExportArgs),
    /// Bring the full-text search index up to date: every citekey's
    /// current OCR text, one document per page, with the printed page
    /// labels of its table of contents. Incremental: only citekeys whose
    /// current OCR or TOC result changed are indexed again.
    ///
    /// The index is derived data in <data dir>/.recto/search/ (rebuilt by
    /// --rebuild or `recto registry rebuild`).
    ///
    /// Examples:
    ///   recto index                       (every citekey with OCR text)
    ///   recto index --citekeys smith2020
    ///   recto index --rebuild
    #[command(verbatim_doc_comment)]
    Index(IndexArgs),
    /// Search the library's pages: words, "phrases", prefix*, AND, OR,
    /// NOT (or -word). Words are stemmed (English, German, French) and
    /// accents folded. Each hit: citekey, page (and printed label), score,
    /// a snippet with the matches in [[...]]; --json adds the boxes of the
    /// matching words on the page.
    ///
    /// Examples:
    ///   recto search Zariski-Topologie
    ///   recto search '"affine space" OR schem*' --citekey hartshorne1977
    ///   recto search hausdorff --limit 5 --json
    #[command(verbatim_doc_comment)]
    Search(SearchArgs),
    /// A local web app over the data directory: the library with every
    /// citekey's state, jobs with their record and lineage, a page viewer
    /// (image, OCR word boxes, text, contents, segments) and search.
    /// Read-only; binds 127.0.0.1 unless --bind says otherwise. Stop it
    /// with Ctrl-C.
    ///
    /// Examples:
    ///   recto serve                       (http://127.0.0.1:8080)
    ///   recto serve --port 9000
    #[command(verbatim_doc_comment)]
    Serve(ServeArgs),
    /// Push any step's results to the bucket, incrementally, and verify
    /// (`recto sync --step ocr` is `recto sync-ocr`).
    ///
    /// Recorded as step sync_<step>. Keys mirror the local layout:
    /// analytics/<step>/<citekey>/<job_id>/..., analytics/<step>/job_metadata/<job_id>.json.
    ///
    /// Examples:
    ///   recto sync --step ocr --job-id latest
    ///   recto sync --step toc --job-id 2026-01-01_22-30-00
    #[command(verbatim_doc_comment)]
    Sync(SyncStepArgs),
    /// The library: per citekey, its newest source and each step's state
    /// (done, failed, stale, running, outdated, pending).
    ///
    /// Examples:
    ///   recto status                      (every citekey, with a summary line)
    ///   recto status smith2020 doe2019
    ///   recto status --step ocr --json
    #[command(verbatim_doc_comment)]
    Status(StatusArgs),
    /// Print a citekey's current text (its newest completed OCR result).
    ///
    /// Pages are separated by form feeds, as in fulltext.txt.
    ///
    /// Examples:
    ///   recto text smith2020
    ///   recto text smith2020 --pages 3-7 --markdown
    ///   recto text smith2020 --job 2026-01-01_21-45-14
    #[command(verbatim_doc_comment)]
    Text(TextArgs),
    /// Show where every artifact of a citekey is: its uploads, OCR results,
    /// current links and synced copies.
    Show {
        citekey: String,
        #[arg(long)]
        json: bool,
    },
    /// Run steps on a Slurm cluster: one job, one array task per shard,
    /// and a dependent job that merges the shards into the job's record.
    #[command(subcommand)]
    Slurm(SlurmCommand),
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

fn parse_job(s: &str) -> Result<recto_registry::JobId, crate::commands::CliError> {
    recto_registry::JobId::parse(s).map_err(|e| crate::commands::CliError::Usage(e.to_string()))
}

/// Which citekeys a step that reads another step's results takes.
#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub struct WhichCitekeys {
    /// Citekeys, comma-separated.
    #[arg(long, value_delimiter = ',', value_name = "KEY,...")]
    pub citekeys: Vec<String>,
    /// Every citekey with a result of the step this one reads, and none of
    /// this step yet.
    #[arg(long)]
    pub pending: bool,
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
        use recto_steps::harness::Selection;
        if self.pending {
            Selection::Pending
        } else if self.all {
            Selection::All
        } else {
            Selection::Given(self.citekeys.clone())
        }
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
pub struct ServeArgs {
    /// The port to listen on (0: any free one).
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// The address to listen on; anything but a loopback address makes
    /// the library readable by others on the network.
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: std::net::IpAddr,
}

#[derive(Debug, Args)]
pub struct IndexArgs {
    /// Only these citekeys, comma-separated [default: every citekey with
    /// an OCR result].
    #[arg(long, value_delimiter = ',', value_name = "KEY,...")]
    pub citekeys: Vec<String>,
    /// Every citekey (the default; for symmetry with the steps).
    #[arg(long, conflicts_with = "citekeys")]
    pub all: bool,
    /// Drop the index and build it again from the OCR results.
    #[arg(long)]
    pub rebuild: bool,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
    /// No progress, no summary line.
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct SearchArgs {
    /// What to look for.
    #[arg(value_name = "QUERY", required = true, num_args = 1..)]
    pub query: Vec<String>,
    /// Only this citekey's pages.
    #[arg(long, value_name = "KEY")]
    pub citekey: Option<String>,
    /// At most this many hits [default: 20].
    #[arg(long, short = 'n', default_value_t = 20, value_name = "N")]
    pub limit: usize,
    /// The hits as JSON, with the boxes of the matching words.
    #[arg(long)]
    pub json: bool,
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
        default_value = recto_ocr::lexicon::DEFAULT_DIR,
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

#[derive(Debug, Args)]
pub struct TextArgs {
    pub citekey: String,
    /// Pages, 1-based: `5` or `3-7` [default: all].
    #[arg(long, value_name = "N|FIRST-LAST", value_parser = parse_pages)]
    pub pages: Option<(usize, usize)>,
    /// The OCR job to read (an id or `latest`) [default: the citekey's current result].
    #[arg(long, value_name = "JOB")]
    pub job: Option<String>,
    /// A `## Page N` heading before each page instead of form feeds.
    #[arg(long)]
    pub markdown: bool,
}

fn parse_path_map(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((from, to)) if !from.is_empty() => Ok((from.to_owned(), to.to_owned())),
        _ => Err(format!("{s:?} is not FROM=TO")),
    }
}

fn parse_pages(s: &str) -> Result<(usize, usize), String> {
    let bad = || format!("{s:?} is not a page or a range of pages (5, 3-7)");
    let (a, b) = s.split_once('-').unwrap_or((s, s));
    let a: usize = a.trim().parse().map_err(|_| bad())?;
    let b: usize = b.trim().parse().map_err(|_| bad())?;
    if a == 0 || b < a {
        return Err(bad());
    }
    Ok((a, b))
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Citekeys to show [default: every citekey the registry knows].
    pub citekeys: Vec<String>,
    /// Only this step [default: the pipeline's steps].
    #[arg(long, value_name = "STEP")]
    pub step: Option<String>,
    /// Print the states as JSON.
    #[arg(long)]
    pub json: bool,
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
        .args(["citekeys", "citekeys_from", "bib", "pending", "all", "resume", "shard", "finalize"])
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
    /// Every uploaded citekey whose OCR is pending or outdated.
    #[arg(long)]
    pub pending: bool,
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

#[derive(Debug, Subcommand)]
pub enum JobsCommand {
    /// List every job, oldest first.
    List {
        /// Only jobs that ran this step (`source` for upload jobs).
        #[arg(long)]
        step: Option<String>,
        /// Print the job ids as a JSON array (with --long: each job's steps
        /// and their status, as the human listing shows them).
        #[arg(long)]
        json: bool,
        /// With --json: every job with its steps and statuses, not only its id.
        #[arg(long, requires = "json")]
        long: bool,
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
    /// Print a step's metadata as JSON (`source` or `upload` for an upload job).
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
