//! The command line, as clap types. The global options become a typed
//! [`crate::config::Config`] once; each command's arguments become the
//! request type of its step in `commands/*`, and no clap type goes further
//! than that module.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

mod pipeline;

pub use pipeline::*;

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
    /// Take every pending citekey through the pipeline, in one command.
    ///
    /// Uploads from the .bib or folder given (or `bib` / `from` in
    /// recto.toml), then runs each step of the pipeline on what is pending
    /// for it (`ocr --pending`, the sync of each job not yet synced,
    /// `toc --pending`, `segment --pending`, `export --pending`), then
    /// `index`. Each command is recorded as when typed; one that fails does
    /// not stop the others (exit 1 names it; `recto status` says why).
    ///
    /// Examples:
    ///   recto run --bib ~/Zotero/library.bib
    ///   recto --pipeline ocr,sync_ocr,toc,segmentation,export run --from ~/papers
    #[command(verbatim_doc_comment)]
    Run(RunArgs),
    /// `recto run` again whenever the .bib or the folder changes.
    ///
    /// A change is acted on once it has held still for one interval, so a
    /// PDF still being written or a .bib half exported is never read.
    /// Ctrl-C stops the watch (and interrupts a running step cleanly).
    ///
    /// Examples:
    ///   recto watch --bib ~/Zotero/library.bib
    #[command(verbatim_doc_comment)]
    Watch(WatchArgs),
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
    /// Check what this machine has for recto: Tesseract and its languages,
    /// the Hunspell dictionaries, the data directory, disk space, the store.
    Doctor(DoctorArgs),
    /// Print shell completions (bash, zsh, fish, elvish, powershell).
    ///
    /// Examples:
    ///   recto completions bash > ~/.local/share/bash-completion/completions/recto
    ///   recto completions zsh > ~/.zfunc/_recto
    ///   recto completions fish > ~/.config/fish/completions/recto.fish
    #[command(verbatim_doc_comment)]
    Completions { shell: clap_complete::Shell },
    /// Print recto's man page, or write one page per command into --dir.
    ///
    /// Examples:
    ///   recto man | man -l -
    ///   recto man --dir ~/.local/share/man/man1
    #[command(verbatim_doc_comment)]
    Man {
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
}

#[derive(Debug, Args)]
pub struct DoctorArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// Warn when less than this much disk is free under the data directory.
    #[arg(long, default_value_t = 5.0, value_name = "GB")]
    pub min_free_gb: f64,
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
    /// Words also match one edit away (a letter changed, added, dropped or
    /// two swapped): finds OCR errors such as `selbstverstindlich`.
    #[arg(long)]
    pub fuzzy: bool,
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
pub struct RunArgs {
    /// Better BibTeX's auto-exported .bib: upload its entries' PDFs first.
    #[arg(long, value_name = "FILE", conflicts_with = "from")]
    pub bib: Option<PathBuf>,
    /// Map a path prefix of the .bib to this machine's, as for `upload`.
    #[arg(long, value_name = "FROM=TO", value_parser = parse_path_map, requires = "bib")]
    pub bib_path_map: Vec<(String, String)>,
    /// A folder of PDFs named by citekey: upload them first.
    #[arg(long, value_name = "DIR")]
    pub from: Option<PathBuf>,
    /// Only what is pending (the default, and the only mode: said for
    /// scripts that spell it out).
    #[arg(long)]
    pub pending: bool,
    /// OCR languages, as for `recto ocr --lang`.
    #[arg(long = "lang", value_name = "LANGS")]
    pub languages: Vec<String>,
    /// OCR worker threads [default: one per core].
    #[arg(long, value_name = "N")]
    pub workers: Option<usize>,
    /// What `export` writes, when the pipeline has it.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "pdf",
        value_name = "FORMAT,..."
    )]
    pub format: Vec<String>,
}

#[derive(Debug, Args)]
pub struct WatchArgs {
    #[command(flatten)]
    pub run: RunArgs,
    /// Seconds between looks at the .bib or folder.
    #[arg(long, default_value_t = 2.0, value_name = "SECONDS")]
    pub interval: f64,
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
    /// Say why each citekey is in its state: its source, each step's job,
    /// time and reason, and the command that brings it forward.
    #[arg(long, conflicts_with = "json")]
    pub why: bool,
    /// The library in figures: citekeys by state, pages, OCR CPU hours,
    /// disk use by folder.
    #[arg(long, conflicts_with_all = ["json", "why"])]
    pub summary: bool,
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
