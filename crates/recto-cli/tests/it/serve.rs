//! `recto serve` in a real browser: headless Chromium from the distribution
//! driven through chromedriver (WebDriver, the fantoccini client). Open the
//! library, search a word known to be on a page, click the hit, check that
//! the viewer shows that page with a highlighted box where the word is,
//! walk job -> lineage -> source. Screenshots of each page are saved under
//! `target/screenshots/`. Then the security checks over plain HTTP: path
//! traversal, encoded `..`, a symlink out of the data directory; and that
//! browsing wrote nothing.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{ClientBuilder, Locator};
use recto_test_support::TestContext;
use serde_json::Value;

use super::{page_json, recto, recto_command, stderr, stdout};

/// A child process killed when dropped.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `recto serve` with `args` on a port it picks: the running process (its
/// stderr piped) and the address it printed (`http://HOST:PORT`).
fn serve(ctx: &TestContext, args: &[&str]) -> (Killed, String) {
    let mut all = vec!["serve", "--port", "0"];
    all.extend_from_slice(args);
    let mut cmd = recto_command(ctx, &all, &[]);
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = Killed(cmd.spawn().unwrap());
    let mut line = String::new();
    BufReader::new(child.0.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .trim_end_matches('/')
        .to_owned();
    (child, base)
}

fn port_of(base: &str) -> u16 {
    base.rsplit(':').next().unwrap().parse().unwrap()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_for_port(port: u16) {
    let until = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < until, "nothing listens on port {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A plain HTTP GET: status and body.
fn get(port: u16, path: &str) -> (u16, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).unwrap();
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, text)
}

/// The text of the element `at` finds.
async fn text_of(c: &fantoccini::Client, at: Locator<'_>) -> String {
    c.find(at).await.unwrap().text().await.unwrap()
}

/// Click the element `at` finds.
async fn click(c: &fantoccini::Client, at: Locator<'_>) {
    c.find(at).await.unwrap().click().await.unwrap();
}

fn screenshots() -> PathBuf {
    let dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| recto_test_support::repo_root().join("target"))
        .join("screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Every file under `dir` but `.recto` (derived caches), with its size and
/// modification time.
fn snapshot(dir: &Path, out: &mut BTreeMap<PathBuf, (u64, std::time::SystemTime)>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.file_name().is_some_and(|n| n == ".recto") {
            continue;
        }
        let m = std::fs::symlink_metadata(&p).unwrap();
        if m.is_dir() {
            snapshot(&p, out);
        } else {
            out.insert(p, (m.len(), m.modified().unwrap()));
        }
    }
}

fn library(ctx: &TestContext) -> String {
    super::toc::write_pdf(ctx, "scan1920", &super::searchable::fixture(ctx.root()));
    super::toc::write_pdf(
        ctx,
        "born2021",
        &recto_test_support::text_pdf(&["A born-digital page about printing presses."]),
    );
    super::toc::upload(ctx);
    let o = recto(
        ctx,
        &["ocr", "--quiet", "--all", "--lang", "eng", "--dpi", "200"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let job = stdout(&recto(ctx, &["jobs", "latest"])).trim().to_owned();
    let o = recto(ctx, &["index", "--quiet"]);
    assert!(o.status.success(), "{}", stderr(&o));
    job
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_web_app_in_a_real_browser() {
    if !recto_test_support::gated("RECTO_TEST_BROWSER", "Chromium and chromedriver") {
        return;
    }
    let ctx = TestContext::new();
    let ocr_job = library(&ctx);
    let source_job = {
        let m = super::step_meta(&ctx, "ocr", &ocr_job);
        m["source_job_id"].as_str().unwrap().to_owned()
    };
    let mut before = BTreeMap::new();
    snapshot(&ctx.data_dir(), &mut before);

    // The server, on a free port; it says where.
    let (child, base) = serve(&ctx, &[]);
    assert!(base.starts_with("http://127.0.0.1:"), "{base}");
    let port = port_of(&base);

    // chromedriver, driving the distribution's Chromium headless.
    let driver_port = free_port();
    let _driver = Killed(
        Command::new("chromedriver")
            .arg(format!("--port={driver_port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver (scripts/setup.sh installs chromium-driver)"),
    );
    wait_for_port(driver_port);
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": "/usr/bin/chromium",
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                     "--disable-dev-shm-usage", "--window-size=1280,900"]
        }),
    );
    let c = ClientBuilder::rustls()
        .unwrap()
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{driver_port}"))
        .await
        .expect("a WebDriver session");
    let shots = screenshots();
    let shot = |name: &'static str| {
        let c = c.clone();
        let path = shots.join(name);
        async move {
            let png = c.screenshot().await.unwrap();
            std::fs::write(&path, png).unwrap();
        }
    };

    // The library: both citekeys, their OCR state.
    c.goto(&format!("{base}/")).await.unwrap();
    let table = c.find(Locator::Id("library")).await.unwrap();
    let text = table.text().await.unwrap();
    assert!(
        text.contains("scan1920") && text.contains("born2021"),
        "{text}"
    );
    assert!(text.contains("done"), "{text}");
    // Filtering in the page (its own script).
    let filter = c.find(Locator::Id("filter")).await.unwrap();
    filter.send_keys("scan").await.unwrap();
    let count = text_of(&c, Locator::Id("count")).await;
    assert_eq!(count, "1 of 2 citekeys");
    shot("library.png").await;

    // Search a word that is on page 2 of the scan, open the hit.
    c.goto(&format!("{base}/search?q=Gutenberg")).await.unwrap();
    let hits = c.find_all(Locator::Css("ol.hits li.hit")).await.unwrap();
    assert_eq!(hits.len(), 1);
    let first = hits[0].text().await.unwrap();
    assert!(first.contains("scan1920 · page 2"), "{first}");
    let mark = c.find(Locator::Css("ol.hits mark")).await.unwrap();
    assert_eq!(mark.text().await.unwrap(), "Gutenberg");
    shot("search.png").await;
    click(&c, Locator::Css("ol.hits a.open")).await;
    let url = c.current_url().await.unwrap();
    assert_eq!(url.path(), "/doc/scan1920");
    assert!(url.query().unwrap_or("").contains("page=2"), "{url}");
    let pageno = text_of(&c, Locator::Id("pageno")).await;
    assert!(pageno.starts_with("page 2 of 5"), "{pageno}");
    let text = text_of(&c, Locator::Id("text")).await;
    assert!(text.contains("Gutenberg"), "{text}");

    // The highlighted box sits where the OCR found the word: compare its
    // rendered rectangle, relative to the page image, with the word's box
    // relative to the page.
    let page: Value = page_json(&ctx, "scan1920", &ocr_job, 2);
    let word = page["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|b| b["lines"].as_array().unwrap())
        .flat_map(|l| l["words"].as_array().unwrap())
        .find(|w| w["text"] == "Gutenberg")
        .unwrap()
        .clone();
    let (w, h) = (
        page["width_px"].as_f64().unwrap(),
        page["height_px"].as_f64().unwrap(),
    );
    let b: Vec<f64> = word["bbox"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    let rect = c
        .execute(
            "const p = document.getElementById('page').getBoundingClientRect();\
             const h = document.querySelector('.boxes .hit').getBoundingClientRect();\
             const img = document.querySelector('#page img');\
             return [(h.left - p.left) / p.width, (h.top - p.top) / p.height,\
                     h.width / p.width, h.height / p.height, img.complete && img.naturalWidth > 0];",
            vec![],
        )
        .await
        .unwrap();
    let r = rect.as_array().unwrap();
    let got: Vec<f64> = r[..4].iter().map(|v| v.as_f64().unwrap()).collect();
    let want = [b[0] / w, b[1] / h, (b[2] - b[0]) / w, (b[3] - b[1]) / h];
    for (g, e) in got.iter().zip(want) {
        assert!((g - e).abs() < 0.01, "box {got:?}, word at {want:?}");
    }
    assert_eq!(r[4], Value::Bool(true), "the page image did not load");
    shot("viewer.png").await;

    // Job -> lineage -> source.
    click(&c, Locator::Css(&format!("a[href=\"/job/{ocr_job}\"]"))).await;
    let heading = text_of(&c, Locator::Css("main h2")).await;
    assert_eq!(heading, format!("Job {ocr_job}"));
    let lineage = text_of(&c, Locator::Css("ol.lineage")).await;
    assert!(
        lineage.contains(&source_job) && lineage.contains("ocr"),
        "{lineage}"
    );
    shot("job.png").await;
    click(
        &c,
        Locator::Css(&format!("ol.lineage a[href=\"/job/{source_job}\"]")),
    )
    .await;
    let heading = text_of(&c, Locator::Css("main h2")).await;
    assert_eq!(heading, format!("Job {source_job}"));
    // Downstream: the source's page links to the OCR job that read it.
    let lineage = text_of(&c, Locator::Css("ol.lineage")).await;
    assert!(lineage.contains(&ocr_job), "{lineage}");
    shot("source.png").await;

    // The worst pages: the scan's OCRed pages, worst first, each a link.
    c.goto(&format!("{base}/worst")).await.unwrap();
    let rows = c
        .find_all(Locator::Css("table#worst tbody tr"))
        .await
        .unwrap();
    assert!(!rows.is_empty() && rows.len() <= 5, "{} rows", rows.len());
    let first = rows[0].text().await.unwrap();
    assert!(first.contains("scan1920 p."), "{first}");
    shot("worst.png").await;
    c.close().await.unwrap();

    // No URL reaches a file outside the data directory.
    let dir = ctx.data_dir().join("analytics/ocr/scan1920").join(&ocr_job);
    let secret = ctx.root().join("secret.txt");
    std::fs::write(&secret, "not for the web").unwrap();
    std::os::unix::fs::symlink(&secret, dir.join("page_0099.jpg")).unwrap();
    assert_eq!(
        get(port, &format!("/img/scan1920/{ocr_job}/page_0002.jpg")).0,
        200
    );
    for path in [
        format!("/img/scan1920/{ocr_job}/page_0099.jpg"),
        format!("/img/scan1920/{ocr_job}/..%2F..%2F..%2F..%2Fsecret.txt"),
        format!("/img/..%2F..%2F/{ocr_job}/page_0002.jpg"),
        "/img/scan1920/..%2F..%2F/page_0002.jpg".to_owned(),
        "/doc/..%2F..%2Fsecret.txt".to_owned(),
        "/assets/..%2F..%2Fsecret.txt".to_owned(),
        "/../secret.txt".to_owned(),
        "/job/..%2F..%2Fsecret".to_owned(),
    ] {
        let (status, body) = get(port, &path);
        assert_eq!(status, 404, "{path}");
        assert!(!body.contains("not for the web"), "{path}");
    }
    std::fs::remove_file(dir.join("page_0099.jpg")).unwrap();

    // Browsing wrote nothing in the record.
    let mut after = BTreeMap::new();
    snapshot(&ctx.data_dir(), &mut after);
    assert_eq!(before, after);
    drop(child);
}

#[test]
fn serve_binds_loopback_and_warns_otherwise() {
    let ctx = TestContext::new();
    std::fs::create_dir_all(ctx.data_dir()).unwrap();
    let (mut child, base) = serve(&ctx, &["--bind", "0.0.0.0"]);
    assert!(base.starts_with("http://0.0.0.0:"), "{base}");
    let _ = child.0.kill();
    let mut err = String::new();
    child
        .0
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(err.contains("anyone who can reach this machine"), "{err}");
    // The default is loopback only.
    let o = Command::new(env!("CARGO_BIN_EXE_recto"))
        .args(["serve", "--help"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&o.stdout).contains("[default: 127.0.0.1]"));
}

/// The viewer's side navigation and the printed-label jump, over HTTP: a
/// book with printed contents after `recto toc` and `recto segment`.
#[test]
fn the_viewer_has_contents_segments_and_printed_labels() {
    let ctx = TestContext::new();
    let pages = super::toc::book("5");
    let refs: Vec<&str> = pages.iter().map(String::as_str).collect();
    super::toc::write_pdf(
        &ctx,
        "book2020",
        &recto_test_support::book_pdf(&refs, &[], None),
    );
    super::toc::upload_and_ocr(&ctx, "book2020");
    for step in ["toc", "segment"] {
        let o = recto(&ctx, &[step, "--quiet", "--citekeys", "book2020"]);
        assert!(o.status.success(), "{step}: {}", stderr(&o));
    }
    let o = recto(
        &ctx,
        &[
            "export",
            "--quiet",
            "--format",
            "pdf,md",
            "--citekeys",
            "book2020",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    // A second citekey, uploaded, never OCRed.
    super::toc::write_pdf(
        &ctx,
        "later2022",
        &recto_test_support::text_pdf(&["Uploaded and waiting."]),
    );
    super::toc::upload(&ctx);
    let toc: Value = serde_json::from_slice(
        &std::fs::read(
            ctx.data_dir()
                .join("analytics/toc/book2020/current/toc.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let labels = toc["page_labels"].as_array().unwrap();
    let (index, label) = labels
        .iter()
        .enumerate()
        .rev()
        .find_map(|(i, l)| l.as_str().map(|l| (i, l.to_owned())))
        .expect("a printed label");
    let title = toc["entries"][0]["title"].as_str().unwrap().to_owned();

    let (child, base) = serve(&ctx, &[]);
    let port = port_of(&base);
    let (status, body) = get(port, "/doc/book2020?page=1");
    assert_eq!(status, 200);
    assert!(body.contains("<h3>Contents</h3>"), "{body}");
    assert!(body.contains(&title), "{title} not in the contents nav");
    assert!(body.contains("<h3>Segments</h3>"), "no segments nav");
    let (status, body) = get(port, &format!("/doc/book2020?label={label}"));
    assert_eq!(status, 200);
    assert!(
        body.contains(&format!("page {} of {}", index + 1, labels.len())),
        "label {label} should open page {}",
        index + 1
    );
    assert!(body.contains(&format!("(p. {label})")));
    // The clean Markdown of the page's unit, beside the scan, on asking.
    let (status, md) = get(port, "/doc/book2020?page=2&view=md");
    assert_eq!(status, 200);
    assert!(
        md.contains("Clean text: ") && md.contains("id=\"markdown\""),
        "no Markdown pane"
    );
    // A citekey with nothing to show says why and where the fix is.
    let (status, later) = get(port, "/doc/later2022");
    assert_eq!(status, 404);
    assert!(later.contains("Nothing to show yet"), "{later}");
    assert!(later.contains("recto status --why later2022"), "{later}");
    assert!(
        later.contains("To fix it: <code id=\"fix\">recto ocr --citekeys later2022</code>"),
        "{later}"
    );
    assert!(later.contains("ocr: pending"), "{later}");
    // How the page was read, and how to read it again.
    assert!(body.contains("Page diagnostics"), "no diagnostics");
    assert!(body.contains("the PDF&#39;s text layer") || body.contains("the PDF's text layer"));
    assert!(body.contains("recto ocr --citekeys book2020 --mode force-ocr"));
    // The current exports, to download; nothing else by that route.
    for (file, has) in [("book2020.pdf", "%PDF"), ("book2020.md", title.as_str())] {
        assert!(
            body.contains(&format!("href=\"/export/book2020/{file}\"")),
            "{file}"
        );
        let (status, got) = get(port, &format!("/export/book2020/{file}"));
        assert_eq!(status, 200, "{file}");
        let body = got.split_once("\r\n\r\n").map_or("", |(_, b)| b);
        assert!(body.contains(has), "{file}: {}", &got[..got.len().min(300)]);
    }
    // Each unit's clean Markdown, from the segments nav; only those.
    let (_, first) = get(port, "/doc/book2020?page=1");
    let unit = first
        .split("href=\"/unit/book2020/")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("a unit download link")
        .to_owned();
    assert!(
        unit.starts_with("unit_0") && unit.ends_with(".md"),
        "{unit}"
    );
    let (status, got) = get(port, &format!("/unit/book2020/{unit}"));
    assert_eq!(status, 200);
    assert!(got.contains("text/markdown"), "{got}");
    for path in [
        "/unit/book2020/segments.json",
        "/unit/book2020/..%2F..%2F..%2Fregistry.sqlite",
    ] {
        assert_eq!(get(port, path).0, 404, "{path}");
    }
    // The original PDF, from the local store inside the data directory.
    assert!(
        body.contains("href=\"/source/book2020\""),
        "no original download"
    );
    let (status, got) = get(port, "/source/book2020");
    assert_eq!(status, 200);
    assert!(
        got.split_once("\r\n\r\n")
            .is_some_and(|(_, b)| b.starts_with("%PDF"))
    );
    for path in [
        "/source/..%2F..%2Fregistry.sqlite",
        "/source/nosuch2000",
        "/export/book2020/book2020.txt",
        "/export/book2020/toc.json",
        "/export/book2020/..%2F..%2F..%2Fregistry.sqlite",
        "/export/..%2Fbook2020/book2020.pdf",
    ] {
        assert_eq!(get(port, path).0, 404, "{path}");
    }
    // The library shows every step recto runs, whatever the pipeline.
    let (_, lib) = get(port, "/");
    for step in ["ocr", "toc", "segmentation", "export"] {
        assert!(lib.contains(&format!(">{step}</th>")), "{step}");
    }
    // A job that does not exist.
    let (status, _) = get(port, "/job/2001-01-01_00-00-00");
    assert_eq!(status, 404);
    drop(child);
}

/// The read side (the web app, `status`, `jobs`, `step show`, `text`,
/// `show`, `search`) on a data directory whose derived files are missing
/// (no index, no registries) and then on one a writer died in the middle
/// of (the `dirty` marker): right answers, and not one byte under the data
/// directory changed, `.recto/` included.
#[test]
fn reading_writes_nothing_even_on_a_dirty_or_index_less_data_dir() {
    let ctx = TestContext::new();
    let job = library(&ctx);
    let data = &ctx.data_dir();
    let reads = |label: &str| {
        let before = recto_test_support::tree_bytes(data);
        let o = recto(&ctx, &["status"]);
        assert!(stdout(&o).contains("born2021"), "{label}: {}", stderr(&o));
        let o = recto(&ctx, &["jobs", "show", &job]);
        assert!(o.status.success(), "{label}: {}", stderr(&o));
        let doc: Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(doc["job_id"], job.as_str(), "{label}");
        for args in [
            vec!["jobs", "list"],
            vec!["jobs", "status", "latest"],
            vec!["step", "show", "ocr", "latest"],
            vec!["text", "born2021"],
            vec!["show", "born2021"],
            vec!["search", "printing"],
        ] {
            let o = recto(&ctx, &args);
            assert!(o.status.success(), "{label}: {args:?}: {}", stderr(&o));
        }
        let (_server, base) = serve(&ctx, &[]);
        let port = port_of(&base);
        for path in [
            "/".to_owned(),
            format!("/job/{job}"),
            "/doc/born2021".to_owned(),
            "/search?q=printing".to_owned(),
        ] {
            let (code, body) = get(port, &path);
            assert_eq!(code, 200, "{label}: {path}: {body}");
        }
        let after = recto_test_support::tree_bytes(data);
        let changed: Vec<&PathBuf> = before
            .keys()
            .chain(after.keys())
            .filter(|p| before.get(*p) != after.get(*p))
            .collect();
        assert!(changed.is_empty(), "{label}: reading changed {changed:?}");
    };
    let internal = data.join(".recto");
    std::fs::remove_file(internal.join("index.sqlite")).unwrap();
    std::fs::remove_dir_all(data.join("analytics/job_registry")).unwrap();
    reads("index-less");
    std::fs::write(internal.join("dirty"), "a save was in progress\n").unwrap();
    reads("dirty");
}
