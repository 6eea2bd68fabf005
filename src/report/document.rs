//! A report as a list of blocks, rendered to Markdown, HTML and a Jupyter notebook.

use base64::Engine;
use serde_json::json;

/// One piece of a report.
#[derive(Debug, Clone)]
pub enum Block {
    Heading(u8, String),
    Para(String),
    Bullets(Vec<String>),
    Table {
        header: Vec<String>,
        rows: Vec<Vec<String>>,
        python: String,
    },
    Chart {
        name: String,
        title: String,
        svg: String,
        png: Vec<u8>,
        python: String,
    },
}

/// The whole report.
#[derive(Debug, Clone)]
pub struct Document {
    pub title: String,
    /// Python run first in the notebook (imports, loading the sweep's files).
    pub setup_python: String,
    pub blocks: Vec<Block>,
}

fn md_cell(s: &str) -> String {
    s.replace('|', "\\|")
}

fn md_table(header: &[String], rows: &[Vec<String>]) -> String {
    let mut t = format!(
        "| {} |\n|{}|\n",
        header
            .iter()
            .map(|h| md_cell(h))
            .collect::<Vec<_>>()
            .join(" | "),
        vec!["---"; header.len()].join("|")
    );
    for r in rows {
        t += &format!(
            "| {} |\n",
            r.iter().map(|c| md_cell(c)).collect::<Vec<_>>().join(" | ")
        );
    }
    t
}

/// Escapes text for HTML.
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn html_table(header: &[String], rows: &[Vec<String>]) -> String {
    let mut t = String::from("<table>\n<thead><tr>");
    for h in header {
        t += &format!("<th>{}</th>", esc(h));
    }
    t += "</tr></thead>\n<tbody>\n";
    for r in rows {
        t += "<tr>";
        for c in r {
            t += &format!("<td>{}</td>", esc(c));
        }
        t += "</tr>\n";
    }
    t + "</tbody>\n</table>\n"
}

impl Document {
    /// Markdown, with charts as `plots/<name>.png`.
    pub fn markdown(&self) -> String {
        let mut out = format!("# {}\n\n", self.title);
        for b in &self.blocks {
            match b {
                Block::Heading(l, t) => out += &format!("{} {}\n\n", "#".repeat(*l as usize), t),
                Block::Para(t) => out += &format!("{t}\n\n"),
                Block::Bullets(items) => {
                    for i in items {
                        out += &format!("- {i}\n");
                    }
                    out += "\n";
                }
                Block::Table { header, rows, .. } => {
                    out += &format!("{}\n", md_table(header, rows))
                }
                Block::Chart { name, title, .. } => {
                    out += &format!("![{title}](plots/{name}.png)\n\n")
                }
            }
        }
        out
    }

    /// One self-contained HTML file: inline SVG charts, no scripts, no external resources.
    pub fn html(&self) -> String {
        let mut body = String::new();
        for b in &self.blocks {
            match b {
                Block::Heading(l, t) => body += &format!("<h{l}>{}</h{l}>\n", esc(t)),
                Block::Para(t) => body += &format!("<p>{}</p>\n", esc(t)),
                Block::Bullets(items) => {
                    body += "<ul>\n";
                    for i in items {
                        body += &format!("<li>{}</li>\n", esc(i));
                    }
                    body += "</ul>\n";
                }
                Block::Table { header, rows, .. } => body += &html_table(header, rows),
                Block::Chart {
                    title, svg, name, ..
                } => {
                    let svg = svg.trim_start_matches(|c| c != '<');
                    let svg = svg
                        .strip_prefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?>")
                        .unwrap_or(svg);
                    body += &format!("<figure class=\"chart\" id=\"chart-{name}\">\n{svg}\n<figcaption>{}</figcaption>\n</figure>\n", esc(title));
                }
            }
        }
        format!(
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n<style>\nbody{{font-family:'DejaVu Sans',Helvetica,Arial,sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}}\ntable{{border-collapse:collapse;margin:1em 0;font-size:0.85em}}\nth,td{{border:1px solid #ccc;padding:3px 7px;text-align:right}}\nth{{background:#f3f3f3}}\nfigure.chart{{margin:1.5em 0}}\nfigure.chart svg{{max-width:100%;height:auto;display:block}}\nfigcaption{{font-size:0.85em;color:#555}}\n</style>\n</head>\n<body>\n<h1>{}</h1>\n{body}</body>\n</html>\n",
            esc(&self.title),
            esc(&self.title)
        )
    }

    /// A Jupyter notebook (nbformat 4.5): markdown cells for the text, code cells that
    /// rebuild each table and chart from the sweep's files, with outputs embedded.
    pub fn notebook(&self) -> serde_json::Value {
        let mut cells = Vec::new();
        let mut md = format!("# {}\n\n", self.title);
        let lines = |s: &str| -> Vec<String> {
            let mut v: Vec<String> = s.split_inclusive('\n').map(str::to_string).collect();
            if v.is_empty() {
                v.push(String::new());
            }
            v
        };
        let mut count = 0u32;
        let mut next_id = 0u32;
        let mut id = || {
            next_id += 1;
            format!("cell-{next_id:04}")
        };
        let flush = |md: &mut String,
                     cells: &mut Vec<serde_json::Value>,
                     id: &mut dyn FnMut() -> String| {
            if !md.trim().is_empty() {
                cells.push(json!({"cell_type": "markdown", "id": id(), "metadata": {}, "source": lines(md.trim_end())}));
            }
            md.clear();
        };
        flush(&mut md, &mut cells, &mut id);
        count += 1;
        cells.push(json!({"cell_type": "code", "id": id(), "execution_count": count, "metadata": {}, "outputs": [], "source": lines(&self.setup_python)}));
        for b in &self.blocks {
            match b {
                Block::Heading(l, t) => md += &format!("{} {}\n\n", "#".repeat(*l as usize), t),
                Block::Para(t) => md += &format!("{t}\n\n"),
                Block::Bullets(items) => {
                    for i in items {
                        md += &format!("- {i}\n");
                    }
                    md += "\n";
                }
                Block::Table {
                    header,
                    rows,
                    python,
                } => {
                    flush(&mut md, &mut cells, &mut id);
                    count += 1;
                    let plain = md_table(header, rows);
                    cells.push(json!({
                        "cell_type": "code", "id": id(), "execution_count": count, "metadata": {}, "source": lines(python),
                        "outputs": [{"output_type": "display_data", "metadata": {}, "data": {"text/html": lines(&html_table(header, rows)), "text/plain": lines(&plain)}}]
                    }));
                }
                Block::Chart {
                    title, png, python, ..
                } => {
                    flush(&mut md, &mut cells, &mut id);
                    count += 1;
                    let b64 = base64::engine::general_purpose::STANDARD.encode(png);
                    cells.push(json!({
                        "cell_type": "code", "id": id(), "execution_count": count, "metadata": {}, "source": lines(python),
                        "outputs": [{"output_type": "display_data", "metadata": {}, "data": {"image/png": b64, "text/plain": [format!("<{title}>")]}}]
                    }));
                }
            }
        }
        flush(&mut md, &mut cells, &mut id);
        json!({
            "cells": cells,
            "metadata": {
                "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                "language_info": {"name": "python"}
            },
            "nbformat": 4,
            "nbformat_minor": 5
        })
    }
}
