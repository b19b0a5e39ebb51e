//! The situation report as one self-contained HTML file: inline CSS, the
//! charts and the map as inline SVG, no script, nothing loaded from
//! anywhere (no link, image, font or frame with an address). It prints on
//! A4 (print CSS) and reads on a 390-pixel phone (tables scroll inside
//! their own box).

use crate::doc::{Block, Cell, blocks};
use crate::scene::escape;
use std::fmt::Write;
use vitalcore_app::briefing::Briefing;

const CSS: &str = "\
body{font:15px/1.45 'DejaVu Sans',Verdana,sans-serif;color:#212121;max-width:60em;margin:0 auto;padding:1em}\
h1{font-size:1.5em;margin:.2em 0}h2{font-size:1.15em;border-bottom:2px solid #1f5fa0;margin-top:1.6em;padding-bottom:.15em}\
.meta{color:#555;font-size:.9em}.summary p{margin:.3em 0}.summary{background:#eef3f9;padding:.6em .9em;border-left:4px solid #1f5fa0}\
.figures{display:flex;flex-wrap:wrap;gap:.6em;padding:0;list-style:none}.figures li{background:#f5f5f5;padding:.4em .7em;min-width:8em}\
.figures b{display:block;font-size:1.2em}.scroll{overflow-x:auto;max-width:100%}\
table{border-collapse:collapse;margin:.5em 0;font-size:.9em}caption{text-align:left;font-weight:bold;padding:.3em 0}\
th,td{border-bottom:1px solid #ddd;padding:.25em .45em;text-align:left;vertical-align:top}td.n{text-align:right;white-space:nowrap}\
svg.chart{max-width:100%;height:auto;display:block;margin:.4em 0}.grid{display:flex;flex-wrap:wrap;gap:.4em}\
.grid svg.chart{flex:0 1 230px}.note{font-size:.85em;color:#555}\
@media print{body{max-width:none;font-size:10pt}h2{break-after:avoid}table,svg{break-inside:avoid}}\
@page{size:A4;margin:15mm}";

/// The report as a complete HTML document.
pub fn render(b: &Briefing) -> String {
    let mut s = String::with_capacity(64 * 1024);
    let _ = write!(
        s,
        "<!doctype html>\n<html lang=\"{}\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>{}</title><style>{CSS}</style></head><body><main>",
        b.lang,
        escape(&b.title)
    );
    let _ = write!(s, "<h1>{}</h1>", escape(&b.title));
    let made = vitalcore_app::briefing::texts::tf(
        b.lang,
        "doc.made_by",
        &[("when", &b.generated.strftime("%Y-%m-%d %H:%M").to_string()), ("audience", crate::doc::audience_name(b))],
    );
    let _ = write!(s, "<p class=\"meta\">{} {}</p>", escape(&made), escape(&crate::doc::audience_line(b)));
    body(&mut s, &blocks(b));
    s.push_str("</main></body></html>\n");
    s
}

/// The blocks as HTML (also the body of the dashboard's report preview).
pub fn body(s: &mut String, blocks: &[Block]) {
    for block in blocks {
        match block {
            Block::Heading(h) => {
                let _ = write!(s, "<h2>{}</h2>", escape(h));
            }
            Block::Paragraph(p) => {
                let _ = write!(s, "<p>{}</p>", escape(p));
            }
            Block::Summary(lines) => {
                s.push_str("<div class=\"summary\">");
                for l in lines {
                    let _ = write!(s, "<p>{}</p>", escape(l));
                }
                s.push_str("</div>");
            }
            Block::Figures(list) => {
                s.push_str("<ul class=\"figures\">");
                for (label, value, report) in list {
                    let class = if *report { " class=\"rc\"" } else { "" };
                    let _ = write!(s, "<li><b{class}>{}</b>{}</li>", escape(value), escape(label));
                }
                s.push_str("</ul>");
            }
            Block::Table { caption, headers, rows, .. } => {
                let _ = write!(s, "<div class=\"scroll\"><table><caption>{}</caption><thead><tr>", escape(caption));
                for h in headers {
                    let _ = write!(s, "<th scope=\"col\">{}</th>", escape(h));
                }
                s.push_str("</tr></thead><tbody>");
                for row in rows {
                    s.push_str("<tr>");
                    for c in row {
                        cell(s, c);
                    }
                    s.push_str("</tr>");
                }
                s.push_str("</tbody></table></div>");
            }
            Block::Chart(scene) => s.push_str(&scene.to_svg()),
            Block::Grid(scenes) => {
                s.push_str("<div class=\"grid\">");
                for scene in scenes {
                    s.push_str(&scene.to_svg());
                }
                s.push_str("</div>");
            }
            Block::Bullets(items) => {
                s.push_str("<ul class=\"note\">");
                for i in items {
                    let _ = write!(s, "<li>{}</li>", escape(i));
                }
                s.push_str("</ul>");
            }
        }
    }
}

fn cell(s: &mut String, c: &Cell) {
    let mut classes = Vec::new();
    if c.numeric {
        classes.push("n");
    }
    if c.report {
        classes.push("rc");
    }
    if classes.is_empty() {
        let _ = write!(s, "<td>{}</td>", escape(&c.text));
    } else {
        let _ = write!(s, "<td class=\"{}\">{}</td>", classes.join(" "), escape(&c.text));
    }
}
