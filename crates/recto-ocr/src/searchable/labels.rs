//! Printed page labels as the PDF's /PageLabels number tree, so a viewer
//! (and Zotero's annotations) show `p. 113` where the book prints 113.
//! Runs of consecutive arabic or roman numbers become one range each
//! (`/S /D /St 5`); any other label is its own literal range (`/P`); a
//! page without a known label gets an empty label, never a guessed one.

use recto_page::roman::roman_value;

/// One range of the number tree: from page index `start`, labelled so.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Range {
    /// Arabic numbers from `n`.
    Decimal(u32),
    /// Lower-case roman numbers from `n`.
    RomanLower(u32),
    /// Upper-case roman numbers from `n`.
    RomanUpper(u32),
    /// This one page's label as given.
    Literal(String),
    /// No label known.
    Empty,
}

impl Range {
    /// The range `label` starts.
    fn of(label: Option<&str>) -> Range {
        let Some(l) = label.map(str::trim).filter(|l| !l.is_empty()) else {
            return Range::Empty;
        };
        if let Ok(n) = l.parse::<u32>()
            && n > 0
            && !l.starts_with('0')
        {
            return Range::Decimal(n);
        }
        match roman_value(l) {
            Some(n) if l.chars().all(|c| c.is_ascii_lowercase()) => Range::RomanLower(n),
            Some(n) if l.chars().all(|c| c.is_ascii_uppercase()) => Range::RomanUpper(n),
            _ => Range::Literal(l.to_owned()),
        }
    }

    /// Whether `next` continues this range `k` pages after its start.
    fn continues(&self, k: u32, next: &Range) -> bool {
        match (self, next) {
            (Range::Decimal(a), Range::Decimal(b))
            | (Range::RomanLower(a), Range::RomanLower(b))
            | (Range::RomanUpper(a), Range::RomanUpper(b)) => a + k == *b,
            (Range::Empty, Range::Empty) => true,
            _ => false,
        }
    }

    fn pdf(&self) -> String {
        match self {
            Range::Decimal(n) => format!("<< /S /D /St {n} >>"),
            Range::RomanLower(n) => format!("<< /S /r /St {n} >>"),
            Range::RomanUpper(n) => format!("<< /S /R /St {n} >>"),
            Range::Literal(s) => format!("<< /P {} >>", super::text_string(s)),
            Range::Empty => "<< /P () >>".to_owned(),
        }
    }
}

/// The /PageLabels dictionary for `labels` (one per page), or `None` when
/// no page has a label.
pub fn page_labels_dict(labels: &[Option<String>]) -> Option<String> {
    if labels.iter().all(Option::is_none) {
        return None;
    }
    let mut nums: Vec<(usize, Range)> = Vec::new();
    for (i, l) in labels.iter().enumerate() {
        let r = Range::of(l.as_deref());
        if let Some((start, open)) = nums.last()
            && open.continues((i - start) as u32, &r)
        {
            continue;
        }
        nums.push((i, r));
    }
    let body: Vec<String> = nums
        .iter()
        .map(|(i, r)| format!("{i} {}", r.pdf()))
        .collect();
    Some(format!("<< /Nums [{}] >>", body.join(" ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(v: &[Option<&str>]) -> Vec<Option<String>> {
        v.iter().map(|l| l.map(str::to_owned)).collect()
    }

    #[test]
    fn runs_become_ranges_and_unknown_pages_stay_unlabelled() {
        let l = labels(&[
            None,
            Some("i"),
            Some("ii"),
            Some("iii"),
            Some("1"),
            Some("2"),
            None,
            Some("4"),
            Some("A-1"),
        ]);
        assert_eq!(
            page_labels_dict(&l).unwrap(),
            "<< /Nums [0 << /P () >> 1 << /S /r /St 1 >> 4 << /S /D /St 1 >> 6 << /P () >> 7 << /S /D /St 4 >> 8 << /P <FEFF0041002D0031> >>] >>"
        );
        assert_eq!(page_labels_dict(&labels(&[None, None])), None);
    }

    #[test]
    fn only_canonical_roman_numerals_count() {
        assert_eq!(Range::of(Some("xiv")), Range::RomanLower(14));
        assert_eq!(Range::of(Some("XLII")), Range::RomanUpper(42));
        assert_eq!(Range::of(Some("ivi")), Range::Literal("ivi".into()));
        assert_eq!(Range::of(Some("007")), Range::Literal("007".into()));
        assert_eq!(Range::of(Some("Ii")), Range::Literal("Ii".into()));
    }
}
