//! The shared test context of recto's integration tests: a temporary data
//! directory per test, and helpers to find the repository's scripts and the
//! shared corpus.

use std::path::{Path, PathBuf};

/// A temporary working area for one test, removed when dropped.
#[derive(Debug)]
pub struct TestContext {
    dir: tempfile::TempDir,
}

impl TestContext {
    pub fn new() -> Self {
        TestContext {
            dir: tempfile::Builder::new()
                .prefix("recto-test-")
                .tempdir()
                .expect("temp dir"),
        }
    }

    /// The folder of this test.
    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// The data directory (`<root>/data`), not created yet.
    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }
}

impl Default for TestContext {
    fn default() -> Self {
        Self::new()
    }
}

/// The repository's top folder.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("repo root")
}

/// `../shared/corpus` beside the repository (or `RECTO_CORPUS_DIR`), when
/// it is there.
pub fn corpus_dir() -> Option<PathBuf> {
    let p = std::env::var_os("RECTO_CORPUS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("../shared/corpus"));
    p.is_dir().then_some(p)
}

/// A file of the shared corpus, or `None` after printing why the test that
/// asked for it is skipped (a clone of the repository alone has no corpus).
pub fn corpus_file(name: &str) -> Option<PathBuf> {
    match corpus_dir() {
        Some(dir) => Some(dir.join(name)),
        None => {
            #[allow(clippy::print_stderr)]
            {
                eprintln!(
                    "SKIPPED: needs {name} from the shared corpus (../shared/corpus or RECTO_CORPUS_DIR), which is absent"
                );
            }
            None
        }
    }
}

/// The corpus file `name`, or return from the calling test (skipped, with
/// the reason printed).
#[macro_export]
macro_rules! require_corpus {
    ($name:expr) => {
        match $crate::corpus_file($name) {
            Some(p) => p,
            None => return,
        }
    };
}

/// `pdf` encrypted with the user password `password` (AES-256), by qpdf
/// (installed by `scripts/setup.sh`).
pub fn encrypted_pdf(pdf: &[u8], password: &str) -> Vec<u8> {
    let dir = tempfile::tempdir().expect("temp dir");
    let (src, dst) = (dir.path().join("in.pdf"), dir.path().join("out.pdf"));
    std::fs::write(&src, pdf).expect("write");
    let ok = std::process::Command::new("qpdf")
        .args(["--encrypt", password, "owner-secret", "256", "--"])
        .arg(&src)
        .arg(&dst)
        .status()
        .expect("qpdf (scripts/setup.sh installs it)")
        .success();
    assert!(ok, "qpdf could not encrypt the fixture");
    std::fs::read(&dst).expect("read")
}

/// Every file and folder under `dir` with its bytes (a symlink: its
/// target, not followed; a folder: nothing), to show that something wrote
/// nothing.
pub fn tree_bytes(dir: &Path) -> std::collections::BTreeMap<PathBuf, Vec<u8>> {
    let mut out = std::collections::BTreeMap::new();
    let mut todo = vec![dir.to_owned()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).expect("read dir").flatten() {
            let p = e.path();
            let m = std::fs::symlink_metadata(&p).expect("metadata");
            let bytes = if m.is_symlink() {
                std::fs::read_link(&p)
                    .expect("link")
                    .into_os_string()
                    .into_encoded_bytes()
            } else if m.is_dir() {
                todo.push(p.clone());
                Vec::new()
            } else {
                std::fs::read(&p).expect("read")
            };
            out.insert(p, bytes);
        }
    }
    out
}

/// Whether the tests that need `what` (a service `scripts/test.sh` sets
/// up: Garage, Slurm, Chromium) run: only when `var` is `1`, so `cargo
/// test` alone is hermetic (it never installs, builds or starts a
/// service, and never needs root). A test that is off prints why and
/// passes as skipped; `scripts/test.sh` turns every one of them on.
/// A hold on a run started by a test (`recto_fs::hold`): the run waits at
/// `point` after `after` passes until [`Hold::release`] (or drop), so a
/// test interrupts it at a known place whatever the machine's speed.
#[derive(Debug)]
pub struct Hold {
    file: PathBuf,
    env: String,
}

impl Hold {
    /// A hold at `point` after `after` passes, its file under the test's root.
    pub fn new(ctx: &TestContext, point: &str, after: usize) -> Self {
        let file = ctx.root().join(format!("hold-{point}"));
        std::fs::write(&file, b"held").expect("write the hold file");
        let env = format!("{point}:{after}:{}", file.display());
        Hold { file, env }
    }

    /// The variable and value to give the run.
    pub fn env(&self) -> (&'static str, String) {
        ("RECTO_TEST_HOLD", self.env.clone())
    }

    /// Let the run go on.
    pub fn release(&self) {
        let _ = std::fs::remove_file(&self.file);
    }
}

impl Drop for Hold {
    fn drop(&mut self) {
        self.release();
    }
}

pub fn gated(var: &str, what: &str) -> bool {
    if std::env::var(var).is_ok_and(|v| v == "1") {
        return true;
    }
    // The skip is the test's own report, as the corpus tests print theirs.
    #[allow(clippy::print_stderr)]
    {
        eprintln!("SKIPPED: needs {what}; set {var}=1 (scripts/test.sh does)");
    }
    false
}

/// A real S3 server (Garage, single node) on 127.0.0.1, started by
/// `scripts/garage.sh` for one test and stopped (by its pid) when dropped.
#[derive(Debug)]
pub struct S3Server {
    dir: tempfile::TempDir,
    pub endpoint: String,
    pub bucket: String,
    pub access_key: String,
    pub secret_key: String,
    pub region: String,
    pub pid: u32,
}

impl S3Server {
    /// A fresh server, when the Garage tests are on (`RECTO_TEST_S3=1`,
    /// which `scripts/test.sh` sets after `scripts/garage.sh install`).
    pub fn gated() -> Option<Self> {
        gated("RECTO_TEST_S3", "Garage, the test S3 server").then(Self::start)
    }

    /// Start a fresh server with an empty bucket (Garage must be installed:
    /// `scripts/garage.sh install`).
    pub fn start() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("recto-garage-")
            .tempdir()
            .expect("temp dir");
        let out = std::process::Command::new(repo_root().join("scripts/garage.sh"))
            .arg("start")
            .arg(dir.path())
            .stderr(std::process::Stdio::inherit())
            .output()
            .expect("run scripts/garage.sh");
        assert!(out.status.success(), "scripts/garage.sh start failed");
        let text = String::from_utf8(out.stdout).expect("utf-8");
        let get = |k: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(&format!("RECTO_TEST_S3_{k}=")))
                .unwrap_or_else(|| panic!("garage.sh printed no {k}: {text}"))
                .to_owned()
        };
        S3Server {
            endpoint: get("ENDPOINT"),
            bucket: get("BUCKET"),
            access_key: get("ACCESS_KEY"),
            secret_key: get("SECRET_KEY"),
            region: get("REGION"),
            pid: get("PID").parse().expect("pid"),
            dir,
        }
    }

    /// The server's own folder (config, metadata, data).
    pub fn data_dir(&self) -> &Path {
        self.dir.path()
    }

    /// `s3://<bucket>` plus an optional prefix.
    pub fn url(&self, prefix: &str) -> String {
        if prefix.is_empty() {
            format!("s3://{}", self.bucket)
        } else {
            format!("s3://{}/{prefix}", self.bucket)
        }
    }

    /// Environment for a `recto` process talking to this server.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ACCESS_KEY_ID", self.access_key.clone()),
            ("AWS_SECRET_ACCESS_KEY", self.secret_key.clone()),
            ("RECTO_ENDPOINT_URL", self.endpoint.clone()),
            ("RECTO_REGION", self.region.clone()),
        ]
    }

    /// Kill the server at once (SIGKILL), as a crash or a dropped host would.
    pub fn kill(&self) {
        let _ = std::process::Command::new("kill")
            .arg("-9")
            .arg(self.pid.to_string())
            .status();
    }

    /// Start the stopped server again, same keys, same data.
    pub fn restart(&self) {
        let ok = std::process::Command::new(repo_root().join("scripts/garage.sh"))
            .arg("restart")
            .arg(self.dir.path())
            .status()
            .expect("run scripts/garage.sh")
            .success();
        assert!(ok, "garage restart failed");
    }

    /// Stop the server now (to test what happens when it goes away).
    pub fn stop(&self) {
        let _ = std::process::Command::new(repo_root().join("scripts/garage.sh"))
            .arg("stop")
            .arg(self.dir.path())
            .status();
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A small valid PDF with one page per entry of `pages`, each showing its
/// text in Helvetica (a text layer, no images). Different texts give
/// different bytes, so fixtures are distinct by construction.
pub fn text_pdf(pages: &[&str]) -> Vec<u8> {
    text_pdf_sized(pages, 612.0, 792.0)
}

/// [`text_pdf`] with pages of `width` x `height` points.
pub fn text_pdf_sized(pages: &[&str], width: f32, height: f32) -> Vec<u8> {
    let n = pages.len();
    // Objects: 1 catalog, 2 pages, 3 font, then (page, content) per page.
    let mut objects: Vec<String> = Vec::new();
    objects.push("<< /Type /Catalog /Pages 2 0 R >>".to_owned());
    let kids: Vec<String> = (0..n).map(|i| format!("{} 0 R", 4 + 2 * i)).collect();
    objects.push(format!(
        "<< /Type /Pages /Kids [{}] /Count {n} >>",
        kids.join(" ")
    ));
    objects.push("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_owned());
    for (i, text) in pages.iter().enumerate() {
        objects.push(format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {width} {height}] /Resources << /Font << /F1 3 0 R >> >> /Contents {} 0 R >>",
            5 + 2 * i
        ));
        let stream = page_stream(text, height);
        objects.push(format!(
            "<< /Length {} >>\nstream\n{stream}\nendstream",
            stream.len()
        ));
    }
    pdf_from_objects(&objects)
}

/// The content stream of a [`text_pdf`] page: `text`'s lines from the top.
fn page_stream(text: &str, height: f32) -> String {
    let mut stream = format!("BT /F1 14 Tf 72 {} Td 18 TL\n", height - 72.0);
    for line in text.lines() {
        let escaped = line
            .replace('\\', "\\\\")
            .replace('(', "\\(")
            .replace(')', "\\)");
        stream.push_str(&format!("({escaped}) Tj T*\n"));
    }
    stream.push_str("ET");
    stream
}

/// One outline (bookmark) item of [`book_pdf`]: its depth (1 = top), title
/// and target page (1-based; a page beyond the document makes a broken
/// destination).
#[derive(Debug, Clone)]
pub struct Bookmark<'a> {
    pub level: usize,
    pub title: &'a str,
    pub page: usize,
}

/// A text-layer PDF like [`text_pdf`] (one page per entry, lines split on
/// newlines, Helvetica 14 from the top), with an outline of `bookmarks` and,
/// when given, a /PageLabels number tree (e.g. `[0 << /S /r >> 2 << /S /D >>]`).
pub fn book_pdf(pages: &[&str], bookmarks: &[Bookmark<'_>], page_labels: Option<&str>) -> Vec<u8> {
    let n = pages.len();
    let (width, height) = (612.0f32, 792.0f32);
    // Objects: 1 catalog, 2 pages, 3 font, (page, content) per page, then
    // the outline root and its items.
    let outline_root = 4 + 2 * n;
    let item = |i: usize| outline_root + 1 + i;
    let mut objects: Vec<String> = Vec::new();
    let mut catalog = "<< /Type /Catalog /Pages 2 0 R".to_owned();
    if !bookmarks.is_empty() {
        catalog.push_str(&format!(
            " /Outlines {outline_root} 0 R /PageMode /UseOutlines"
        ));
    }
    if let Some(nums) = page_labels {
        catalog.push_str(&format!(" /PageLabels << /Nums {nums} >>"));
    }
    catalog.push_str(" >>");
    objects.push(catalog);
    let kids: Vec<String> = (0..n).map(|i| format!("{} 0 R", 4 + 2 * i)).collect();
    objects.push(format!(
        "<< /Type /Pages /Kids [{}] /Count {n} >>",
        kids.join(" ")
    ));
    objects.push("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_owned());
    for (i, text) in pages.iter().enumerate() {
        objects.push(format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {width} {height}] /Resources << /Font << /F1 3 0 R >> >> /Contents {} 0 R >>",
            5 + 2 * i
        ));
        let stream = page_stream(text, height);
        objects.push(format!(
            "<< /Length {} >>\nstream\n{stream}\nendstream",
            stream.len()
        ));
    }
    if !bookmarks.is_empty() {
        // Parent of each item: the nearest earlier item one level up.
        let parent: Vec<Option<usize>> = (0..bookmarks.len())
            .map(|i| {
                (0..i)
                    .rev()
                    .find(|&j| bookmarks[j].level + 1 == bookmarks[i].level)
                    .filter(|_| bookmarks[i].level > 1)
            })
            .collect();
        let children = |p: Option<usize>| -> Vec<usize> {
            (0..bookmarks.len()).filter(|&i| parent[i] == p).collect()
        };
        let top = children(None);
        objects.push(format!(
            "<< /Type /Outlines /First {} 0 R /Last {} 0 R /Count {} >>",
            item(top[0]),
            item(*top.last().expect("non-empty")),
            bookmarks.len()
        ));
        for (i, b) in bookmarks.iter().enumerate() {
            let siblings = children(parent[i]);
            let at = siblings.iter().position(|&s| s == i).expect("own sibling");
            let mut d = format!(
                "<< /Title ({}) /Parent {} 0 R",
                b.title,
                parent[i].map_or(outline_root, item)
            );
            if at > 0 {
                d.push_str(&format!(" /Prev {} 0 R", item(siblings[at - 1])));
            }
            if let Some(&next) = siblings.get(at + 1) {
                d.push_str(&format!(" /Next {} 0 R", item(next)));
            }
            let kids = children(Some(i));
            if !kids.is_empty() {
                d.push_str(&format!(
                    " /First {} 0 R /Last {} 0 R /Count {}",
                    item(kids[0]),
                    item(*kids.last().expect("non-empty")),
                    kids.len()
                ));
            }
            let target = if (1..=n).contains(&b.page) {
                format!("{} 0 R", 4 + 2 * (b.page - 1))
            } else {
                // A page index past the end (some producers write page
                // numbers instead of page references).
                format!("{}", b.page - 1)
            };
            d.push_str(&format!(" /Dest [{target} /XYZ 0 {height} 0] >>"));
            objects.push(d);
        }
    }
    pdf_from_objects(&objects)
}

/// A PDF of `objects` (bodies of objects 1, 2, ...; object 1 the catalog)
/// with a correct cross-reference table.
pub fn pdf_from_objects(objects: &[String]) -> Vec<u8> {
    let mut out = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut offsets = Vec::new();
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{body}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for off in offsets {
        out.extend_from_slice(format!("{off:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

/// A one-page letter PDF whose content stream draws `runs` (x, y, text) in
/// the order given, in Helvetica 12, each as its own text object: what a
/// thesis with margin notes or table cells on the baseline of a line
/// looks like inside.
pub fn runs_pdf(runs: &[(f32, f32, &str)]) -> Vec<u8> {
    let mut stream = String::new();
    for (x, y, t) in runs {
        stream.push_str(&format!("BT /F1 12 Tf {x} {y} Td ({t}) Tj ET\n"));
    }
    pdf_from_objects(&[
        "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
        "<< /Type /Pages /Kids [4 0 R] /Count 1 >>".to_owned(),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_owned(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> /Contents 5 0 R >>".to_owned(),
        format!("<< /Length {} >>\nstream\n{stream}\nendstream", stream.len()),
    ])
}

/// An image-only PDF (a "scan"): one page showing a grayscale image of
/// `width` x `height` pixels (row-major, one byte per pixel) at `dpi`.
pub fn image_pdf(gray: &[u8], width: u32, height: u32, dpi: u32) -> Vec<u8> {
    assert_eq!(gray.len(), (width * height) as usize);
    let w_pt = width as f32 * 72.0 / dpi as f32;
    let h_pt = height as f32 * 72.0 / dpi as f32;
    let content = format!("q {w_pt:.2} 0 0 {h_pt:.2} 0 0 cm /Im1 Do Q");
    let mut out = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut offsets = Vec::new();
    let obj = |out: &mut Vec<u8>, offsets: &mut Vec<usize>, body: &[u8]| {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n", offsets.len()).as_bytes());
        out.extend_from_slice(body);
        out.extend_from_slice(b"\nendobj\n");
    };
    obj(&mut out, &mut offsets, b"<< /Type /Catalog /Pages 2 0 R >>");
    obj(
        &mut out,
        &mut offsets,
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
    );
    obj(
        &mut out,
        &mut offsets,
        format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {w_pt:.2} {h_pt:.2}] /Resources << /XObject << /Im1 4 0 R >> >> /Contents 5 0 R >>"
        )
        .as_bytes(),
    );
    let mut image = format!(
        "<< /Type /XObject /Subtype /Image /Width {width} /Height {height} /ColorSpace /DeviceGray /BitsPerComponent 8 /Length {} >>\nstream\n",
        gray.len()
    )
    .into_bytes();
    image.extend_from_slice(gray);
    image.extend_from_slice(b"\nendstream");
    obj(&mut out, &mut offsets, &image);
    obj(
        &mut out,
        &mut offsets,
        format!(
            "<< /Length {} >>\nstream\n{content}\nendstream",
            content.len()
        )
        .as_bytes(),
    );
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", offsets.len() + 1).as_bytes(),
    );
    for off in &offsets {
        out.extend_from_slice(format!("{off:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            offsets.len() + 1
        )
        .as_bytes(),
    );
    out
}

/// One page of [`mixed_pdf`].
#[derive(Debug, Clone)]
pub enum MixedPage<'a> {
    /// A text-layer page like [`text_pdf`]'s.
    Text(&'a str),
    /// A "scanned" page: a grayscale image (row-major, a byte per pixel)
    /// filling a page of `width` x `height` pixels at `dpi`, with the
    /// page's /Rotate.
    Scan {
        gray: &'a [u8],
        width: u32,
        height: u32,
        dpi: u32,
        rotate: u16,
    },
}

/// A PDF mixing text-layer pages and scanned pages, as libraries have
/// them (a born-digital preface before scanned chapters). Text pages are
/// `width_pt` x `height_pt`; each scan is the size of its image. Objects:
/// 1 catalog, 2 pages, 3 font, then (page, content, [image]) per page.
pub fn mixed_pdf(pages: &[MixedPage<'_>], width_pt: f32, height_pt: f32) -> Vec<u8> {
    let mut objects: Vec<String> = vec![
        "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
        String::new(),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_owned(),
    ];
    let mut kids = Vec::new();
    for page in pages {
        let page_no = objects.len() + 1;
        kids.push(format!("{page_no} 0 R"));
        match page {
            MixedPage::Text(text) => {
                objects.push(format!(
                    "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {width_pt} {height_pt}] /Resources << /Font << /F1 3 0 R >> >> /Contents {} 0 R >>",
                    page_no + 1
                ));
                let stream = page_stream(text, height_pt);
                objects.push(format!(
                    "<< /Length {} >>\nstream\n{stream}\nendstream",
                    stream.len()
                ));
            }
            MixedPage::Scan {
                gray,
                width,
                height,
                dpi,
                rotate,
            } => {
                assert_eq!(gray.len(), (width * height) as usize);
                let w_pt = *width as f32 * 72.0 / *dpi as f32;
                let h_pt = *height as f32 * 72.0 / *dpi as f32;
                objects.push(format!(
                    "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {w_pt:.2} {h_pt:.2}] /Rotate {rotate} /Resources << /XObject << /Im1 {} 0 R >> >> /Contents {} 0 R >>",
                    page_no + 2,
                    page_no + 1
                ));
                let stream = format!("q {w_pt:.2} 0 0 {h_pt:.2} 0 0 cm /Im1 Do Q");
                objects.push(format!(
                    "<< /Length {} >>\nstream\n{stream}\nendstream",
                    stream.len()
                ));
                let hex: String = gray.iter().map(|b| format!("{b:02x}")).collect();
                objects.push(format!(
                    "<< /Type /XObject /Subtype /Image /Width {width} /Height {height} /ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /ASCIIHexDecode /Length {} >>\nstream\n{hex}>\nendstream",
                    hex.len() + 1
                ));
            }
        }
    }
    objects[1] = format!(
        "<< /Type /Pages /Kids [{}] /Count {} >>",
        kids.join(" "),
        pages.len()
    );
    pdf_from_objects(&objects)
}
