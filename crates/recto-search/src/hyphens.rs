//! Words broken at a line end (`Gärtner-` / `arbeit`) are indexed whole,
//! as a reader searches for them, and their two halves on the page are
//! both hits. A break is a letter, then a hyphen (`-`, soft hyphen, `¬`,
//! the Fraktur `⸗`) ending the line, then a line beginning with a
//! lower-case letter; a hyphen before a capital (`Marx-` / `Engels`) is a
//! real one and stays.

/// The hyphens that end a line where a word was broken.
const BREAKS: [char; 4] = ['-', '\u{AD}', '¬', '⸗'];

/// The first half of a broken word at the end of `line`, without its
/// hyphen: `Gärtner` for `... die Gärtner-`.
pub fn broken_tail(line: &str) -> Option<&str> {
    let t = line.trim_end();
    let hyphen = t.chars().next_back().filter(|c| BREAKS.contains(c))?;
    let body = &t[..t.len() - hyphen.len_utf8()];
    let start = body
        .char_indices()
        .rev()
        .take_while(|(_, c)| c.is_alphabetic())
        .last()
        .map(|(i, _)| i)?;
    Some(&body[start..])
}

/// The second half: the first word of `line` when it starts lower-case.
pub fn continuation(line: &str) -> Option<&str> {
    let t = line.trim_start();
    if !t.chars().next()?.is_lowercase() {
        return None;
    }
    let end = t
        .char_indices()
        .find(|(_, c)| !c.is_alphabetic())
        .map_or(t.len(), |(i, _)| i);
    Some(&t[..end])
}

/// `text` with each word broken at a line end joined on the first line
/// (`Gärtnerarbeit` then the rest of the next line); other text as it is.
pub fn dehyphenate(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = String::with_capacity(text.len());
    let mut skip = 0; // bytes of the next line already joined above
    for (i, line) in lines.iter().enumerate() {
        let line = &line[skip.min(line.len())..];
        skip = 0;
        let joined = broken_tail(line).and_then(|tail| {
            let next = lines.get(i + 1)?;
            let head = continuation(next)?;
            Some((
                tail,
                head,
                next.len() - next.trim_start().len() + head.len(),
            ))
        });
        match joined {
            Some((tail, head, used)) => {
                let cut = line.trim_end().len()
                    - line
                        .trim_end()
                        .chars()
                        .next_back()
                        .map_or(0, char::len_utf8);
                out.push_str(&line[..cut]);
                debug_assert!(line[..cut].ends_with(tail));
                out.push_str(head);
                skip = used;
            }
            None => out.push_str(line),
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broken_words_are_joined_and_real_hyphens_kept() {
        assert_eq!(
            dehyphenate("die Gärtner-\narbeit im Garten\nMarx-\nEngels Werke"),
            "die Gärtnerarbeit\n im Garten\nMarx-\nEngels Werke\n"
        );
        assert_eq!(dehyphenate("Hilfs¬\nwerkzeuge."), "Hilfswerkzeuge\n.\n");
        assert_eq!(dehyphenate("ent⸗\n  falten"), "entfalten\n\n");
        assert_eq!(dehyphenate("a - \nb"), "a - \nb\n");
        assert_eq!(broken_tail("der Gärtner-"), Some("Gärtner"));
        assert_eq!(broken_tail("10-"), None);
        assert_eq!(continuation("arbeit, die"), Some("arbeit"));
        assert_eq!(continuation("Arbeit"), None);
    }
}
