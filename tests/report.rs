//! `sim report`: snapshot of the Markdown, the HTML in headless Chromium, the notebook
//! validated and executed with nbformat / nbclient.
//!
//! The Chromium and notebook tests need `chromium` and a Python with nbformat, nbclient,
//! ipykernel, polars and matplotlib; `scripts/test.sh` provides both and sets
//! SCALESIM_REQUIRE_TOOLS=1, which turns a missing tool into a failure.

mod common;

use std::path::{Path, PathBuf};

use common::{sim, sweep, write};
use predicates::prelude::*;

const SWEEP: &str = r#"
name = "rep"
description = "A small sweep for the report tests"
seed = 5
[trace]
generator = { preset = "spiky", days = 3 }
[window]
train = "2d"
[simulation]
startup_delay_s = [0, 120]
[[forecasters]]
kind = "seasonal_naive"
period = 1440
[[forecasters]]
kind = "moving_average"
window = 15
[[policies]]
kind = "static"
replicas = 3
[[policies]]
kind = "buffered"
buffer = [1.0, 1.2]
[[policies]]
kind = "hpa"
"#;

/// Runs the sweep and the report once per test binary, in a folder kept for the process.
fn report_dir() -> &'static Path {
    static DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        let d = tempfile::tempdir().unwrap().keep();
        let sc = write(&d, "rep.toml", SWEEP);
        sweep(&sc, d.join("out")).success();
        sim()
            .arg("report")
            .arg(d.join("out/rep"))
            .assert()
            .success();
        d.join("out/rep")
    })
}

fn tool(env: &str, default: &str) -> Option<String> {
    let cmd = std::env::var(env).unwrap_or_else(|_| default.to_string());
    let ok = std::process::Command::new(&cmd)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if ok {
        return Some(cmd);
    }
    assert!(
        std::env::var("SCALESIM_REQUIRE_TOOLS").is_err(),
        "{cmd} is required (set {env}, or run scripts/test.sh)"
    );
    eprintln!("skipping: {cmd} not available (scripts/test.sh installs it)");
    None
}

#[test]
fn markdown_report_snapshot() {
    let dir = report_dir();
    let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
    insta::assert_snapshot!("rep_report_md", md);
}

#[test]
fn every_chart_is_written_as_png_and_svg_and_inlined_in_the_html() {
    let dir = report_dir();
    let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    let charts: Vec<&str> = md
        .lines()
        .filter_map(|l| l.strip_prefix("!["))
        .filter_map(|l| l.split("](plots/").nth(1))
        .map(|l| l.trim_end_matches(".png)"))
        .collect();
    // 2 forecasts, errors, replicas, the worst-day zoom, latency, bars, Pareto, regret,
    // 2 heatmaps.
    assert_eq!(charts.len(), 11, "{charts:?}");
    for c in &charts {
        let png = std::fs::read(dir.join(format!("plots/{c}.png"))).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "{c}");
        let svg = std::fs::read_to_string(dir.join(format!("plots/{c}.svg"))).unwrap();
        assert!(svg.contains("<svg"), "{c}");
        assert!(html.contains(&format!("id=\"chart-{c}\"")), "{c} inlined");
    }
    assert!(
        !html.contains("<script") && !html.contains("src=\"http"),
        "self-contained, no scripts"
    );
    assert_eq!(html.matches("<svg").count(), 11);
}

#[test]
fn report_refuses_a_folder_that_is_not_a_sweep() {
    let d = tempfile::tempdir().unwrap();
    sim()
        .arg("report")
        .arg(d.path())
        .assert()
        .failure()
        .stderr(predicate::str::contains("not a sweep folder"));
}

#[test]
fn html_renders_in_headless_chromium() {
    let Some(chromium) = tool("SCALESIM_CHROMIUM", "chromium") else {
        return;
    };
    let dir = report_dir();
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    // A copy of the page with a probe that reports every chart's rendered size.
    let probe = "<script>\nconst sizes = [...document.querySelectorAll('figure.chart svg')].map(s => { const b = s.getBoundingClientRect(); return [Math.round(b.width), Math.round(b.height)]; });\nconst out = document.createElement('pre'); out.id = 'probe'; out.textContent = JSON.stringify(sizes); document.body.appendChild(out);\n</script>\n</body>";
    let harness = dir.join("probe.html");
    std::fs::write(&harness, html.replace("</body>", probe)).unwrap();
    let flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--enable-logging=stderr",
        "--v=0",
        "--window-size=1280,4000",
    ];
    let dom = std::process::Command::new(&chromium)
        .args(flags)
        .arg("--dump-dom")
        .arg(format!("file://{}", harness.display()))
        .output()
        .unwrap();
    assert!(
        dom.status.success(),
        "{}",
        String::from_utf8_lossy(&dom.stderr)
    );
    let dom_text = String::from_utf8_lossy(&dom.stdout);
    let sizes_json = dom_text
        .split("<pre id=\"probe\">")
        .nth(1)
        .and_then(|s| s.split("</pre>").next())
        .expect("probe ran");
    let sizes: Vec<(f64, f64)> = serde_json::from_str(sizes_json).unwrap();
    assert_eq!(sizes.len(), 11);
    assert!(
        sizes.iter().all(|&(w, h)| w > 100.0 && h > 100.0),
        "{sizes:?}"
    );
    let log = String::from_utf8_lossy(&dom.stderr);
    assert!(
        !log.lines()
            .any(|l| l.contains("CONSOLE") && (l.contains("Error") || l.contains("Uncaught"))),
        "console errors:\n{log}"
    );
    std::fs::remove_file(&harness).unwrap();
    // The report itself, as a reader sees it.
    let shot = dir.join("screenshot.png");
    let out = std::process::Command::new(&chromium)
        .args(flags)
        .arg(format!("--screenshot={}", shot.display()))
        .arg(format!("file://{}", dir.join("report.html").display()))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&shot).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    let px = &buf[..info.buffer_size()];
    let non_white = px
        .chunks(info.color_type.samples())
        .filter(|p| p.iter().take(3).any(|&c| c < 200))
        .count();
    assert!(
        non_white > px.len() / info.color_type.samples() / 50,
        "page looks blank: {non_white} dark pixels"
    );
}

#[test]
fn notebook_is_valid_and_its_code_runs() {
    let Some(python) = tool("SCALESIM_PYTHON", "python3") else {
        return;
    };
    let check = std::process::Command::new(&python)
        .args(["-c", "import nbformat, nbclient, polars, matplotlib"])
        .output()
        .unwrap();
    if !check.status.success() {
        assert!(
            std::env::var("SCALESIM_REQUIRE_TOOLS").is_err(),
            "{python} lacks nbformat/nbclient/polars/matplotlib: run scripts/test.sh"
        );
        eprintln!("skipping: {python} lacks the notebook packages");
        return;
    }
    let dir = report_dir();
    let script = "import nbformat, nbclient\nnb = nbformat.read('report.ipynb', as_version=4)\nnbformat.validate(nb)\nassert nb.nbformat == 4\ncode = [c for c in nb.cells if c.cell_type == 'code']\nassert all(c.outputs for c in code[1:]), 'outputs embedded'\nnbclient.NotebookClient(nb, timeout=300, kernel_name='python3').execute()\nerrors = [o for c in code for o in c.outputs if o.output_type == 'error']\nassert not errors, errors\nimages = sum(1 for c in code for o in c.outputs if 'image/png' in o.get('data', {}))\nprint('executed', len(code), 'code cells,', images, 'images')\nassert images >= 9, images\n";
    let out = std::process::Command::new(&python)
        .args(["-c", script])
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
