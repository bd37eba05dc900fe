//! Writes `samples/recto2026.pdf`, the born-digital quickstart sample.

fn main() {
    let pdf = recto_test_support::text_pdf(&[
        "recto: page-accurate text from a library of PDFs\n\nThis page has its own text layer,\nso recto reads it without OCR.",
        "A second page.\nEvery page becomes page JSON with words, lines, blocks and boxes.",
    ]);
    let out = recto_test_support::repo_root().join("samples/recto2026.pdf");
    std::fs::write(&out, pdf).expect("write sample");
}
