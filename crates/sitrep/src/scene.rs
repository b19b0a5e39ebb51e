//! A chart or map as a few drawing primitives, drawn once and written out
//! twice: as inline SVG (the HTML report, the dashboard) and as PDF path
//! and text operators ([`crate::pdf`]). Coordinates are in points, origin
//! at the top left, y downwards (as in SVG).

use std::fmt::Write;

/// An sRGB colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Color(pub u8, pub u8, pub u8);

impl Color {
    pub const INK: Color = Color(33, 33, 33);
    pub const GREY: Color = Color(120, 120, 120);
    pub const LIGHT: Color = Color(225, 225, 225);
    pub const WHITE: Color = Color(255, 255, 255);
    pub const BLUE: Color = Color(31, 95, 160);
    pub const RED: Color = Color(179, 0, 0);
    pub const ORANGE: Color = Color(227, 116, 0);

    pub fn hex(self) -> String {
        format!("#{:02x}{:02x}{:02x}", self.0, self.1, self.2)
    }

    /// The components as PDF wants them (0 to 1).
    pub fn unit(self) -> (f32, f32, f32) {
        (f32::from(self.0) / 255.0, f32::from(self.1) / 255.0, f32::from(self.2) / 255.0)
    }
}

/// Where a text's x is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anchor {
    Start,
    Middle,
    End,
}

/// One drawing primitive.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    Rect {
        x: f64,
        y: f64,
        w: f64,
        h: f64,
        fill: Color,
    },
    /// An open polyline.
    Line {
        points: Vec<(f64, f64)>,
        stroke: Color,
        width: f64,
    },
    /// Closed rings filled even-odd (holes stay holes), outlined.
    Shape {
        rings: Vec<Vec<(f64, f64)>>,
        fill: Color,
        stroke: Color,
        width: f64,
    },
    Dot {
        x: f64,
        y: f64,
        r: f64,
        fill: Color,
    },
    /// `y` is the baseline.
    Text {
        x: f64,
        y: f64,
        size: f64,
        text: String,
        anchor: Anchor,
        fill: Color,
        bold: bool,
    },
}

/// A chart: its size, what a screen reader says of it, and its items.
#[derive(Debug, Clone, PartialEq)]
pub struct Scene {
    pub width: f64,
    pub height: f64,
    pub label: String,
    pub items: Vec<Item>,
}

impl Scene {
    pub fn new(width: f64, height: f64, label: impl Into<String>) -> Scene {
        Scene { width, height, label: label.into(), items: Vec::new() }
    }

    pub fn rect(&mut self, x: f64, y: f64, w: f64, h: f64, fill: Color) {
        self.items.push(Item::Rect { x, y, w, h, fill });
    }

    pub fn line(&mut self, points: Vec<(f64, f64)>, stroke: Color, width: f64) {
        self.items.push(Item::Line { points, stroke, width });
    }

    pub fn text(&mut self, x: f64, y: f64, size: f64, text: impl Into<String>, anchor: Anchor) {
        self.items.push(Item::Text { x, y, size, text: text.into(), anchor, fill: Color::INK, bold: false });
    }

    /// A text in `fill`, bold or not.
    pub fn label(&mut self, at: (f64, f64), size: f64, text: impl Into<String>, anchor: Anchor, style: (Color, bool)) {
        let (x, y) = at;
        self.items.push(Item::Text { x, y, size, text: text.into(), anchor, fill: style.0, bold: style.1 });
    }

    /// The scene as an inline `<svg>` element: no style attribute (the
    /// server's Content-Security-Policy forbids inline style), presentation
    /// attributes only, `role="img"` with its label for screen readers.
    pub fn to_svg(&self) -> String {
        let mut s = String::with_capacity(256 + self.items.len() * 64);
        let _ = write!(
            s,
            r#"<svg viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" aria-label="{label}" class="chart" font-family="DejaVu Sans, Verdana, sans-serif">"#,
            w = num(self.width),
            h = num(self.height),
            label = escape(&self.label)
        );
        let _ = write!(s, "<title>{}</title>", escape(&self.label));
        for item in &self.items {
            match item {
                Item::Rect { x, y, w, h, fill } => {
                    let _ = write!(
                        s,
                        r#"<rect x="{}" y="{}" width="{}" height="{}" fill="{}"/>"#,
                        num(*x),
                        num(*y),
                        num(*w),
                        num(*h),
                        fill.hex()
                    );
                }
                Item::Line { points, stroke, width } => {
                    let pts: Vec<String> = points.iter().map(|(x, y)| format!("{},{}", num(*x), num(*y))).collect();
                    let _ = write!(
                        s,
                        r#"<polyline points="{}" fill="none" stroke="{}" stroke-width="{}"/>"#,
                        pts.join(" "),
                        stroke.hex(),
                        num(*width)
                    );
                }
                Item::Shape { rings, fill, stroke, width } => {
                    let mut d = String::new();
                    for ring in rings {
                        for (i, (x, y)) in ring.iter().enumerate() {
                            let _ = write!(d, "{}{},{}", if i == 0 { "M" } else { "L" }, num(*x), num(*y));
                        }
                        d.push('Z');
                    }
                    let _ = write!(
                        s,
                        r#"<path d="{d}" fill="{}" fill-rule="evenodd" stroke="{}" stroke-width="{}"/>"#,
                        fill.hex(),
                        stroke.hex(),
                        num(*width)
                    );
                }
                Item::Dot { x, y, r, fill } => {
                    let _ = write!(
                        s,
                        r#"<circle cx="{}" cy="{}" r="{}" fill="{}"/>"#,
                        num(*x),
                        num(*y),
                        num(*r),
                        fill.hex()
                    );
                }
                Item::Text { x, y, size, text, anchor, fill, bold } => {
                    let anchor = match anchor {
                        Anchor::Start => "start",
                        Anchor::Middle => "middle",
                        Anchor::End => "end",
                    };
                    let _ = write!(
                        s,
                        r#"<text x="{}" y="{}" font-size="{}" text-anchor="{anchor}" fill="{}"{}>{}</text>"#,
                        num(*x),
                        num(*y),
                        num(*size),
                        fill.hex(),
                        if *bold { r#" font-weight="bold""# } else { "" },
                        escape(text)
                    );
                }
            }
        }
        s.push_str("</svg>");
        s
    }
}

/// A coordinate with at most two decimals, no trailing zeros.
fn num(v: f64) -> String {
    let v = if v.is_finite() { v } else { 0.0 };
    let s = format!("{v:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".into() } else { s.to_string() }
}

/// `& < > " '` escaped, for element content and quoted attributes.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn svg_escapes_text_and_carries_no_style_attribute() {
        let mut s = Scene::new(100.0, 50.0, "a <chart>");
        s.rect(0.0, 0.0, 10.5, 20.0, Color::BLUE);
        s.text(5.0, 5.0, 9.0, "x < y & \"z\"", Anchor::Middle);
        let svg = s.to_svg();
        assert!(svg.contains(r#"aria-label="a &lt;chart&gt;""#), "{svg}");
        assert!(svg.contains("x &lt; y &amp; &quot;z&quot;"), "{svg}");
        assert!(svg.contains(r##"<rect x="0" y="0" width="10.5" height="20" fill="#1f5fa0"/>"##), "{svg}");
        assert!(!svg.contains("style="), "{svg}");
    }
}
