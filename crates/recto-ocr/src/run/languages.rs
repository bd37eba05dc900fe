//! Tesseract languages: checked before any work (installed, loadable),
//! named by their Debian package, read from BibTeX names; the Fraktur
//! models a page set in blackletter gets.

use super::config::OcrConfig;
use crate::OcrError;
use crate::tess::{Tesseract, installed_languages};

/// Check the languages before any work: each must be installed, and an
/// engine must load them.
pub fn validate_languages(cfg: &OcrConfig) -> Result<(), OcrError> {
    let langs = &cfg.languages;
    let bad_form = langs.is_empty()
        || langs
            .split('+')
            .any(|l| l.is_empty() || !l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'));
    if bad_form {
        return Err(OcrError::Language {
            languages: langs.clone(),
            reason: "languages are Tesseract codes joined with +, e.g. eng or eng+fra".into(),
        });
    }
    let installed = installed_languages(cfg.tessdata.as_deref());
    let missing: Vec<&str> = langs
        .split('+')
        .filter(|l| !installed.iter().any(|i| i == l))
        .collect();
    if !missing.is_empty() && !installed.is_empty() {
        // A language's name instead of its code: say the code.
        let named: Vec<String> = missing
            .iter()
            .filter_map(|m| language_code(m).map(|c| format!("use {c} for {m}")))
            .collect();
        let reason = if named.len() == missing.len() {
            format!(
                "{} (languages are Tesseract codes joined with +, e.g. eng+fra)",
                named.join(", ")
            )
        } else {
            let packages: Vec<String> = missing.iter().map(|m| debian_package(m)).collect();
            format!(
                "not installed: {} (Debian: apt-get install {}); installed: {}",
                missing.join(", "),
                packages.join(" "),
                installed.join(", ")
            )
        };
        return Err(OcrError::Language {
            languages: langs.clone(),
            reason,
        });
    }
    Tesseract::new(cfg.tessdata.as_deref(), langs).map(drop)
}

/// The Debian package holding a Tesseract language or script model:
/// `nld` -> `tesseract-ocr-nld`, `script/Fraktur` -> `tesseract-ocr-script-frak`.
pub fn debian_package(code: &str) -> String {
    match code.strip_prefix("script/") {
        Some(script) => {
            let short: String = script.chars().take(4).collect::<String>().to_lowercase();
            format!("tesseract-ocr-script-{short}")
        }
        None => format!("tesseract-ocr-{}", code.to_lowercase().replace('_', "-")),
    }
}

/// The Tesseract code of a language named as people (and BibTeX's
/// `langid` / `language` fields) name it: `german` -> `deu`.
pub fn language_code(name: &str) -> Option<&'static str> {
    let n = name.trim().to_lowercase();
    Some(match n.as_str() {
        "english" | "american" | "british" | "en" | "en-us" | "en-gb" | "eng" => "eng",
        "german" | "ngerman" | "deutsch" | "austrian" | "naustrian" | "de" | "de-de" | "deu" => {
            "deu"
        }
        "french" | "francais" | "français" | "fr" | "fr-fr" | "fra" => "fra",
        "italian" | "italiano" | "it" | "ita" => "ita",
        "spanish" | "español" | "espanol" | "es" | "spa" => "spa",
        "portuguese" | "portuges" | "brazilian" | "pt" | "por" => "por",
        "dutch" | "nederlands" | "nl" | "nld" => "nld",
        "latin" | "la" | "lat" => "lat",
        "greek" | "el" | "ell" => "ell",
        "russian" | "ru" | "rus" => "rus",
        "polish" | "pl" | "pol" => "pol",
        "swedish" | "sv" | "swe" => "swe",
        "danish" | "da" | "dan" => "dan",
        "norwegian" | "norsk" | "nb" | "nor" => "nor",
        "czech" | "cs" | "ces" => "ces",
        _ => return None,
    })
}

/// OSD's script confidence from which a page it finds set in Fraktur is
/// read with a Fraktur model. recto's OSD (at 150 dpi) scores the 1784
/// Fraktur pages of the corpus 3.3 and 11.3; on the corpus's 166 other
/// scanned pages (bench files and structure books, all Latin script) it
/// named no page Fraktur, and the scripts it wrongly named there scored
/// up to 1.67 (`Thai` for a handwritten note; `Cyrillic`, `Greek`,
/// `Japanese` at 0-0.87).
const FRAKTUR_MIN_CONFIDENCE: f32 = 2.0;

/// Models that read Fraktur, best first: Tesseract's Fraktur script model
/// (Debian's tesseract-ocr-script-frak) and the German Fraktur one (frk).
const FRAKTUR_MODELS: [&str; 2] = ["Fraktur", "frk"];

/// The languages to read a page with when OSD found it set in Fraktur and
/// `languages` has no Fraktur model: the first one installed, ahead of the
/// run's languages (`Fraktur+deu`). On the 1784 page pair, word F1 0.48
/// with `deu`, 0.65 with `Fraktur+deu` (docs/benchmarks.md).
pub fn fraktur_languages(
    script: &str,
    confidence: f32,
    languages: &str,
    installed: &[String],
) -> Option<String> {
    if script != "Fraktur" || confidence < FRAKTUR_MIN_CONFIDENCE {
        return None;
    }
    let given = languages
        .split('+')
        .any(|l| FRAKTUR_MODELS.contains(&l) || l == "deu_latf" || l.ends_with("/Fraktur"));
    if given {
        return None;
    }
    let model = FRAKTUR_MODELS
        .iter()
        .find(|m| installed.iter().any(|i| i == *m))?;
    Some(format!("{model}+{languages}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_set_in_fraktur_get_a_fraktur_model() {
        let installed: Vec<String> = ["deu", "eng", "frk", "Fraktur", "osd"]
            .map(String::from)
            .to_vec();
        let got = |script, conf, langs: &str| fraktur_languages(script, conf, langs, &installed);
        assert_eq!(got("Fraktur", 3.3, "deu").as_deref(), Some("Fraktur+deu"));
        assert_eq!(
            got("Fraktur", 2.0, "deu+lat").as_deref(),
            Some("Fraktur+deu+lat")
        );
        // Not sure enough, another script, or a Fraktur model given.
        assert_eq!(got("Fraktur", 1.7, "deu"), None);
        assert_eq!(got("Latin", 9.0, "deu"), None);
        assert_eq!(got("Fraktur", 5.0, "deu+frk"), None);
        assert_eq!(got("Fraktur", 5.0, "deu_latf"), None);
        // The script model missing: the German Fraktur one; neither: none.
        let frk_only: Vec<String> = ["deu", "frk"].map(String::from).to_vec();
        assert_eq!(
            fraktur_languages("Fraktur", 5.0, "deu", &frk_only).as_deref(),
            Some("frk+deu")
        );
        assert_eq!(
            fraktur_languages("Fraktur", 5.0, "deu", &installed[..2]),
            None
        );
    }
}
