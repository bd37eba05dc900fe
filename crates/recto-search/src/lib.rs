//! The full-text index of a library: one tantivy document per page
//! (citekey, OCR job, page, printed label, language, text), analysed by
//! language (Snowball stemming for English, German and French, accents
//! folded for all), searched with words, "phrases", prefix*, AND/OR/NOT.
//! A hit carries a snippet with its matches marked, and the words of its
//! page that match can be found again with their boxes.
//!
//! The index is derived data: it knows nothing of the registry; the caller
//! says which pages to put in and takes care of what is current.

use std::collections::BTreeSet;
use std::path::Path;

use recto_page::PageJson;
use serde::{Deserialize, Serialize};
use tantivy::collector::{Count, TopDocs};
use tantivy::query::{BooleanQuery, Occur, Query, QueryParser, TermQuery};
use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing,
    TextOptions, Value,
};
use tantivy::snippet::SnippetGenerator;
use tantivy::tokenizer::{
    AsciiFoldingFilter, Language, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer,
    TextAnalyzer,
};
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term};

mod french;
mod hyphens;

pub use hyphens::{broken_tail, continuation, dehyphenate};

/// Bumped when the schema or the analysis changes; an index of another
/// version is refused with a hint to rebuild it.
pub const INDEX_VERSION: u32 = 4;

#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("search index {path}: {source}")]
    Index {
        path: String,
        #[source]
        source: tantivy::TantivyError,
    },
    #[error("search index {path}: {reason}; it must be built again")]
    Incompatible { path: String, reason: String },
    #[error("cannot understand the query {query:?}: {reason}")]
    Query { query: String, reason: String },
    #[error("search index: {0}")]
    Tantivy(#[from] tantivy::TantivyError),
}

/// The analysis a page's text gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    En,
    De,
    Fr,
    Other,
}

impl Lang {
    pub const ALL: [Lang; 4] = [Lang::En, Lang::De, Lang::Fr, Lang::Other];

    /// From a Tesseract language setting (`eng+fra`): its first language.
    pub fn from_tesseract(languages: &str) -> Lang {
        match languages.split('+').next().unwrap_or("") {
            "eng" | "en" => Lang::En,
            "deu" | "de" | "frk" | "deu_latf" | "Fraktur" => Lang::De,
            "fra" | "fr" => Lang::Fr,
            _ => Lang::Other,
        }
    }

    fn index(self) -> usize {
        self as usize
    }

    /// Its name in the index (and in `Hit::lang`).
    fn as_str(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::De => "de",
            Lang::Fr => "fr",
            Lang::Other => "other",
        }
    }

    fn from_str(s: &str) -> Lang {
        Lang::ALL
            .into_iter()
            .find(|l| l.as_str() == s)
            .unwrap_or(Lang::Other)
    }

    fn tokenizer(self) -> &'static str {
        match self {
            Lang::En => "recto_en",
            Lang::De => "recto_de",
            Lang::Fr => "recto_fr",
            Lang::Other => "recto_other",
        }
    }

    fn analyzer(self) -> TextAnalyzer {
        let base = TextAnalyzer::builder(SimpleTokenizer::default())
            .filter(RemoveLongFilter::limit(48))
            .filter(LowerCaser)
            .filter(AsciiFoldingFilter);
        match self {
            Lang::En => base.filter(Stemmer::new(Language::English)).build(),
            Lang::De => base.filter(Stemmer::new(Language::German)).build(),
            // Plurals only: Snowball's French also strips verb endings
            // (`baiser` -> `bais`, `baisers` -> `baiser`).
            Lang::Fr => base.filter(french::FrenchPlural).build(),
            Lang::Other => base.build(),
        }
    }
}

/// One page to index.
#[derive(Debug, Clone)]
pub struct PageDoc {
    pub citekey: String,
    pub job: String,
    /// 1-based.
    pub page: u64,
    pub label: Option<String>,
    pub lang: Lang,
    pub text: String,
    /// Where the page JSON is, relative to the data directory (for boxes).
    pub json: String,
    /// The .bib entry's fields, searchable as `author:`, `title:`, `year:`.
    pub author: Option<String>,
    pub title: Option<String>,
    pub year: Option<String>,
}

#[derive(Debug, Clone, Copy)]
struct Fields {
    citekey: Field,
    job: Field,
    page: Field,
    label: Field,
    lang: Field,
    json: Field,
    text: [Field; 4],
    author: Field,
    title: Field,
    year: Field,
}

/// An open index.
pub struct SearchIndex {
    index: Index,
    reader: IndexReader,
    f: Fields,
    path: String,
}

impl std::fmt::Debug for SearchIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SearchIndex")
            .field("path", &self.path)
            .finish()
    }
}

fn schema() -> Schema {
    let mut b = Schema::builder();
    b.add_text_field("citekey", STRING | STORED);
    b.add_text_field("job", STRING | STORED);
    b.add_u64_field("page", INDEXED | STORED | FAST);
    b.add_text_field("label", STORED);
    b.add_text_field("lang", STRING | STORED);
    b.add_text_field("json", STORED);
    // The .bib's fields, folded but not stemmed (names are not words).
    let bib = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(Lang::Other.tokenizer())
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    b.add_text_field("author", bib.clone());
    b.add_text_field("title", bib);
    b.add_text_field("year", STRING);
    for lang in Lang::ALL {
        let opts = TextOptions::default()
            .set_indexing_options(
                TextFieldIndexing::default()
                    .set_tokenizer(lang.tokenizer())
                    .set_index_option(IndexRecordOption::WithFreqsAndPositions),
            )
            .set_stored();
        b.add_text_field(&format!("text_{}", lang.tokenizer()), opts);
    }
    b.build()
}

impl SearchIndex {
    /// Open the index in `dir`, creating it when the folder is empty or
    /// missing.
    pub fn open(dir: &Path) -> Result<SearchIndex, SearchError> {
        let path = dir.display().to_string();
        let err = |source| SearchError::Index {
            path: path.clone(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(|e| err(e.into()))?;
        let version_file = dir.join("recto-index-version");
        let fresh = std::fs::read_dir(dir)
            .map_err(|e| err(e.into()))?
            .next()
            .is_none();
        let index = if fresh {
            let index = Index::create_in_dir(dir, schema()).map_err(err)?;
            std::fs::write(&version_file, INDEX_VERSION.to_string()).map_err(|e| err(e.into()))?;
            index
        } else {
            let version = std::fs::read_to_string(&version_file).unwrap_or_default();
            if version.trim() != INDEX_VERSION.to_string() {
                return Err(SearchError::Incompatible {
                    path,
                    reason: format!(
                        "made by another version of recto (index version {:?}, this one {INDEX_VERSION})",
                        version.trim()
                    ),
                });
            }
            Index::open_in_dir(dir).map_err(err)?
        };
        for lang in Lang::ALL {
            index
                .tokenizers()
                .register(lang.tokenizer(), lang.analyzer());
        }
        let s = index.schema();
        let field = |name: &str| s.get_field(name);
        let f = (|| -> Result<Fields, tantivy::TantivyError> {
            Ok(Fields {
                citekey: field("citekey")?,
                job: field("job")?,
                page: field("page")?,
                label: field("label")?,
                lang: field("lang")?,
                json: field("json")?,
                text: [
                    field("text_recto_en")?,
                    field("text_recto_de")?,
                    field("text_recto_fr")?,
                    field("text_recto_other")?,
                ],
                author: field("author")?,
                title: field("title")?,
                year: field("year")?,
            })
        })()
        .map_err(|e| SearchError::Incompatible {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .map_err(err)?;
        Ok(SearchIndex {
            index,
            reader,
            f,
            path,
        })
    }

    /// A writer (one at a time per index: tantivy locks the folder).
    pub fn writer(&self) -> Result<Writer, SearchError> {
        let w = self.index.writer(64_000_000)?;
        Ok(Writer { w, f: self.f })
    }

    /// See what the last commit wrote.
    pub fn reload(&self) -> Result<(), SearchError> {
        Ok(self.reader.reload()?)
    }

    /// Pages in the index.
    pub fn num_pages(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// Ranked hits for `req`.
    pub fn search(&self, req: &SearchRequest) -> Result<SearchResults, SearchError> {
        let (query, prefixes) = self.parse(&req.query, req.fuzzy)?;
        let query: Box<dyn Query> = match &req.citekey {
            Some(k) => Box::new(BooleanQuery::new(vec![
                (Occur::Must, query),
                (
                    Occur::Must,
                    Box::new(TermQuery::new(
                        Term::from_field_text(self.f.citekey, k),
                        IndexRecordOption::Basic,
                    )),
                ),
            ])),
            None => query,
        };
        let searcher = self.reader.searcher();
        let (top, total) = searcher.search(
            &query,
            &(
                TopDocs::with_limit(req.limit.max(1)).order_by_score(),
                Count,
            ),
        )?;
        let mut generators = Vec::with_capacity(4);
        for lang in Lang::ALL {
            let mut g = SnippetGenerator::create(&searcher, &*query, self.f.text[lang.index()])?;
            g.set_max_num_chars(req.snippet_chars);
            generators.push(g);
        }
        let mut terms: BTreeSet<String> = BTreeSet::new();
        query.query_terms(&mut |term, _| {
            if let Some(t) = term.value().as_str() {
                terms.insert(t.to_owned());
            }
        });
        // A fuzzy query does not list its terms: the query's words, as
        // each language analyses them, are what a page's words are held to.
        if req.fuzzy {
            for lang in Lang::ALL {
                let mut a = lang.analyzer();
                let mut stream = a.token_stream(&req.query);
                while let Some(t) = stream.next() {
                    if !["or", "and", "not"].contains(&t.text.as_str()) {
                        terms.insert(t.text.clone());
                    }
                }
            }
        }
        let mut hits = Vec::with_capacity(top.len());
        for (score, addr) in top {
            let doc: TantivyDocument = searcher.doc(addr)?;
            let text = |f: Field| doc.get_first(f).and_then(|v| v.as_str()).map(str::to_owned);
            let lang = Lang::from_str(text(self.f.lang).as_deref().unwrap_or(""));
            let snippet = generators[lang.index()].snippet_from_doc(&doc);
            let mut fragment = snippet.fragment().to_owned();
            let mut highlights: Vec<[usize; 2]> = snippet
                .highlighted()
                .iter()
                .map(|r| [r.start, r.end])
                .collect();
            if fragment.is_empty() && req.fuzzy {
                // A fuzzy term is not one the snippet generator knows: cut
                // the snippet around the first word one edit from a term.
                let body = text(self.f.text[lang.index()]).unwrap_or_default();
                (fragment, highlights) = fuzzy_snippet(&body, &terms, lang, req.snippet_chars);
            }
            hits.push(Hit {
                citekey: text(self.f.citekey).unwrap_or_default(),
                job: text(self.f.job).unwrap_or_default(),
                page: doc
                    .get_first(self.f.page)
                    .and_then(|v| v.as_u64())
                    .unwrap_or(0),
                label: text(self.f.label),
                lang,
                score,
                snippet: fragment,
                highlights,
                json: text(self.f.json).unwrap_or_default(),
            });
        }
        Ok(SearchResults {
            total,
            hits,
            matcher: Matcher {
                terms: terms.into_iter().collect(),
                prefixes,
                fuzzy: req.fuzzy,
            },
        })
    }

    /// The query as tantivy understands it, words ANDed by default. A word
    /// ending in `*` (outside quotes) is a prefix, matched against the
    /// indexed (folded, stemmed) words of every language field; it joins
    /// the rest with AND, or with OR when the query says OR, or is excluded
    /// when it starts with `-`.
    fn parse(&self, q: &str, fuzzy: bool) -> Result<(Box<dyn Query>, Vec<String>), SearchError> {
        let bad = |reason: String| SearchError::Query {
            query: q.to_owned(),
            reason,
        };
        let mut parser = QueryParser::for_index(&self.index, self.f.text.to_vec());
        parser.set_conjunction_by_default();
        if fuzzy {
            for f in self.f.text {
                parser.set_field_fuzzy(f, false, 1, true);
            }
        }
        let mut rest = String::with_capacity(q.len());
        let mut prefixes: Vec<(bool, String)> = Vec::new();
        let mut in_quotes = false;
        let mut any_or = false;
        for piece in q.split_inclusive(char::is_whitespace) {
            let word = piece.trim_end();
            let quotes = word.matches('"').count();
            let bare = word.trim_start_matches(['-', '+']);
            if !in_quotes
                && quotes == 0
                && bare.len() > 1
                && bare.ends_with('*')
                && !bare.contains(':')
            {
                let stem = fold(bare.trim_end_matches('*'));
                if stem.is_empty() {
                    return Err(bad(format!("{word:?} is a prefix of nothing")));
                }
                prefixes.push((word.starts_with('-'), stem));
                continue;
            }
            if !in_quotes && word == "OR" {
                any_or = true;
            }
            rest.push_str(piece);
            if quotes % 2 == 1 {
                in_quotes = !in_quotes;
            }
        }
        let rest = rest.trim();
        // A dangling operator left by a removed prefix ("a OR b*").
        let rest = rest
            .trim_end_matches(" OR")
            .trim_end_matches(" AND")
            .trim_start_matches("OR ")
            .trim_start_matches("AND ")
            .trim();
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let join = if any_or { Occur::Should } else { Occur::Must };
        if !rest.is_empty() && rest != "OR" && rest != "AND" {
            let parsed = parser.parse_query(rest).map_err(|e| bad(e.to_string()))?;
            clauses.push((join, parsed));
        }
        let mut folded = Vec::new();
        for (negated, stem) in prefixes {
            let pattern: String = stem
                .chars()
                .map(|c| {
                    if c.is_alphanumeric() {
                        c.to_string()
                    } else {
                        format!("\\{c}")
                    }
                })
                .collect::<String>()
                + ".*";
            let mut per_field: Vec<(Occur, Box<dyn Query>)> = Vec::new();
            for f in self.f.text {
                let rq = tantivy::query::RegexQuery::from_pattern(&pattern, f)
                    .map_err(|e| bad(e.to_string()))?;
                per_field.push((Occur::Should, Box::new(rq)));
            }
            let occur = if negated { Occur::MustNot } else { join };
            clauses.push((occur, Box::new(BooleanQuery::new(per_field))));
            if !negated {
                folded.push(stem);
            }
        }
        if clauses.is_empty() {
            return Err(bad("nothing to look for".into()));
        }
        if clauses.len() == 1 && clauses[0].0 != Occur::MustNot {
            return Ok((clauses.pop().expect("one").1, folded));
        }
        Ok((Box::new(BooleanQuery::new(clauses)), folded))
    }
}

/// A snippet of `text` around its first word within one edit of `terms`
/// (as `lang` analyses it), that word highlighted; empty when none is.
fn fuzzy_snippet(
    text: &str,
    terms: &BTreeSet<String>,
    lang: Lang,
    max_chars: usize,
) -> (String, Vec<[usize; 2]>) {
    let mut a = lang.analyzer();
    let mut stream = a.token_stream(text);
    let mut found = None;
    while let Some(t) = stream.next() {
        if terms.iter().any(|q| q == &t.text || one_edit(q, &t.text)) {
            found = Some((t.offset_from, t.offset_to));
            break;
        }
    }
    let Some((from, to)) = found else {
        return (String::new(), Vec::new());
    };
    // About half the room before the word, on character boundaries.
    let half = max_chars / 2;
    let mut start = from.saturating_sub(half);
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    let mut end = (to + half).min(text.len());
    while !text.is_char_boundary(end) {
        end += 1;
    }
    (
        text[start..end].to_owned(),
        vec![[from - start, to - start]],
    )
}

/// Whether `a` and `b` are at most one edit apart (a letter changed,
/// added or dropped, or two neighbours swapped), as the fuzzy query counts.
fn one_edit(a: &str, b: &str) -> bool {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    if a.len().abs_diff(b.len()) > 1 {
        return false;
    }
    let start = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let (ra, rb) = (&a[start..], &b[start..]);
    let end = ra
        .iter()
        .rev()
        .zip(rb.iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (ma, mb) = (&ra[..ra.len() - end], &rb[..rb.len() - end]);
    match (ma.len(), mb.len()) {
        (0, 0) | (1, 1) | (1, 0) | (0, 1) => true,
        (2, 2) => ma[0] == mb[1] && ma[1] == mb[0],
        _ => false,
    }
}

/// Lowercased, accents folded: how prefixes are compared.
fn fold(s: &str) -> String {
    fold_with(&mut Lang::Other.analyzer(), s)
}

fn fold_with(a: &mut TextAnalyzer, s: &str) -> String {
    let mut out = String::new();
    let mut stream = a.token_stream(s);
    while let Some(t) = stream.next() {
        out.push_str(&t.text);
    }
    out
}

/// Adds and removes pages.
#[allow(missing_debug_implementations)]
pub struct Writer {
    w: IndexWriter,
    f: Fields,
}

impl Writer {
    /// Remove every page of `citekey`.
    pub fn delete(&mut self, citekey: &str) {
        self.w
            .delete_term(Term::from_field_text(self.f.citekey, citekey));
    }

    /// Replace every page of `citekey` by `pages`.
    pub fn replace(&mut self, citekey: &str, pages: &[PageDoc]) -> Result<(), SearchError> {
        self.delete(citekey);
        for p in pages {
            let mut doc = TantivyDocument::default();
            doc.add_text(self.f.citekey, &p.citekey);
            doc.add_text(self.f.job, &p.job);
            doc.add_u64(self.f.page, p.page);
            if let Some(l) = &p.label {
                doc.add_text(self.f.label, l);
            }
            doc.add_text(self.f.lang, p.lang.as_str());
            doc.add_text(self.f.json, &p.json);
            for (f, v) in [
                (self.f.author, &p.author),
                (self.f.title, &p.title),
                (self.f.year, &p.year),
            ] {
                if let Some(v) = v {
                    doc.add_text(f, v);
                }
            }
            doc.add_text(self.f.text[p.lang.index()], &p.text);
            self.w.add_document(doc)?;
        }
        Ok(())
    }

    /// Make the changes durable and visible to readers that reload.
    pub fn commit(mut self) -> Result<(), SearchError> {
        self.w.commit()?;
        Ok(())
    }
}

/// What to look for.
#[derive(Debug, Clone)]
pub struct SearchRequest {
    pub query: String,
    pub citekey: Option<String>,
    pub limit: usize,
    /// Longest snippet, in characters.
    pub snippet_chars: usize,
    /// Words also match at one edit (a letter changed, added, dropped or
    /// two swapped): for OCR errors such as `selbstverstindlich`.
    pub fuzzy: bool,
}

impl SearchRequest {
    pub fn new(query: &str) -> Self {
        SearchRequest {
            query: query.to_owned(),
            citekey: None,
            limit: 20,
            snippet_chars: 180,
            fuzzy: false,
        }
    }
}

/// One page that matched.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Hit {
    pub citekey: String,
    pub job: String,
    pub page: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    pub lang: Lang,
    pub score: f32,
    /// A passage of the page with the matches in `highlights` (byte ranges).
    pub snippet: String,
    pub highlights: Vec<[usize; 2]>,
    /// The page JSON, relative to the data directory.
    pub json: String,
}

impl Hit {
    /// The snippet with each match between `open` and `close`.
    pub fn marked(&self, open: &str, close: &str) -> String {
        let mut out = String::with_capacity(self.snippet.len() + 16);
        let mut at = 0;
        for [s, e] in &self.highlights {
            if *s < at || *e > self.snippet.len() {
                continue;
            }
            out.push_str(&self.snippet[at..*s]);
            out.push_str(open);
            out.push_str(&self.snippet[*s..*e]);
            out.push_str(close);
            at = *e;
        }
        out.push_str(&self.snippet[at..]);
        out.split_whitespace().collect::<Vec<_>>().join(" ")
    }
}

/// Hits, how many pages matched in all, and what a matching word is.
#[derive(Debug)]
pub struct SearchResults {
    pub total: usize,
    pub hits: Vec<Hit>,
    pub matcher: Matcher,
}

/// Tells which words of a page a query matched.
#[derive(Debug, Clone, Default)]
pub struct Matcher {
    /// Analysed query terms (stemmed as each language field does).
    terms: Vec<String>,
    /// Folded prefixes (`topolog*`).
    prefixes: Vec<String>,
    /// A word one edit from a term matches too.
    fuzzy: bool,
}

/// A word of a page that matched, with its box (page pixels, as in the
/// page JSON).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct WordHit {
    pub text: String,
    pub bbox: [i32; 4],
}

impl Matcher {
    /// Whether `word` is one the query asked for: analysed by `stem` (the
    /// page language's analyser) against the terms, folded by `plain`
    /// against the prefixes. The analysers are built once per page.
    fn matches(&self, stem: &mut TextAnalyzer, plain: &mut TextAnalyzer, word: &str) -> bool {
        let mut stream = stem.token_stream(word);
        while let Some(t) = stream.next() {
            if self
                .terms
                .iter()
                .any(|q| q == &t.text || (self.fuzzy && one_edit(q, &t.text)))
            {
                return true;
            }
        }
        if self.prefixes.is_empty() {
            return false;
        }
        let f = fold_with(plain, word);
        self.prefixes.iter().any(|p| f.starts_with(p.as_str()))
    }

    /// The words of `page` that match, with their boxes; both halves of
    /// a word broken at a line end match when the whole word does.
    pub fn words(&self, lang: Lang, page: &PageJson) -> Vec<WordHit> {
        let (mut stem, mut plain) = (lang.analyzer(), Lang::Other.analyzer());
        let lines: Vec<&recto_page::Line> = page.blocks.iter().flat_map(|b| &b.lines).collect();
        let mut hits = Vec::new();
        let mut joined_into_next = false;
        for (i, line) in lines.iter().enumerate() {
            let words: Vec<&recto_page::Word> = line
                .words
                .iter()
                .filter(|w| !w.text.trim().is_empty())
                .collect();
            let first_joined = std::mem::take(&mut joined_into_next);
            for (j, w) in words.iter().enumerate() {
                let is_last = j + 1 == words.len();
                let whole = if is_last {
                    let next = lines.get(i + 1).and_then(|l| l.words.first());
                    hyphens::broken_tail(&w.text)
                        .zip(next.and_then(|n| hyphens::continuation(&n.text)))
                        .map(|(tail, head)| format!("{tail}{head}"))
                } else {
                    None
                };
                let hit = match &whole {
                    Some(whole) if self.matches(&mut stem, &mut plain, whole) => {
                        joined_into_next = true;
                        true
                    }
                    _ => (j == 0 && first_joined) || self.matches(&mut stem, &mut plain, &w.text),
                };
                if hit {
                    hits.push(WordHit {
                        text: w.text.clone(),
                        bbox: w.bbox,
                    });
                }
            }
        }
        hits
    }
}
