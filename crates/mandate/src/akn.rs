//! The Akoma Ntoso (AKN4UN) reader: one resolution file's bytes to its
//! metadata and its preambular and operative paragraphs, points nested as
//! printed. No file I/O here.

use crate::error::MandateError;
use crate::model::{Kind, Paragraph, Point, Resolution};
use roxmltree::{Document, Node, ParsingOptions};

/// What one file holds.
#[derive(Debug, Clone)]
pub enum Parsed {
    Resolution(Box<Resolution>),
    /// A document that is not a resolution (a presidential statement
    /// `S/PRST/...`): skipped, with why.
    Skipped {
        symbol: String,
        reason: String,
    },
}

/// Reads one AKN file's bytes. `name` is only used in messages.
pub fn parse_resolution(name: &str, bytes: &[u8]) -> Result<Parsed, MandateError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = std::str::from_utf8(bytes).map_err(|e| MandateError::Encoding {
        file: name.to_string(),
        detail: format!("invalid UTF-8 at byte {}", e.valid_up_to()),
    })?;
    parse_str(name, text)
}

/// Reads one AKN document's text.
pub fn parse_str(name: &str, text: &str) -> Result<Parsed, MandateError> {
    let options = ParsingOptions { allow_dtd: false, nodes_limit: 5_000_000, ..ParsingOptions::default() };
    let doc = Document::parse_with_options(text, options).map_err(|e| {
        let pos = e.pos();
        MandateError::Xml { file: name.to_string(), line: pos.row, column: pos.col, reason: e.to_string() }
    })?;
    let root = doc.root_element();
    if root.tag_name().name() != "akomaNtoso" {
        return Err(MandateError::NotAkn { file: name.to_string(), found: format!("<{}>", root.tag_name().name()) });
    }
    let Some(body) = elements(root).next() else {
        return Err(missing(name, "the document element", "<statement>, <resolution> or <doc> inside <akomaNtoso>"));
    };
    let symbol = symbol(body).ok_or_else(|| {
        missing(name, "the symbol", "<docNumber refersTo=\"#symbol\">S/RES/NNNN (YYYY)</docNumber> in the cover page")
    })?;
    if !symbol.starts_with("S/RES/") {
        let reason = if symbol.starts_with("S/PRST/") {
            "a presidential statement, not a resolution".to_string()
        } else {
            format!("symbol {symbol} is not a Security Council resolution (S/RES/...)")
        };
        return Ok(Parsed::Skipped { symbol, reason });
    }
    let number = symbol_number(&symbol).ok_or_else(|| {
        missing(name, "the resolution number", &format!("a symbol like S/RES/2100 (2013), found {symbol:?}"))
    })?;
    let date = date(body, &symbol)
        .ok_or_else(|| missing(name, "the adoption date", "<FRBRdate date=\"YYYY-MM-DD\"> in <FRBRWork>"))?;
    let year = date[..4].parse::<i32>().map_err(|_| missing(name, "the adoption year", "a date YYYY-MM-DD"))?;
    let preamble = child(body, "preamble");
    let main = child(body, "mainBody");
    if preamble.is_none() && main.is_none() {
        return Err(missing(name, "the text", "a <preamble> or a <mainBody> in the resolution"));
    }
    let mut paragraphs = Vec::new();
    if let Some(pre) = preamble {
        read_preamble(pre, &mut paragraphs);
    }
    if let Some(main) = main {
        read_main(main, &mut paragraphs);
    }
    let chapter_vii = paragraphs.iter().any(|p| p.text.contains("Chapter VII"));
    Ok(Parsed::Resolution(Box::new(Resolution {
        symbol,
        number,
        date,
        year,
        chapter_vii,
        agenda_item: agenda(body),
        missions: Vec::new(),
        paragraphs,
        source_file: name.to_string(),
        source_sha256: String::new(),
    })))
}

fn missing(file: &str, what: &str, expected: &str) -> MandateError {
    MandateError::Missing { file: file.to_string(), what: what.to_string(), expected: expected.to_string() }
}

fn elements<'a, 'i>(node: Node<'a, 'i>) -> impl Iterator<Item = Node<'a, 'i>> {
    node.children().filter(|n| n.is_element())
}

fn child<'a, 'i>(node: Node<'a, 'i>, name: &str) -> Option<Node<'a, 'i>> {
    elements(node).find(|n| n.tag_name().name() == name)
}

fn symbol(body: Node) -> Option<String> {
    let cover = body
        .descendants()
        .find(|n| n.tag_name().name() == "docNumber" && n.attribute("refersTo") == Some("#symbol"))
        .or_else(|| body.descendants().find(|n| n.tag_name().name() == "docNumber"));
    if let Some(n) = cover {
        let mut buf = TextBuf::default();
        collect(n, &mut buf);
        if !buf.text.is_empty() {
            return Some(buf.text);
        }
    }
    // `/akn/un/statement/deliberation/unsc/2013-04-25/2100-2013/!main/`
    let this = body.descendants().find(|n| n.tag_name().name() == "FRBRthis")?.attribute("value")?;
    let part =
        this.split('/').find(|p| p.len() > 5 && p.contains('-') && p.starts_with(|c: char| c.is_ascii_digit()))?;
    let (num, year) = part.split_once('-')?;
    (num.chars().all(|c| c.is_ascii_digit()) && year.len() == 4).then(|| format!("S/RES/{num} ({year})"))
}

fn symbol_number(symbol: &str) -> Option<u32> {
    let rest = symbol.strip_prefix("S/RES/")?;
    let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
    digits.parse().ok()
}

fn is_iso_date(d: &str) -> bool {
    let b = d.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter().enumerate().all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
}

/// The adoption date: the cover page's adoption date, else the work's
/// date, else any date printed; one in the symbol's year where the symbol
/// gives one (some files carry `0001-01-01` as the work's date).
fn date(body: Node, symbol: &str) -> Option<String> {
    let year = symbol.rsplit_once('(').map(|(_, y)| y.trim_end_matches(')').trim().to_string());
    let doc_dates = |refers: Option<&'static str>| {
        body.descendants()
            .filter(move |n| {
                n.tag_name().name() == "docDate" && (refers.is_none() || n.attribute("refersTo") == refers)
            })
            .filter_map(|n| n.attribute("date"))
    };
    let work = body
        .descendants()
        .find(|n| n.tag_name().name() == "FRBRWork")
        .and_then(|w| w.descendants().find(|n| n.tag_name().name() == "FRBRdate"))
        .and_then(|n| n.attribute("date"));
    let candidates: Vec<&str> =
        doc_dates(Some("#adoptionDate")).chain(work).chain(doc_dates(None)).filter(|d| is_iso_date(d)).collect();
    let in_year = candidates.iter().find(|d| year.as_deref().is_some_and(|y| d.starts_with(y)));
    in_year.or_else(|| candidates.iter().find(|d| **d >= "1945")).map(|d| d.to_string())
}

/// `<keyword refersTo="agenda" dictionary="S/" showAs="The situation in Mali.">`
fn agenda(body: Node) -> Option<String> {
    body.descendants()
        .filter(|n| n.tag_name().name() == "keyword" && n.attribute("refersTo") == Some("agenda"))
        .find(|n| n.attribute("dictionary") == Some("S/"))
        .and_then(|n| n.attribute("showAs"))
        .map(|s| s.trim().trim_end_matches('.').to_string())
        .filter(|s| !s.is_empty())
}

/// Text with whitespace collapsed, and where its emphasised spans (italic or
/// underlined: the operative verbs as printed) start and end.
#[derive(Default)]
pub(crate) struct TextBuf {
    pub text: String,
    pub emphasis: Vec<(usize, usize)>,
    space: bool,
}

impl TextBuf {
    fn push(&mut self, s: &str) {
        for ch in s.chars() {
            if ch.is_whitespace() {
                self.space = true;
            } else {
                if self.space && !self.text.is_empty() {
                    self.text.push(' ');
                }
                self.space = false;
                self.text.push(ch);
            }
        }
    }
    fn at(&self) -> usize {
        if self.space && !self.text.is_empty() { self.text.len() + 1 } else { self.text.len() }
    }
    fn take(&mut self) -> (String, Vec<(usize, usize)>) {
        self.space = false;
        (std::mem::take(&mut self.text), std::mem::take(&mut self.emphasis))
    }
}

fn is_emphasis(n: Node) -> bool {
    n.tag_name().name() == "span"
        && n.attribute("class").is_some_and(|c| c.split_whitespace().any(|w| w == "italic" || w == "underline"))
}

/// All text under `node`, footnotes left out, blocks separated by a space.
pub(crate) fn collect(node: Node, buf: &mut TextBuf) {
    for n in node.children() {
        if n.is_text() {
            buf.push(n.text().unwrap_or(""));
        } else if n.is_element() {
            match n.tag_name().name() {
                "authorialNote" | "noteRef" | "img" | "num" => {}
                _ if is_emphasis(n) => {
                    let start = buf.at();
                    collect(n, buf);
                    if buf.text.len() > start {
                        buf.emphasis.push((start, buf.text.len()));
                    }
                }
                "p" | "td" | "th" | "tr" | "content" | "intro" | "wrapUp" | "alinea" | "heading" | "subheading" => {
                    buf.space = true;
                    collect(n, buf);
                    buf.space = true;
                }
                _ => collect(n, buf),
            }
        }
    }
}

fn num_of(node: Node) -> Option<String> {
    let n = child(node, "num")?;
    let mut buf = TextBuf::default();
    buf.push(&n.descendants().filter(|d| d.is_text()).filter_map(|d| d.text()).collect::<String>());
    let t = buf.text.trim_end_matches('.').trim().to_string();
    (!t.is_empty()).then_some(t)
}

fn eid(node: Node) -> String {
    node.attribute("eId").unwrap_or("").to_string()
}

fn new_paragraph(kind: Kind, num: Option<String>, eid: String) -> Paragraph {
    Paragraph { num, eid, kind, ..Paragraph::default() }
}

fn read_preamble(pre: Node, out: &mut Vec<Paragraph>) {
    for n in elements(pre) {
        let kind = match n.tag_name().name() {
            "formula" => continue,
            "block" => Kind::Heading,
            _ => Kind::Preamble,
        };
        let mut p = new_paragraph(kind, None, eid(n));
        let mut buf = TextBuf::default();
        read_block(n, &mut buf, &mut p.points);
        (p.text, p.emphasis) = buf.take();
        if !p.text.is_empty() || !p.points.is_empty() {
            out.push(p);
        }
    }
}

fn read_main(main: Node, out: &mut Vec<Paragraph>) {
    for n in elements(main) {
        match n.tag_name().name() {
            "section" | "part" | "chapter" | "division" | "hcontainer" => read_main(n, out),
            "crossHeading" if n.attribute("refersTo") == Some("#preamble") => {
                let mut p = new_paragraph(Kind::Preamble, None, eid(n));
                let mut buf = TextBuf::default();
                collect(n, &mut buf);
                (p.text, p.emphasis) = buf.take();
                out.push(p);
            }
            "num" | "p" | "formula" => {}
            "paragraph" => read_paragraph(n, out),
            _ => {
                // containers used as headings, wrap-up text, crossHeadings
                let mut p = new_paragraph(Kind::Heading, num_of(n), eid(n));
                let mut buf = TextBuf::default();
                collect(n, &mut buf);
                (p.text, p.emphasis) = buf.take();
                if !p.text.is_empty() {
                    out.push(p);
                }
            }
        }
    }
}

fn starts_numeric(num: &str) -> bool {
    num.starts_with(|c: char| c.is_ascii_digit())
}

fn is_heading_class(class: Option<&str>) -> bool {
    class.is_some_and(|c| {
        let c = c.trim();
        (c.starts_with('H') && c[1..].chars().all(|ch| ch.is_ascii_alphanumeric()))
            || c.starts_with("BLUEHeading")
            || c == "Caption"
            || c == "FootnoteText"
    })
}

/// A short line with no closing punctuation: a title, not a clause.
fn looks_like_title(text: &str) -> bool {
    let words = text.split_whitespace().count();
    words <= 12 && !text.ends_with([';', '.', ':', ','])
}

fn read_paragraph(n: Node, out: &mut Vec<Paragraph>) {
    let num = num_of(n);
    let class = n.attribute("class");
    let mut points = Vec::new();
    let mut buf = TextBuf::default();
    read_block(n, &mut buf, &mut points);
    let (text, emphasis) = buf.take();
    let numbered = num.as_deref().is_some_and(starts_numeric);
    let titled = elements(n).any(|c| matches!(c.tag_name().name(), "heading" | "subheading"));
    if !numbered && (is_heading_class(class) || titled) {
        push_heading(out, num, eid(n), text, emphasis);
        return;
    }
    if !numbered && let Some(prev) = out.last_mut().filter(|p| p.kind == Kind::Operative) {
        if num.is_some() {
            // "(f)" printed as a paragraph of its own: a point of the one before.
            prev.points.push(Point { num, eid: eid(n), text, emphasis, points, ..Point::default() });
            return;
        }
        if prev.text.is_empty() && prev.points.is_empty() {
            // early files: the number alone, its text in the next paragraph
            (prev.text, prev.emphasis, prev.points) = (text, emphasis, points);
            return;
        }
        if let Some(last) = last_point(&mut prev.points) {
            // the body of the point before, printed as a paragraph of its own
            append(&mut last.text, &mut last.emphasis, (text, emphasis));
            last.points.extend(points);
            return;
        }
    }
    if !numbered && points.is_empty() && looks_like_title(&text) {
        push_heading(out, num, eid(n), text, emphasis);
        return;
    }
    if text.is_empty() && points.is_empty() && !numbered {
        return;
    }
    let mut p = new_paragraph(Kind::Operative, num, eid(n));
    (p.text, p.emphasis, p.points) = (text, emphasis, points);
    out.push(p);
}

/// Reads a paragraph, point or list: its own text into `buf`, its points
/// (sublists nested under the point they follow) into `points`.
fn read_block(node: Node, buf: &mut TextBuf, points: &mut Vec<Point>) {
    for n in node.children() {
        if n.is_text() {
            buf.push(n.text().unwrap_or(""));
            continue;
        }
        if !n.is_element() {
            continue;
        }
        match n.tag_name().name() {
            "num" | "authorialNote" => {}
            "list" | "blockList" => read_block(n, buf, points),
            "point" | "item" => points.push(read_point(n)),
            "sublist" => {
                let mut inner = Vec::new();
                let mut inner_buf = TextBuf::default();
                read_block(n, &mut inner_buf, &mut inner);
                match points.last_mut() {
                    Some(last) => {
                        if !inner_buf.text.is_empty() {
                            append(&mut last.text, &mut last.emphasis, inner_buf.take());
                        }
                        last.points.extend(inner);
                    }
                    None => {
                        let taken = inner_buf.take();
                        append_buf(buf, taken);
                        points.extend(inner);
                    }
                }
            }
            _ => {
                buf.space = true;
                collect_one(n, buf);
                buf.space = true;
            }
        }
    }
}

fn collect_one(n: Node, buf: &mut TextBuf) {
    if is_emphasis(n) {
        let start = buf.at();
        collect(n, buf);
        if buf.text.len() > start {
            buf.emphasis.push((start, buf.text.len()));
        }
    } else {
        collect(n, buf);
    }
}

fn append(text: &mut String, emphasis: &mut Vec<(usize, usize)>, (more, more_emph): (String, Vec<(usize, usize)>)) {
    let offset = if text.is_empty() { 0 } else { text.len() + 1 };
    if !text.is_empty() {
        text.push(' ');
    }
    text.push_str(&more);
    emphasis.extend(more_emph.into_iter().map(|(a, b)| (a + offset, b + offset)));
}

fn append_buf(buf: &mut TextBuf, taken: (String, Vec<(usize, usize)>)) {
    let (mut text, mut emphasis) = buf.take();
    append(&mut text, &mut emphasis, taken);
    buf.text = text;
    buf.emphasis = emphasis;
}

fn read_point(n: Node) -> Point {
    let mut buf = TextBuf::default();
    let mut points = Vec::new();
    read_block(n, &mut buf, &mut points);
    let (text, emphasis) = buf.take();
    Point { num: num_of(n), eid: eid(n), text, emphasis, points, ..Point::default() }
}

fn push_heading(out: &mut Vec<Paragraph>, num: Option<String>, eid: String, text: String, emph: Vec<(usize, usize)>) {
    if !text.is_empty() {
        let mut p = new_paragraph(Kind::Heading, num, eid);
        (p.text, p.emphasis) = (text, emph);
        out.push(p);
    }
}

fn last_point(points: &mut [Point]) -> Option<&mut Point> {
    let last = points.last_mut()?;
    if last.points.is_empty() { Some(last) } else { last_point(&mut last.points) }
}
