//! A light French stemmer: singular and plural of a noun or adjective
//! (`baiser` / `baisers`, `cheval` / `chevaux`, `genou` / `genoux`) index
//! as one term. Snowball's French stemmer strips verb endings as well, so
//! that `baiser` and `baisers` become different terms (`bais`, `baiser`)
//! and a reader's search for one misses the other; this filter removes
//! only the plural. It runs after lower-casing and accent folding.

use tantivy::tokenizer::{Token, TokenFilter, TokenStream, Tokenizer};

/// The filter, for a `TextAnalyzer`.
#[derive(Clone, Copy, Debug)]
pub struct FrenchPlural;

/// `word` without its plural ending: `-aux` -> `-al`, `-x` after a vowel
/// pair (`-eux`, `-oux`, `-aux` of `-au` words) dropped, a final `-s`
/// dropped (not `-ss`); words of three letters or fewer are left alone.
pub fn singular(word: &str) -> String {
    if word.chars().count() <= 3 || !word.chars().all(char::is_alphabetic) {
        return word.to_owned();
    }
    if let Some(stem) = word.strip_suffix("aux") {
        // `chevaux` -> `cheval`; `bateaux` (-eaux) -> `bateau`.
        return if stem.ends_with('e') {
            format!("{stem}au")
        } else {
            format!("{stem}al")
        };
    }
    if let Some(stem) = word.strip_suffix('x')
        && (stem.ends_with("eu") || stem.ends_with("ou"))
    {
        return stem.to_owned();
    }
    match word.strip_suffix('s') {
        Some(stem) if !stem.ends_with('s') => stem.to_owned(),
        _ => word.to_owned(),
    }
}

impl TokenFilter for FrenchPlural {
    type Tokenizer<T: Tokenizer> = Wrapper<T>;

    fn transform<T: Tokenizer>(self, tokenizer: T) -> Wrapper<T> {
        Wrapper(tokenizer)
    }
}

#[derive(Clone)]
pub struct Wrapper<T>(T);

impl<T: Tokenizer> Tokenizer for Wrapper<T> {
    type TokenStream<'a> = Stream<T::TokenStream<'a>>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> Self::TokenStream<'a> {
        Stream(self.0.token_stream(text))
    }
}

pub struct Stream<T>(T);

impl<T: TokenStream> TokenStream for Stream<T> {
    fn advance(&mut self) -> bool {
        if !self.0.advance() {
            return false;
        }
        let t = self.0.token_mut();
        let s = singular(&t.text);
        if s != t.text {
            t.text = s;
        }
        true
    }

    fn token(&self) -> &Token {
        self.0.token()
    }

    fn token_mut(&mut self) -> &mut Token {
        self.0.token_mut()
    }
}

#[cfg(test)]
mod tests {
    use super::singular;

    #[test]
    fn plurals_meet_their_singulars() {
        for (plural, one) in [
            ("baisers", "baiser"),
            ("chevaux", "cheval"),
            ("journaux", "journal"),
            ("bateaux", "bateau"),
            ("genoux", "genou"),
            ("cheveux", "cheveu"),
            ("maisons", "maison"),
            ("economiques", "economique"),
        ] {
            assert_eq!(singular(plural), singular(one), "{plural}");
        }
        // Left alone: short words, double s, words with digits.
        assert_eq!(singular("les"), "les");
        assert_eq!(singular("classe"), "classe");
        assert_eq!(singular("stress"), "stress");
        assert_eq!(singular("a4s"), "a4s");
    }
}
