//! Progress on stderr: a bar on a terminal, a plain line every few seconds
//! otherwise, nothing with `--quiet`.

#![allow(clippy::print_stderr)]

use std::io::IsTerminal;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use recto_steps::Progress;

/// How often a non-terminal run prints a progress line (seconds in
/// `RECTO_PROGRESS_INTERVAL`, default 10).
fn line_every() -> Duration {
    std::env::var("RECTO_PROGRESS_INTERVAL")
        .ok()
        .and_then(|v| v.parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map_or(Duration::from_secs(10), Duration::from_secs_f64)
}

#[derive(Debug)]
pub enum CliProgress {
    Quiet,
    Bar(Bars),
    Lines(Lines),
}

#[derive(Debug)]
pub struct Bars {
    items: ProgressBar,
    unit: &'static str,
    bytes_total: AtomicU64,
    bytes_done: AtomicU64,
}

#[derive(Debug)]
pub struct Lines {
    label: Mutex<String>,
    /// The last item finished (`smith2020 p12`, a file's key).
    last_item: Mutex<String>,
    unit: &'static str,
    total: AtomicU64,
    done: AtomicU64,
    bytes: AtomicU64,
    started: Instant,
    last: Mutex<Instant>,
}

impl CliProgress {
    /// `unit` names what is counted ("files", "pages").
    pub fn new(quiet: bool, unit: &'static str) -> Self {
        if quiet {
            CliProgress::Quiet
        } else if std::io::stderr().is_terminal() {
            let items = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
            CliProgress::Bar(Bars {
                items,
                unit,
                bytes_total: AtomicU64::new(0),
                bytes_done: AtomicU64::new(0),
            })
        } else {
            CliProgress::Lines(Lines {
                label: Mutex::new(String::new()),
                last_item: Mutex::new(String::new()),
                unit,
                total: AtomicU64::new(0),
                done: AtomicU64::new(0),
                bytes: AtomicU64::new(0),
                started: Instant::now(),
                last: Mutex::new(Instant::now()),
            })
        }
    }
}

impl Lines {
    fn line(&self) -> String {
        let done = self.done.load(Ordering::Relaxed);
        let secs = self.started.elapsed().as_secs_f64().max(1e-9);
        let bytes = self.bytes.load(Ordering::Relaxed);
        let last = self.last_item.lock().expect("not poisoned").clone();
        let mut s = format!(
            "{}: {done}/{} {}",
            self.label.lock().expect("not poisoned"),
            self.total.load(Ordering::Relaxed),
            self.unit,
        );
        if !last.is_empty() {
            s.push_str(&format!(" (last: {last})"));
        }
        s.push_str(&format!(", {:.1} {}/s", done as f64 / secs, self.unit));
        let total = self.total.load(Ordering::Relaxed);
        if let Some(left) = steady_eta(self.started.elapsed(), done, total) {
            s.push_str(&format!(", about {} left", short_duration(left)));
        }
        if bytes > 0 {
            s.push_str(&format!(", {:.1} MB sent", bytes as f64 / 1e6));
        }
        s
    }

    fn maybe_print(&self) {
        let mut last = self.last.lock().expect("not poisoned");
        if last.elapsed() >= line_every() {
            *last = Instant::now();
            eprintln!("{}", self.line());
        }
    }
}

impl Progress for CliProgress {
    fn begin(&self, label: &str, items: u64, bytes: Option<u64>) {
        match self {
            CliProgress::Quiet => {}
            CliProgress::Bar(b) => {
                let template = match bytes {
                    Some(_) => format!(
                        "{label} [{{bar:30}}] {{pos}}/{{len}} {} {{msg}} {{per_sec}} eta {{steady_eta}} {{prefix}}",
                        b.unit
                    ),
                    None => format!(
                        "{label} [{{bar:30}}] {{pos}}/{{len}} {} {{per_sec}} eta {{steady_eta}} {{prefix}}",
                        b.unit
                    ),
                };
                b.items.set_style(
                    ProgressStyle::with_template(&template)
                        .expect("valid template")
                        .with_key(
                            "steady_eta",
                            |s: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                                let left = steady_eta(s.elapsed(), s.pos(), s.len().unwrap_or(0));
                                let _ =
                                    write!(w, "{}", left.map_or("?".to_owned(), short_duration));
                            },
                        )
                        .progress_chars("=> "),
                );
                b.items.set_length(items);
                if let Some(total) = bytes {
                    b.bytes_total.store(total, Ordering::Relaxed);
                    b.items
                        .set_message(format!("0/{:.1} MB", total as f64 / 1e6));
                }
            }
            CliProgress::Lines(l) => {
                *l.label.lock().expect("not poisoned") = label.to_owned();
                l.total.store(items, Ordering::Relaxed);
            }
        }
    }

    fn bytes(&self, n: u64) {
        match self {
            CliProgress::Quiet => {}
            CliProgress::Bar(b) => {
                let done = b.bytes_done.fetch_add(n, Ordering::Relaxed) + n;
                let total = b.bytes_total.load(Ordering::Relaxed);
                b.items.set_message(format!(
                    "{:.1}/{:.1} MB",
                    done as f64 / 1e6,
                    total as f64 / 1e6
                ));
            }
            CliProgress::Lines(l) => {
                l.bytes.fetch_add(n, Ordering::Relaxed);
            }
        }
    }

    fn item_done(&self, item: &str, ok: bool) {
        match self {
            CliProgress::Quiet => {}
            CliProgress::Bar(b) => {
                b.items.inc(1);
                b.items.set_prefix(item.to_owned());
            }
            CliProgress::Lines(l) => {
                *l.last_item.lock().expect("not poisoned") = if ok {
                    item.to_owned()
                } else {
                    format!("{item}, failed")
                };
                l.done.fetch_add(1, Ordering::Relaxed);
                l.maybe_print();
            }
        }
    }

    fn end(&self) {
        match self {
            CliProgress::Quiet => {}
            CliProgress::Bar(b) => b.items.finish_and_clear(),
            CliProgress::Lines(l) => {
                if l.started.elapsed() >= line_every() {
                    eprintln!("{}", l.line());
                }
            }
        }
    }
}

/// Time left at the mean rate since the start: steadier than a recent
/// rate when text-layer pages (instant) and OCRed ones (seconds) come in
/// bursts. `None` before the first item is done.
fn steady_eta(elapsed: std::time::Duration, done: u64, total: u64) -> Option<std::time::Duration> {
    if done == 0 || total <= done {
        return (total > 0 && done >= total).then_some(std::time::Duration::ZERO);
    }
    Some(elapsed.mul_f64((total - done) as f64 / done as f64))
}

/// `45 s`, `12 min`, `3 h 20 min`.
fn short_duration(d: std::time::Duration) -> String {
    let s = d.as_secs();
    match s {
        0..=89 => format!("{s} s"),
        90..=5399 => format!("{} min", (s + 30) / 60),
        _ => format!("{} h {} min", s / 3600, (s % 3600) / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_eta_is_the_mean_rate_since_the_start() {
        assert_eq!(steady_eta(Duration::from_secs(10), 0, 100), None);
        assert_eq!(
            steady_eta(Duration::from_secs(10), 25, 100),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            steady_eta(Duration::from_secs(10), 100, 100),
            Some(Duration::ZERO)
        );
        // 50 slow pages in 100 s, then 10 text-layer pages in 1 s: the rate
        // of the burst (10/s) would promise 14 s for the last 140; the
        // mean rate says about 4 minutes.
        let after = steady_eta(Duration::from_secs(101), 60, 200).unwrap();
        assert_eq!(after.as_secs(), 235);
        assert_eq!(short_duration(Duration::from_secs(45)), "45 s");
        assert_eq!(short_duration(Duration::from_secs(720)), "12 min");
        assert_eq!(short_duration(Duration::from_secs(12_000)), "3 h 20 min");
    }
}
