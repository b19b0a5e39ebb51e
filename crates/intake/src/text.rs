//! Free text from reporters and staff, made safe to store and to show.
//!
//! A report's text can reach an operator's terminal (`vitalcore report
//! list`), a spreadsheet and a web page. Control characters in it could
//! drive the terminal (ESC starts an escape sequence that can rewrite the
//! screen, set the window title or, on some terminals, send keys back), ring
//! it (BEL), cut a C string (NUL), and bidirectional overrides and isolates
//! (U+202A-202E, U+2066-2069) make text display in another order than it
//! is stored ("Trojan Source"), so that what a person reads is not what is
//! there.
//!
//! These are **stripped**, not refused: a reporter on a cheap phone, an SMS
//! gateway or a copy-paste may leave a stray control character in a report
//! of violence, and refusing would lose the report (an SMS reporter only
//! gets a generic rejection back). Nothing a reader needs is in them: the
//! words stay. Newlines and tabs are kept in multi-line text; `\r\n`, a lone
//! `\r` and the Unicode line and paragraph separators (U+2028, U+2029)
//! become `\n`. One-line fields (a place name, an id) also turn newlines and
//! tabs into spaces. The implicit direction marks (U+200E LRM, U+200F RLM,
//! U+061C ALM) and the joiners that Arabic and Indic scripts need are kept.
//!
//! Structured fields are **refused** instead when they hold anything outside
//! their alphabet (a P-code, a language code, a reporter id): there is no
//! safe guess of what was meant. See [`is_pcode`].

use std::borrow::Cow;

/// A character removed from free text: a C0 control other than `\n` and
/// `\t` (a `\r` is turned into `\n` before), DEL, a C1 control, or a
/// bidirectional embedding, override or isolate.
pub fn is_stripped(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{8}' | '\u{b}'..='\u{1f}' | '\u{7f}'..='\u{9f}'
        | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// Whether `s` holds anything [`clean_text`] would change.
fn needs_cleaning(s: &str) -> bool {
    s.chars().any(|c| c == '\r' || c == '\u{2028}' || c == '\u{2029}' || is_stripped(c))
}

/// Multi-line free text (a report, a note, a feedback message): line breaks
/// as `\n`, tabs kept, every other control character and bidi control
/// removed. Not trimmed.
pub fn clean_text(raw: &str) -> Cow<'_, str> {
    if !needs_cleaning(raw) {
        return Cow::Borrowed(raw);
    }
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push('\n');
            }
            '\u{2028}' | '\u{2029}' => out.push('\n'),
            c if is_stripped(c) => {}
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// One-line free text (a place name, an id, a name): as [`clean_text`],
/// with each line break or tab turned into a space. Not trimmed.
pub fn clean_line(raw: &str) -> Cow<'_, str> {
    match clean_text(raw) {
        Cow::Borrowed(s) if !s.contains(['\n', '\t']) => Cow::Borrowed(s),
        text => Cow::Owned(text.replace(['\n', '\t'], " ")),
    }
}

/// Longest P-code accepted when no areas are loaded to check it against.
pub const MAX_PCODE_CHARS: usize = 20;

/// Whether `s` has the shape of an admin P-code (`CF32`, `CF3201`,
/// `SS-0101`): ASCII letters and digits, with `-` or `_` allowed after the
/// first character, at most [`MAX_PCODE_CHARS`] characters. With areas
/// loaded a P-code must be one of theirs; without, this shape is all that is
/// checked, so that nothing like `../../etc/passwd<script>` or `=HYPERLINK(`
/// is ever stored as an area.
pub fn is_pcode(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && s.len() <= MAX_PCODE_CHARS
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_and_bidi_overrides_are_stripped_and_line_breaks_kept() {
        let raw = "A\u{0}B\u{7}C\u{1b}[31mD\u{9b}E\u{7f}F\u{202e}G\u{2066}H\u{2069}\tI\r\nJ\rK\u{2028}L";
        assert_eq!(clean_text(raw), "ABC[31mDEFGH\tI\nJ\nK\nL");
        assert_eq!(clean_line(raw), "ABC[31mDEFGH I J K L");
        for c in ['\u{202a}', '\u{202b}', '\u{202c}', '\u{202d}', '\u{202e}', '\u{2066}', '\u{2067}', '\u{2068}'] {
            assert_eq!(clean_text(&format!("x{c}y")), "xy", "{:?}", c);
        }
    }

    #[test]
    fn ordinary_text_is_borrowed_unchanged_in_any_script() {
        for s in ["Hommes armés à Bouca", "رجال مسلحون\u{200f} في القرية", "नमस्ते\u{200d}", "two\nlines\tand a tab", ""]
        {
            assert!(matches!(clean_text(s), Cow::Borrowed(t) if t == s), "{s}");
        }
        assert!(matches!(clean_line("Bouca"), Cow::Borrowed("Bouca")));
    }

    #[test]
    fn pcode_shapes() {
        for yes in ["CF32", "cf3201", "SS-0101", "AF_01", "A", "ABCDEFGHIJ0123456789"] {
            assert!(is_pcode(yes), "{yes}");
        }
        for no in [
            "",
            "../../etc/passwd<script>",
            "=HYPERLINK(\"x\")",
            "-CF32",
            "_CF",
            "CF 32",
            "CF32\u{1b}",
            "CF.32",
            "ABCDEFGHIJ01234567890",
            "ÇF32",
        ] {
            assert!(!is_pcode(no), "{no}");
        }
    }
}
