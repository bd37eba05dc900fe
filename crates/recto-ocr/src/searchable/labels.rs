//! Printed page labels as the PDF's /PageLabels number tree, so a viewer
//! (and Zotero's annotations) show `p. 113` where the book prints 113.
//! Runs of consecutive arabic or roman numbers become one range each
//! (`/S /D /St 5`); any other label is its own literal range (`/P`); a
//! page without a known label gets an empty label, never a guessed one.

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
        match roman(l) {
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

/// The value of a roman numeral (either case, canonical form only), so
/// `ii` and `XIV` are numbers and `mix` or `ivi` are not.
fn roman(s: &str) -> Option<u32> {
    let v = |c: char| match c.to_ascii_lowercase() {
        'i' => Some(1),
        'v' => Some(5),
        'x' => Some(10),
        'l' => Some(50),
        'c' => Some(100),
        'd' => Some(500),
        'm' => Some(1000),
        _ => None,
    };
    let digits: Vec<u32> = s.chars().map(v).collect::<Option<_>>()?;
    let mut n = 0i64;
    for (i, d) in digits.iter().enumerate() {
        let d = i64::from(*d);
        if digits.get(i + 1).is_some_and(|next| i64::from(*next) > d) {
            n -= d;
        } else {
            n += d;
        }
    }
    let n = u32::try_from(n).ok().filter(|n| *n > 0 && *n < 4000)?;
    (to_roman(n) == s.to_ascii_lowercase()).then_some(n)
}

fn to_roman(mut n: u32) -> String {
    const TABLE: [(u32, &str); 13] = [
        (1000, "m"),
        (900, "cm"),
        (500, "d"),
        (400, "cd"),
        (100, "c"),
        (90, "xc"),
        (50, "l"),
        (40, "xl"),
        (10, "x"),
        (9, "ix"),
        (5, "v"),
        (4, "iv"),
        (1, "i"),
    ];
    let mut out = String::new();
    for (v, s) in TABLE {
        while n >= v {
            out.push_str(s);
            n -= v;
        }
    }
    out
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
        assert_eq!(roman("xiv"), Some(14));
        assert_eq!(roman("XLII"), Some(42));
        assert_eq!(roman("mix"), Some(1009));
        assert_eq!(roman("iiii"), None);
        assert_eq!(roman("ivi"), None);
        assert_eq!(roman("vix"), None);
        assert_eq!(Range::of(Some("007")), Range::Literal("007".into()));
        assert_eq!(Range::of(Some("Ii")), Range::Literal("Ii".into()));
    }
}
