//! Roman numerals, as books number their front matter and as PDFs label
//! pages (`/S /r`): read only in their canonical spelling, so that `IIII`,
//! `VX` or a word such as `mix` beyond the table are not numbers. Shared by
//! the TOC step, which reads printed labels, and the searchable PDF, which
//! writes them back as /PageLabels.

/// The value of a well-formed roman numeral (case-insensitive), 1..=3999.
pub fn roman_value(s: &str) -> Option<u32> {
    let upper = s.to_ascii_uppercase();
    if upper.is_empty() || !upper.chars().all(|c| "IVXLCDM".contains(c)) {
        return None;
    }
    let val = |c: char| match c {
        'I' => 1,
        'V' => 5,
        'X' => 10,
        'L' => 50,
        'C' => 100,
        'D' => 500,
        _ => 1000,
    };
    let chars: Vec<i64> = upper.chars().map(val).collect();
    let mut total: i64 = 0;
    for (i, &v) in chars.iter().enumerate() {
        if chars.get(i + 1).is_some_and(|&next| next > v) {
            total -= v;
        } else {
            total += v;
        }
    }
    let total = u32::try_from(total).ok()?;
    // Only canonical spellings: `IIII` or `VX` are words or noise.
    ((1..4000).contains(&total) && to_roman(total) == upper).then_some(total)
}

/// `value` (1..=3999) in upper-case roman numerals.
pub fn to_roman(mut value: u32) -> String {
    const TABLE: [(u32, &str); 13] = [
        (1000, "M"),
        (900, "CM"),
        (500, "D"),
        (400, "CD"),
        (100, "C"),
        (90, "XC"),
        (50, "L"),
        (40, "XL"),
        (10, "X"),
        (9, "IX"),
        (5, "V"),
        (4, "IV"),
        (1, "I"),
    ];
    let mut out = String::new();
    for (v, s) in TABLE {
        while value >= v {
            out.push_str(s);
            value -= v;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_canonical_numerals_are_numbers() {
        assert_eq!(to_roman(1984), "MCMLXXXIV");
        assert_eq!(roman_value("mcmlxxxiv"), Some(1984));
        assert_eq!(roman_value("xiv"), Some(14));
        for bad in ["iiii", "ivi", "vix", "", "abc"] {
            assert_eq!(roman_value(bad), None, "{bad}");
        }
    }
}
