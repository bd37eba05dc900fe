//! The bibliographic fields of each citekey (author, title, year), as the
//! uploads recorded them from the .bib (`bib` in the source metadata; the
//! newest upload that names a citekey wins). Read here for `status`,
//! `show`, search hits, Python and the web app.

use std::collections::BTreeMap;

use recto_registry::Registry;
use serde::{Deserialize, Serialize};

/// What a .bib entry says of a source.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bib {
    /// As the .bib writes it: `Bebel, August and Engels, Friedrich`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub year: Option<String>,
}

impl Bib {
    /// Whether it says anything.
    pub fn is_empty(&self) -> bool {
        self.author.is_none() && self.title.is_none() && self.year.is_none()
    }

    /// The authors' family names: `Bebel`, `Bebel & Engels`, `Bebel et al.`
    pub fn authors_short(&self) -> Option<String> {
        let names: Vec<&str> = self
            .author
            .as_deref()?
            .split(" and ")
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(|n| match n.split_once(',') {
                Some((family, _)) => family.trim(),
                None => n.rsplit(' ').next().unwrap_or(n),
            })
            .collect();
        match names.as_slice() {
            [] => None,
            [one] => Some((*one).to_owned()),
            [a, b] => Some(format!("{a} & {b}")),
            [a, ..] => Some(format!("{a} et al.")),
        }
    }

    /// `Bebel 1879, Die Frau und der Sozialismus`, for a line of output.
    pub fn line(&self) -> String {
        let who = [self.authors_short(), self.year.clone()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        match (&self.title, who.is_empty()) {
            (Some(t), true) => t.clone(),
            (Some(t), false) => format!("{who}, {t}"),
            (None, _) => who,
        }
    }
}

/// Every citekey's fields, from all uploads (the newest wins).
pub fn bibliography(registry: &Registry) -> BTreeMap<String, Bib> {
    let mut out = BTreeMap::new();
    let Ok(jobs) = registry.list_all_jobs(Some("source")) else {
        return out;
    };
    // Oldest first, so a newer upload's fields replace an older one's.
    for job in jobs {
        let Ok(meta) = registry.get_source_metadata(&job) else {
            continue;
        };
        let Some(bib) = meta.get("bib").and_then(|b| b.as_object()) else {
            continue;
        };
        for (key, v) in bib {
            if let Ok(b) = serde_json::from_value::<Bib>(v.clone()) {
                out.insert(key.clone(), b);
            }
        }
    }
    out
}

/// One citekey's fields: from the newest upload that names it and recorded
/// them. Reads only the uploads of that citekey (the registry's index says
/// which), so a page view or a search hit does not read every upload.
pub fn bib_of(registry: &Registry, citekey: &str) -> Option<Bib> {
    let mut uploads: Vec<String> = registry
        .find_jobs_for_citekey(citekey)
        .ok()?
        .into_iter()
        .filter(|j| j.step == recto_registry::SOURCE_STEP_LABEL)
        .map(|j| j.job_id)
        .collect();
    uploads.sort();
    uploads.into_iter().rev().find_map(|job| {
        let meta = registry
            .get_source_metadata(&recto_registry::JobId::parse(&job).ok()?)
            .ok()?;
        serde_json::from_value(meta.get("bib")?.get(citekey)?.clone()).ok()
    })
}

/// The fields of `citekeys`, or of every citekey when none is named.
pub fn bib_for(registry: &Registry, citekeys: &[String]) -> BTreeMap<String, Bib> {
    if citekeys.is_empty() {
        return bibliography(registry);
    }
    citekeys
        .iter()
        .filter_map(|k| Some((k.clone(), bib_of(registry, k)?)))
        .collect()
}

/// The library view's states as JSON, each with its `bib` beside when an
/// upload recorded one, and `same_pdf_as`: the other citekeys whose newest
/// upload is the very same file (sha256). What `status --json` and Python
/// answer.
pub fn states_with_bib(
    states: &[recto_registry::CitekeyState],
    bib: &BTreeMap<String, Bib>,
) -> serde_json::Value {
    let twins = same_pdf(states);
    let with = |s: &recto_registry::CitekeyState| {
        let mut v = serde_json::to_value(s).unwrap_or(serde_json::Value::Null);
        if let Some(obj) = v.as_object_mut() {
            if let Some(b) = bib.get(&s.citekey) {
                obj.insert("bib".into(), serde_json::to_value(b).unwrap_or_default());
            }
            if let Some(t) = twins.get(&s.citekey) {
                obj.insert(
                    "same_pdf_as".into(),
                    serde_json::to_value(t).unwrap_or_default(),
                );
            }
        }
        v
    };
    serde_json::Value::Array(states.iter().map(with).collect())
}

/// For each citekey whose newest upload has the same sha256 as another's,
/// those others: one PDF filed under two citekeys.
pub fn same_pdf(states: &[recto_registry::CitekeyState]) -> BTreeMap<String, Vec<String>> {
    let mut by_sha: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for s in states {
        if let Some(sha) = s.source.as_ref().and_then(|x| x.sha256.as_deref()) {
            by_sha.entry(sha).or_default().push(&s.citekey);
        }
    }
    let mut out = BTreeMap::new();
    for keys in by_sha.values().filter(|k| k.len() > 1) {
        for k in keys {
            let others = keys
                .iter()
                .filter(|o| *o != k)
                .map(|o| (*o).to_owned())
                .collect();
            out.insert((*k).to_owned(), others);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_authors_and_lines() {
        let b = |a: &str| Bib {
            author: Some(a.into()),
            title: Some("Die Frau".into()),
            year: Some("1879".into()),
        };
        assert_eq!(b("Bebel, August").line(), "Bebel 1879, Die Frau");
        assert_eq!(
            b("August Bebel and Engels, Friedrich")
                .authors_short()
                .unwrap(),
            "Bebel & Engels"
        );
        assert_eq!(
            b("A, B and C, D and E, F").authors_short().unwrap(),
            "A et al."
        );
        assert_eq!(Bib::default().line(), "");
    }
}
