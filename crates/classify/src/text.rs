//! Text normalisation shared by the lexicon and the features, so that a
//! keyword and a message are compared in the same form: lower case, Latin
//! diacritics folded (é -> e, ô -> o: SMS writers drop them), Arabic letter
//! variants unified and short vowels dropped, digits collapsed to `0`, and
//! every run of letters/digits separated by one space.

/// Returns the normalised text: tokens separated by single spaces.
pub fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    normalize_into(text, &mut out);
    out
}

/// Writes the normalised form of `text` into `out` (cleared first).
pub(crate) fn normalize_into(text: &str, out: &mut String) {
    out.clear();
    let mut pending_space = false;
    let mut rest = text;
    while let Some(&b) = rest.as_bytes().first() {
        if b.is_ascii() {
            // Most of most messages: by table, no decoding.
            rest = &rest[1..];
            match ASCII_FOLD[b as usize] {
                0 => pending_space = true,
                folded => {
                    start_or_continue_word(out, &mut pending_space);
                    out.push(folded as char);
                }
            }
        } else {
            let c = rest.chars().next().expect("a non-empty text");
            rest = &rest[c.len_utf8()..];
            if is_arabic_mark(c) {
                // Short vowels and tatweel inside a word: drop, keep the word whole.
            } else if c.is_alphanumeric() {
                start_or_continue_word(out, &mut pending_space);
                push_folded(c, out);
            } else {
                pending_space = true;
            }
        }
    }
}

/// Before a letter or digit: one space if a separator came since the last one.
#[inline]
fn start_or_continue_word(out: &mut String, pending_space: &mut bool) {
    if *pending_space && !out.is_empty() {
        out.push(' ');
    }
    *pending_space = false;
}

/// Per ASCII byte: its folded form (lower case; digits `0`), or 0 for a separator.
const ASCII_FOLD: [u8; 128] = {
    let mut table = [0u8; 128];
    let mut b = 0;
    while b < 128 {
        let c = b as u8;
        table[b] = if c.is_ascii_digit() {
            b'0'
        } else if c.is_ascii_alphabetic() {
            c.to_ascii_lowercase()
        } else {
            0
        };
        b += 1;
    }
    table
};

fn is_arabic_mark(c: char) -> bool {
    matches!(c, '\u{064B}'..='\u{065F}' | '\u{0670}' | '\u{0640}')
}

fn push_folded(c: char, out: &mut String) {
    if c.is_ascii() {
        let l = c.to_ascii_lowercase();
        out.push(if l.is_ascii_digit() { '0' } else { l });
        return;
    }
    match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'À' | 'Á' | 'Â' | 'Ã' | 'Ä' | 'Å' => out.push('a'),
        'ç' | 'Ç' => out.push('c'),
        'è' | 'é' | 'ê' | 'ë' | 'È' | 'É' | 'Ê' | 'Ë' => out.push('e'),
        'ì' | 'í' | 'î' | 'ï' | 'Ì' | 'Í' | 'Î' | 'Ï' => out.push('i'),
        'ñ' | 'Ñ' => out.push('n'),
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'Ò' | 'Ó' | 'Ô' | 'Õ' | 'Ö' => out.push('o'),
        'ù' | 'ú' | 'û' | 'ü' | 'Ù' | 'Ú' | 'Û' | 'Ü' => out.push('u'),
        'ý' | 'ÿ' | 'Ý' => out.push('y'),
        'œ' | 'Œ' => out.push_str("oe"),
        'æ' | 'Æ' => out.push_str("ae"),
        // Arabic: unify alef forms, ta marbuta and alef maqsura.
        'أ' | 'إ' | 'آ' | 'ٱ' => out.push('ا'),
        'ة' => out.push('ه'),
        'ى' => out.push('ي'),
        // Eastern Arabic and other digits.
        c if c.is_numeric() => out.push('0'),
        c => out.extend(c.to_lowercase()),
    }
}

/// Arabic proclitics (conjunction, prepositions, article) that attach to the
/// word: "والماء" is "and the water". Longest first.
pub(crate) const ARABIC_PROCLITICS: [&str; 11] = ["وال", "بال", "كال", "فال", "لل", "ال", "و", "ب", "ل", "ف", "ك"];

/// Byte length of the longest Arabic proclitic at the start of `token`, when
/// at least two letters remain after it.
pub(crate) fn arabic_proclitic_len(token: &str) -> usize {
    for p in ARABIC_PROCLITICS {
        if let Some(rest) = token.strip_prefix(p)
            && rest.chars().count() >= 2
        {
            return p.len();
        }
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_case_accents_punctuation_and_digits() {
        assert_eq!(normalize("  Élève, BLESSÉ à 12h!! "), "eleve blesse a 00h");
        assert_eq!(normalize("kôbe ayeke pëpe"), "kobe ayeke pepe");
        assert_eq!(normalize("l'eau"), "l eau");
    }

    #[test]
    fn unifies_arabic_letters_and_drops_short_vowels() {
        assert_eq!(normalize("مَدْرَسَة"), "مدرسه");
        assert_eq!(normalize("أطفال"), "اطفال");
    }

    #[test]
    fn finds_arabic_proclitics_but_keeps_short_words() {
        assert_eq!(arabic_proclitic_len("والماء"), "وال".len());
        assert_eq!(arabic_proclitic_len("ماء"), 0);
        assert_eq!(arabic_proclitic_len("ال"), 0);
    }
}
