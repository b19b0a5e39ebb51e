//! Finding many phrases in normalised text at once: each phrase is indexed
//! by its first three bytes and tried only at word starts.

use std::collections::HashMap;
use vitalcore_framework::normalize_phrase;

pub(crate) struct PhraseIndex {
    /// (normalised phrase, owner)
    phrases: Vec<(String, usize)>,
    by_key: HashMap<[u8; 3], Vec<usize>>,
    short: Vec<usize>,
    /// The phrase must also end at a word end.
    whole_word: bool,
}

impl PhraseIndex {
    pub fn new<'a>(items: impl IntoIterator<Item = (&'a str, usize)>, whole_word: bool) -> PhraseIndex {
        let mut index = PhraseIndex { phrases: Vec::new(), by_key: HashMap::new(), short: Vec::new(), whole_word };
        for (phrase, owner) in items {
            let norm = normalize_phrase(phrase);
            if norm.is_empty() {
                continue;
            }
            let k = index.phrases.len();
            let b = norm.as_bytes();
            if b.len() >= 3 {
                index.by_key.entry([b[0], b[1], b[2]]).or_default().push(k);
            } else {
                index.short.push(k);
            }
            index.phrases.push((norm, owner));
        }
        index
    }

    /// Calls `f(owner, start, end)` for every match in `norm` (text in
    /// [`normalize_phrase`] form) that starts a word.
    pub fn for_each(&self, norm: &str, mut f: impl FnMut(usize, usize, usize)) {
        let b = norm.as_bytes();
        let mut check = |i: usize, k: usize| {
            let p = self.phrases[k].0.as_bytes();
            if b[i..].starts_with(p) {
                let end = i + p.len();
                if !self.whole_word || end == b.len() || b[end] == b' ' {
                    f(self.phrases[k].1, i, end);
                }
            }
        };
        for i in 0..b.len() {
            if i > 0 && b[i - 1] != b' ' {
                continue;
            }
            if i + 3 <= b.len()
                && let Some(list) = self.by_key.get(&[b[i], b[i + 1], b[i + 2]])
            {
                for &k in list {
                    check(i, k);
                }
            }
            for &k in &self.short {
                check(i, k);
            }
        }
    }

    pub fn any(&self, norm: &str) -> bool {
        let mut found = false;
        self.for_each(norm, |_, _, _| found = true);
        found
    }
}
