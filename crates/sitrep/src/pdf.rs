//! The situation report as an A4 PDF written by the binary itself: the same
//! blocks as the HTML file ([`crate::doc`]) laid out in pages, text in the
//! bundled DejaVu Sans (embedded, only the glyphs used), the charts and the
//! map drawn as vector paths, "page i of n" at the foot of every page.
//!
//! The layout is deliberately plain: one column, tables that wrap their
//! cells and repeat their header on a new page, charts scaled to the text
//! width and never split.

use crate::doc::{Block, Cell, blocks};
use crate::scene::{Anchor, Color, Item, Scene};
use flate2::Compression;
use flate2::write::ZlibEncoder;
use pdf_writer::types::{CidFontType, FontFlags, SystemInfo, UnicodeCmap};
use pdf_writer::{Content, Filter, Finish, Name, Pdf, Rect, Ref, Str, TextStr};
use std::collections::BTreeMap;
use std::io::Write as _;
use vitalcore_app::briefing::Briefing;
use vitalcore_app::briefing::texts::{self, tf};

const REGULAR: &[u8] = include_bytes!("../fonts/DejaVuSans.ttf");
const BOLD: &[u8] = include_bytes!("../fonts/DejaVuSans-Bold.ttf");

/// A4 in points.
pub const PAGE_W: f64 = 595.28;
pub const PAGE_H: f64 = 841.89;
const MARGIN: f64 = 42.5;
const FOOT: f64 = 28.0;
const CONTENT_W: f64 = PAGE_W - 2.0 * MARGIN;

#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    #[error("the bundled font {0} cannot be read: {1}")]
    Font(&'static str, String),
    #[error("the bundled font {0} cannot be subset: {1}")]
    Subset(&'static str, String),
    #[error("compressing the PDF: {0}")]
    Compress(#[from] std::io::Error),
}

/// A font: glyph ids and advance widths.
struct Font {
    name: &'static str,
    data: &'static [u8],
    face: ttf_parser::Face<'static>,
    upem: f64,
}

impl Font {
    fn load(name: &'static str, data: &'static [u8]) -> Result<Font, PdfError> {
        let face = ttf_parser::Face::parse(data, 0).map_err(|e| PdfError::Font(name, e.to_string()))?;
        let upem = f64::from(face.units_per_em());
        Ok(Font { name, data, face, upem })
    }

    fn glyph(&self, c: char) -> u16 {
        self.face.glyph_index(c).or_else(|| self.face.glyph_index('?')).map(|g| g.0).unwrap_or(0)
    }

    /// Advance of glyph `g` in thousandths of the font size.
    fn advance(&self, g: u16) -> f64 {
        f64::from(self.face.glyph_hor_advance(ttf_parser::GlyphId(g)).unwrap_or(0)) * 1000.0 / self.upem
    }

    fn width(&self, text: &str, size: f64) -> f64 {
        text.chars().map(|c| self.advance(self.glyph(c))).sum::<f64>() * size / 1000.0
    }
}

struct Fonts {
    regular: Font,
    bold: Font,
}

impl Fonts {
    fn load() -> Result<Fonts, PdfError> {
        Ok(Fonts { regular: Font::load("DejaVuSans", REGULAR)?, bold: Font::load("DejaVuSans-Bold", BOLD)? })
    }
    fn of(&self, bold: bool) -> &Font {
        if bold { &self.bold } else { &self.regular }
    }
}

/// What a page holds, in points from its top left.
enum Op {
    Text { x: f64, y: f64, size: f64, bold: bool, color: Color, text: String },
    Rect { x: f64, y: f64, w: f64, h: f64, color: Color },
    Scene { x: f64, y: f64, scale: f64, scene: Scene },
}

struct Layout<'f> {
    fonts: &'f Fonts,
    pages: Vec<Vec<Op>>,
    y: f64,
}

impl<'f> Layout<'f> {
    fn new(fonts: &'f Fonts) -> Layout<'f> {
        Layout { fonts, pages: vec![Vec::new()], y: MARGIN }
    }

    fn bottom() -> f64 {
        PAGE_H - MARGIN - FOOT
    }

    fn page(&mut self) -> &mut Vec<Op> {
        self.pages.last_mut().expect("a page")
    }

    fn new_page(&mut self) {
        self.pages.push(Vec::new());
        self.y = MARGIN;
    }

    /// Room for `h` more points, else a new page.
    fn ensure(&mut self, h: f64) {
        if self.y + h > Self::bottom() && self.y > MARGIN {
            self.new_page();
        }
    }

    /// `text` cut into lines no wider than `width`.
    fn wrap(&self, text: &str, size: f64, bold: bool, width: f64) -> Vec<String> {
        let font = self.fonts.of(bold);
        let mut lines = Vec::new();
        for para in text.split('\n') {
            let mut line = String::new();
            for word in para.split_whitespace() {
                let candidate = if line.is_empty() { word.to_string() } else { format!("{line} {word}") };
                if font.width(&candidate, size) <= width || line.is_empty() {
                    line = candidate;
                } else {
                    lines.push(std::mem::take(&mut line));
                    line = word.to_string();
                }
                // A word longer than the width is cut by characters.
                while font.width(&line, size) > width && line.chars().count() > 1 {
                    let mut head = String::new();
                    for c in line.chars() {
                        if font.width(&format!("{head}{c}"), size) > width && !head.is_empty() {
                            break;
                        }
                        head.push(c);
                    }
                    let rest = line[head.len()..].to_string();
                    lines.push(head);
                    line = rest;
                }
            }
            lines.push(line);
        }
        lines
    }

    fn rect(&mut self, x: f64, y: f64, w: f64, h: f64, color: Color) {
        self.page().push(Op::Rect { x, y, w, h, color });
    }

    fn text(&mut self, x: f64, y: f64, size: f64, bold: bool, color: Color, text: impl Into<String>) {
        self.page().push(Op::Text { x, y, size, bold, color, text: text.into() });
    }

    fn paragraph(&mut self, text: &str, size: f64, bold: bool, indent: f64) {
        let lh = size * 1.35;
        for line in self.wrap(text, size, bold, CONTENT_W - indent) {
            self.ensure(lh);
            self.y += lh;
            let y = self.y - lh * 0.25;
            self.text(MARGIN + indent, y, size, bold, Color::INK, line);
        }
        self.y += size * 0.5;
    }

    fn heading(&mut self, text: &str) {
        // Keep a heading with what follows it.
        self.ensure(70.0);
        self.y += 10.0;
        self.y += 15.0;
        let y = self.y - 3.0;
        self.text(MARGIN, y, 12.5, true, Color::BLUE, text);
        self.rect(MARGIN, self.y + 1.0, CONTENT_W, 1.2, Color::BLUE);
        self.y += 8.0;
    }

    fn figures(&mut self, list: &[(String, String, bool)]) {
        let per_row = 3;
        let w = (CONTENT_W - 8.0 * (per_row as f64 - 1.0)) / per_row as f64;
        for chunk in list.chunks(per_row) {
            self.ensure(34.0);
            for (i, (label, value, _)) in chunk.iter().enumerate() {
                let x = MARGIN + i as f64 * (w + 8.0);
                self.rect(x, self.y, w, 30.0, Color(243, 243, 243));
                let y = self.y;
                self.text(x + 5.0, y + 13.0, 10.5, true, Color::INK, value.clone());
                self.text(x + 5.0, y + 25.0, 7.5, false, Color::GREY, label.clone());
            }
            self.y += 36.0;
        }
    }

    fn table(&mut self, caption: &str, headers: &[String], rows: &[Vec<Cell>], weights: &[f64]) {
        let size = 7.5;
        let lh = size * 1.3;
        let total: f64 = weights.iter().sum::<f64>().max(1e-9);
        let widths: Vec<f64> = weights.iter().map(|w| w / total * CONTENT_W).collect();
        let lines_of = |this: &Self, cells: &[String], bold: bool| -> Vec<Vec<String>> {
            cells.iter().zip(&widths).map(|(c, w)| this.wrap(c, size, bold, w - 4.0)).collect()
        };
        let header_lines = lines_of(self, headers, true);
        let header_h = header_lines.iter().map(Vec::len).max().unwrap_or(1) as f64 * lh + 4.0;
        self.ensure(12.0 + header_h + lh * 2.0);
        self.y += 10.0;
        let y = self.y - 1.0;
        self.text(MARGIN, y, 8.5, true, Color::INK, caption);
        self.y += 3.0;
        let draw_header = |this: &mut Self| {
            this.rect(MARGIN, this.y, CONTENT_W, header_h, Color(230, 236, 244));
            let mut x = MARGIN;
            for (lines, w) in header_lines.iter().zip(&widths) {
                for (i, l) in lines.iter().enumerate() {
                    let y = this.y + (i as f64 + 1.0) * lh;
                    this.text(x + 2.0, y, size, true, Color::INK, l.clone());
                }
                x += w;
            }
            this.y += header_h;
        };
        draw_header(self);
        for row in rows {
            let texts: Vec<String> = row.iter().map(|c| c.text.clone()).collect();
            let cells = lines_of(self, &texts, false);
            let h = cells.iter().map(Vec::len).max().unwrap_or(1) as f64 * lh + 3.0;
            if self.y + h > Self::bottom() {
                self.new_page();
                draw_header(self);
            }
            let mut x = MARGIN;
            for ((lines, w), cell) in cells.iter().zip(&widths).zip(row) {
                for (i, l) in lines.iter().enumerate() {
                    let y = self.y + (i as f64 + 1.0) * lh;
                    let lx = if cell.numeric { x + w - 2.0 - self.fonts.regular.width(l, size) } else { x + 2.0 };
                    self.text(lx, y, size, false, Color::INK, l.clone());
                }
                x += w;
            }
            self.y += h;
            let y = self.y - 0.5;
            self.page().push(Op::Rect { x: MARGIN, y, w: CONTENT_W, h: 0.4, color: Color::LIGHT });
        }
        self.y += 6.0;
    }

    fn chart(&mut self, scene: &Scene) {
        let scale = (CONTENT_W / scene.width).min(1.0);
        let h = scene.height * scale;
        self.ensure(h + 6.0);
        let x = MARGIN;
        let y = self.y;
        self.page().push(Op::Scene { x, y, scale, scene: scene.clone() });
        self.y += h + 6.0;
    }

    fn grid(&mut self, scenes: &[Scene]) {
        let gap = 8.0;
        let mut x = MARGIN;
        let mut row_h: f64 = 0.0;
        for scene in scenes {
            let scale = (CONTENT_W / scene.width).min(1.0);
            let (w, h) = (scene.width * scale, scene.height * scale);
            if x + w > MARGIN + CONTENT_W + 0.5 {
                self.y += row_h + gap;
                x = MARGIN;
                row_h = 0.0;
            }
            if x == MARGIN {
                self.ensure(h + gap);
            }
            let y = self.y;
            self.page().push(Op::Scene { x, y, scale, scene: scene.clone() });
            x += w + gap;
            row_h = row_h.max(h);
        }
        self.y += row_h + gap;
    }
}

/// The report as PDF bytes.
pub fn render(b: &Briefing) -> Result<Vec<u8>, PdfError> {
    let fonts = Fonts::load()?;
    let mut layout = Layout::new(&fonts);
    // Title block.
    for line in layout.wrap(&b.title, 16.0, true, CONTENT_W) {
        layout.y += 20.0;
        let y = layout.y;
        layout.text(MARGIN, y, 16.0, true, Color::INK, line);
    }
    layout.y += 6.0;
    let made = tf(
        b.lang,
        "doc.made_by",
        &[("when", &b.generated.strftime("%Y-%m-%d %H:%M").to_string()), ("audience", crate::doc::audience_name(b))],
    );
    let meta = format!("{made} {}", crate::doc::audience_line(b));
    layout.paragraph(&meta, 8.0, false, 0.0);
    for block in blocks(b) {
        match block {
            Block::Heading(h) => layout.heading(&h),
            Block::Paragraph(p) => layout.paragraph(&p, 9.0, false, 0.0),
            Block::Summary(lines) => {
                for l in lines {
                    layout.paragraph(&l, 10.0, false, 0.0);
                }
            }
            Block::Figures(list) => layout.figures(&list),
            Block::Table { caption, headers, rows, widths } => layout.table(&caption, &headers, &rows, &widths),
            Block::Chart(scene) => layout.chart(&scene),
            Block::Grid(scenes) => layout.grid(&scenes),
            Block::Bullets(items) => {
                for i in items {
                    layout.paragraph(&format!("• {i}"), 8.5, false, 6.0);
                }
            }
        }
    }
    // Footers, now that the number of pages is known.
    let n = layout.pages.len();
    let foot = tf(
        b.lang,
        "doc.footer",
        &[("period", &texts::period(b.lang, b.from, b.to)), ("audience", crate::doc::audience_name(b))],
    );
    for (i, page) in layout.pages.iter_mut().enumerate() {
        let y = PAGE_H - MARGIN + 4.0;
        page.push(Op::Text { x: MARGIN, y, size: 7.5, bold: false, color: Color::GREY, text: foot.clone() });
        let number = tf(b.lang, "doc.page", &[("i", &(i + 1).to_string()), ("n", &n.to_string())]);
        let x = PAGE_W - MARGIN - fonts.regular.width(&number, 7.5);
        page.push(Op::Text { x, y, size: 7.5, bold: false, color: Color::GREY, text: number });
    }
    write(&fonts, &layout.pages, &b.title)
}

/// Glyphs used per font, in the order first seen (their new ids), with a character each.
#[derive(Default)]
struct Used {
    remap: subsetter::GlyphRemapper,
    chars: BTreeMap<u16, char>,
}

impl Used {
    fn add(&mut self, font: &Font, text: &str) {
        for c in text.chars() {
            let new = self.remap.remap(font.glyph(c));
            self.chars.entry(new).or_insert(c);
        }
    }

    fn encode(&self, font: &Font, text: &str) -> Vec<u8> {
        text.chars().flat_map(|c| self.remap.get(font.glyph(c)).unwrap_or(0).to_be_bytes()).collect()
    }
}

fn texts(op: &Op) -> Vec<(bool, &str)> {
    match op {
        Op::Text { bold, text, .. } => vec![(*bold, text.as_str())],
        Op::Rect { .. } => vec![],
        Op::Scene { scene, .. } => scene
            .items
            .iter()
            .filter_map(|i| match i {
                Item::Text { text, bold, .. } => Some((*bold, text.as_str())),
                _ => None,
            })
            .collect(),
    }
}

fn deflate(data: &[u8]) -> Result<Vec<u8>, PdfError> {
    let mut e = ZlibEncoder::new(Vec::new(), Compression::new(6));
    e.write_all(data)?;
    Ok(e.finish()?)
}

fn write(fonts: &Fonts, pages: &[Vec<Op>], title: &str) -> Result<Vec<u8>, PdfError> {
    let mut used = [Used::default(), Used::default()];
    for op in pages.iter().flatten() {
        for (bold, text) in texts(op) {
            used[usize::from(bold)].add(fonts.of(bold), text);
        }
    }
    let mut pdf = Pdf::new();
    let mut next = 1;
    let mut alloc = || {
        let r = Ref::new(next);
        next += 1;
        r
    };
    let catalog = alloc();
    let tree = alloc();
    let info = alloc();
    let font_refs: Vec<Ref> = (0..2).map(|_| alloc()).collect();
    let names = [Name(b"F0"), Name(b"F1")];
    for (i, font) in [&fonts.regular, &fonts.bold].into_iter().enumerate() {
        let (cid, descriptor, file, cmap) = (alloc(), alloc(), alloc(), alloc());
        let u = &used[i];
        let base = format!("VCSUBS+{}", font.name);
        let base = Name(base.as_bytes());
        pdf.type0_font(font_refs[i])
            .base_font(base)
            .encoding_predefined(Name(b"Identity-H"))
            .descendant_font(cid)
            .to_unicode(cmap);
        let widths: Vec<f32> = u.remap.remapped_gids().map(|g| font.advance(g) as f32).collect();
        let system = SystemInfo { registry: Str(b"Adobe"), ordering: Str(b"Identity"), supplement: 0 };
        let mut c = pdf.cid_font(cid);
        c.subtype(CidFontType::Type2).base_font(base).system_info(system).font_descriptor(descriptor);
        c.default_width(0.0).cid_to_gid_map_predefined(Name(b"Identity"));
        c.widths().consecutive(0, widths);
        c.finish();
        let f = &font.face;
        let k = 1000.0 / font.upem as f32;
        let bbox = f.global_bounding_box();
        pdf.font_descriptor(descriptor)
            .name(base)
            .flags(FontFlags::NON_SYMBOLIC)
            .bbox(Rect::new(
                f32::from(bbox.x_min) * k,
                f32::from(bbox.y_min) * k,
                f32::from(bbox.x_max) * k,
                f32::from(bbox.y_max) * k,
            ))
            .italic_angle(0.0)
            .ascent(f32::from(f.ascender()) * k)
            .descent(f32::from(f.descender()) * k)
            .cap_height(f32::from(f.capital_height().unwrap_or(f.ascender())) * k)
            .stem_v(if i == 1 { 120.0 } else { 80.0 })
            .font_file2(file);
        let subset =
            subsetter::subset(font.data, 0, &u.remap).map_err(|e| PdfError::Subset(font.name, e.to_string()))?;
        let packed = deflate(&subset)?;
        pdf.stream(file, &packed).filter(Filter::FlateDecode).pair(Name(b"Length1"), subset.len() as i32);
        let mut map = UnicodeCmap::new(Name(b"Custom"), system);
        for (g, c) in &u.chars {
            map.pair(*g, *c);
        }
        pdf.cmap(cmap, &map.finish());
    }

    let page_refs: Vec<Ref> = pages.iter().map(|_| alloc()).collect();
    let content_refs: Vec<Ref> = pages.iter().map(|_| alloc()).collect();
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree).kids(page_refs.iter().copied()).count(pages.len() as i32);
    pdf.document_info(info).title(TextStr(title)).producer(TextStr("vitalcore"));
    for ((ops, page_ref), content_ref) in pages.iter().zip(&page_refs).zip(&content_refs) {
        let mut page = pdf.page(*page_ref);
        page.media_box(Rect::new(0.0, 0.0, PAGE_W as f32, PAGE_H as f32)).parent(tree).contents(*content_ref);
        page.resources().fonts().pair(names[0], font_refs[0]).pair(names[1], font_refs[1]);
        page.finish();
        let mut content = Content::new();
        for op in ops {
            draw(&mut content, fonts, &used, &names, op);
        }
        let packed = deflate(&content.finish())?;
        pdf.stream(*content_ref, &packed).filter(Filter::FlateDecode);
    }
    Ok(pdf.finish())
}

fn draw(c: &mut Content, fonts: &Fonts, used: &[Used; 2], names: &[Name; 2], op: &Op) {
    let text = |c: &mut Content, x: f32, y: f32, size: f32, bold: bool, color: Color, s: &str, flip: bool| {
        let (r, g, b) = color.unit();
        c.set_fill_rgb(r, g, b);
        c.begin_text();
        c.set_font(names[usize::from(bold)], size);
        c.set_text_matrix([1.0, 0.0, 0.0, if flip { -1.0 } else { 1.0 }, x, y]);
        c.show(Str(&used[usize::from(bold)].encode(fonts.of(bold), s)));
        c.end_text();
    };
    match op {
        Op::Text { x, y, size, bold, color, text: s } => {
            text(c, *x as f32, (PAGE_H - y) as f32, *size as f32, *bold, *color, s, false);
        }
        Op::Rect { x, y, w, h, color } => {
            let (r, g, b) = color.unit();
            c.set_fill_rgb(r, g, b);
            c.rect(*x as f32, (PAGE_H - y - h) as f32, *w as f32, *h as f32);
            c.fill_nonzero();
        }
        Op::Scene { x, y, scale, scene } => {
            c.save_state();
            // Scene coordinates run downwards from the scene's top left.
            c.transform([*scale as f32, 0.0, 0.0, -*scale as f32, *x as f32, (PAGE_H - y) as f32]);
            for item in &scene.items {
                match item {
                    Item::Rect { x, y, w, h, fill } => {
                        let (r, g, b) = fill.unit();
                        c.set_fill_rgb(r, g, b);
                        c.rect(*x as f32, *y as f32, *w as f32, *h as f32);
                        c.fill_nonzero();
                    }
                    Item::Line { points, stroke, width } => {
                        if points.len() < 2 {
                            continue;
                        }
                        let (r, g, b) = stroke.unit();
                        c.set_stroke_rgb(r, g, b);
                        c.set_line_width(*width as f32);
                        c.move_to(points[0].0 as f32, points[0].1 as f32);
                        for p in &points[1..] {
                            c.line_to(p.0 as f32, p.1 as f32);
                        }
                        c.stroke();
                    }
                    Item::Shape { rings, fill, stroke, width } => {
                        for ring in rings.iter().filter(|r| r.len() >= 2) {
                            c.move_to(ring[0].0 as f32, ring[0].1 as f32);
                            for p in &ring[1..] {
                                c.line_to(p.0 as f32, p.1 as f32);
                            }
                            c.close_path();
                        }
                        let (r, g, b) = fill.unit();
                        c.set_fill_rgb(r, g, b);
                        let (r, g, b) = stroke.unit();
                        c.set_stroke_rgb(r, g, b);
                        c.set_line_width(*width as f32);
                        c.fill_even_odd_and_stroke();
                    }
                    Item::Dot { x, y, r: radius, fill } => {
                        let (r, g, b) = fill.unit();
                        c.set_fill_rgb(r, g, b);
                        let (x, y, k) = (*x as f32, *y as f32, *radius as f32);
                        let m = k * 0.552_284_8;
                        c.move_to(x + k, y);
                        c.cubic_to(x + k, y + m, x + m, y + k, x, y + k);
                        c.cubic_to(x - m, y + k, x - k, y + m, x - k, y);
                        c.cubic_to(x - k, y - m, x - m, y - k, x, y - k);
                        c.cubic_to(x + m, y - k, x + k, y - m, x + k, y);
                        c.close_path();
                        c.fill_nonzero();
                    }
                    Item::Text { x, y, size, text: s, anchor, fill, bold } => {
                        let w = fonts.of(*bold).width(s, *size);
                        let x = match anchor {
                            Anchor::Start => *x,
                            Anchor::Middle => x - w / 2.0,
                            Anchor::End => x - w,
                        };
                        text(c, x as f32, *y as f32, *size as f32, *bold, *fill, s, true);
                    }
                }
            }
            c.restore_state();
        }
    }
}
