//! End-to-end tests of `accord analyze`: `--json` equals the library's analysis and the
//! reference JSONs' headline numbers, invalid and unreadable tables fail cleanly with located
//! messages, `--report` writes a self-contained HTML page, every figure as PNG and SVG and
//! `summary.csv` without clobbering, and — when chromium is installed — a headless browser
//! renders the page with its headings and figures (`ACCORD_REQUIRE_BROWSER=1` makes a missing
//! browser a failure).

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use accord_phantoms::report::{self, SUMMARY_COLUMNS};
use accord_phantoms::stats::{Analysis, analyze, parse_table};
use serde_json::Value;

#[path = "common/mod.rs"]
mod accord_cli;
use accord_cli::{files_with_extension, root, stderr};

fn stats_dir() -> PathBuf {
    root().join("tests/data/stats")
}

/// Runs `accord analyze <args>`.
fn accord(args: &[&str]) -> Output {
    let mut a = vec!["analyze"];
    a.extend_from_slice(args);
    accord_cli::accord(&a)
}

fn tables() -> Vec<PathBuf> {
    let v = files_with_extension(&stats_dir(), "csv");
    assert!(
        v.len() >= 11,
        "reference tables missing from tests/data/stats"
    );
    v
}

fn library_analysis(csv: &Path) -> Analysis {
    let text = std::fs::read_to_string(csv).unwrap();
    let stem = csv.file_stem().unwrap().to_str().unwrap();
    analyze(stem, &parse_table(&text))
}

/// Relative 1e-9 (absolute 1e-12 near zero), nulls equal to nulls.
fn close(ours: &Value, reference: &Value, what: &str) {
    match (ours.as_f64(), reference.as_f64()) {
        (Some(a), Some(b)) => assert!(
            (a - b).abs() <= 1e-9 * b.abs().max(1e-3),
            "{what}: {a} vs reference {b}"
        ),
        _ => assert_eq!(ours, reference, "{what}"),
    }
}

fn icc_of(block: &Value, form: &str) -> Value {
    block["forms"]
        .as_array()
        .and_then(|forms| forms.iter().find(|f| f["form"] == form))
        .map_or(Value::Null, |f| f["icc"].clone())
}

#[test]
fn json_equals_the_library_and_the_reference_headlines() {
    for csv in tables() {
        let name = csv.file_name().unwrap().to_string_lossy().into_owned();
        let out = accord(&[csv.to_str().unwrap(), "--json"]);
        let ours: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{name}: stdout is not JSON ({e}): {}", stderr(&out)));
        let lib = serde_json::to_value(library_analysis(&csv)).unwrap();
        assert_eq!(
            ours, lib,
            "{name}: CLI JSON differs from the library's analysis"
        );
        assert_eq!(ours["table"], csv.file_stem().unwrap().to_str().unwrap());
        let expect_error = ours["expect_error"].as_bool().unwrap();
        assert_eq!(
            out.status.success(),
            !expect_error,
            "{name}: {}",
            stderr(&out)
        );
        assert!(
            !stderr(&out).contains("panicked"),
            "{name}: {}",
            stderr(&out)
        );

        let reference: Value =
            serde_json::from_slice(&std::fs::read(csv.with_extension("json")).unwrap()).unwrap();
        assert_eq!(ours["expect_error"], reference["expect_error"], "{name}");
        if expect_error {
            continue;
        }
        let (r, rr) = (&ours["results"], &reference["results"]);
        let rois = r["per_roi"].as_array().unwrap();
        let ref_rois = rr["per_roi"].as_array().unwrap();
        assert_eq!(rois.len(), ref_rois.len(), "{name}");
        for (a, b) in rois.iter().zip(ref_rois) {
            let what = format!("{name} {}", b["roi"]);
            for key in [
                "cov_within_pct",
                "cov_between_pct",
                "cov_total_pct",
                "wsd",
                "rc",
            ] {
                close(&a[key], &b[key], &format!("{what} {key}"));
            }
            for form in ["ICC(2,1)", "ICC(3,1)"] {
                close(
                    &icc_of(&a["icc_between_sites"], form),
                    &icc_of(&b["icc_between_sites"], form),
                    &format!("{what} {form}"),
                );
            }
            let pairs = a["bland_altman"].as_array().unwrap();
            let ref_pairs = b["bland_altman"].as_array().unwrap();
            assert_eq!(pairs.len(), ref_pairs.len(), "{what}");
            for (p, q) in pairs.iter().zip(ref_pairs) {
                for kind in ["absolute", "percent"] {
                    for key in ["bias", "loa_lower", "loa_upper"] {
                        close(
                            &p[kind][key],
                            &q[kind][key],
                            &format!("{what} BA {kind} {key}"),
                        );
                    }
                }
            }
        }
        if let Some(pooled) = rr.get("pooled_subject_x_roi") {
            close(
                &icc_of(&r["pooled_subject_x_roi"]["icc_between_sites"], "ICC(2,1)"),
                &icc_of(&pooled["icc_between_sites"], "ICC(2,1)"),
                &format!("{name} pooled ICC(2,1)"),
            );
        }
        if let Some(rc) = rr.get("reference_comparison") {
            for (site, s) in rc["per_site_summary"].as_object().unwrap() {
                close(
                    &r["reference_comparison"]["per_site_summary"][site]["mean_deviation_pct"],
                    &s["mean_deviation_pct"],
                    &format!("{name} {site} mean deviation"),
                );
            }
        }
    }
}

#[test]
fn garbage_table_fails_with_json_and_located_errors() {
    let csv = stats_dir().join("garbage_non_numeric.csv");
    let out = accord(&[csv.to_str().unwrap(), "--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["expect_error"], true);
    assert!(json.get("results").is_none());
    let errors = json["validation"]["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 9, "{errors:?}");
    let err = stderr(&out);
    let located: Vec<&str> = err
        .lines()
        .filter(|l| l.starts_with(csv.to_str().unwrap()))
        .collect();
    for e in errors {
        let prefix = format!(
            "{}:{}: {}: ",
            csv.display(),
            e["line"],
            e["kind"].as_str().unwrap()
        );
        assert!(
            located.iter().any(|l| l.starts_with(&prefix)),
            "no stderr line starting with {prefix:?} in:\n{err}"
        );
    }
    assert!(err.contains(":3: non_numeric_value: "), "{err}");
    assert!(err.contains(":7: bad_session: "), "{err}");
    assert!(!err.contains("panicked"), "{err}");

    // Without --json: the same errors, nothing on stdout, and no report either.
    let dir = tempfile::tempdir().unwrap();
    let rep = dir.path().join("rep");
    let out = accord(&[csv.to_str().unwrap(), "--report", rep.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert!(
        stderr(&out).contains("no report written"),
        "{}",
        stderr(&out)
    );
    assert!(!rep.join("report.html").exists());
}

#[test]
fn missing_and_unreadable_tables_name_the_file() {
    let out = accord(&["no/such/table.csv"]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("no/such/table.csv"), "{err}");
    assert!(!err.contains("panicked"), "{err}");

    let dir = tempfile::tempdir().unwrap();
    let latin1 = dir.path().join("latin1.csv");
    std::fs::write(
        &latin1,
        b"subject,site,session,roi,value\ns\xe91,A,1,T1,1\n",
    )
    .unwrap();
    let out = accord(&[latin1.to_str().unwrap(), "--json"]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("latin1.csv") && err.contains("UTF-8"), "{err}");
    assert!(!err.contains("panicked"), "{err}");

    let out = accord(&[dir.path().to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains(dir.path().to_str().unwrap()));

    let empty = dir.path().join("empty.csv");
    std::fs::write(&empty, b"").unwrap();
    let out = accord(&[empty.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("empty.csv:1: unreadable_table"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn human_summary_shows_icc_a1_next_to_c1_with_koo_li() {
    let csv = stats_dir().join("traveling_5sites_2sessions.csv");
    let out = accord(&[csv.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("design: 6 subjects x 5 sites"), "{text}");
    let icc_lines: Vec<&str> = text.lines().filter(|l| l.contains("ICC(A,1)")).collect();
    assert!(
        icc_lines
            .iter()
            .any(|l| l.contains("ICC(C,1)") && l.contains("Koo & Li")),
        "{text}"
    );
    assert!(text.contains("CAM-Skyra - KCL-Premier"), "{text}");
    assert!(!text.contains("NaN"), "{text}");

    // Undefined statistics are worded, never NaN.
    let csv = stats_dir().join("degenerate_single_site.csv");
    let text = String::from_utf8(accord(&[csv.to_str().unwrap()]).stdout).unwrap();
    assert!(text.contains("undefined (fewer than 2 sites)"), "{text}");
    assert!(!text.contains("NaN"));

    let out = accord(&[csv.to_str().unwrap(), "--quiet"]);
    assert!(out.status.success() && out.stdout.is_empty());
}

fn is_png(bytes: &[u8]) -> bool {
    bytes.starts_with(b"\x89PNG\r\n\x1a\n")
}

fn is_svg(text: &str) -> bool {
    text.trim_start().starts_with("<svg")
        && text.trim_end().ends_with("</svg>")
        && text.matches("<svg").count() == 1
        && text.contains("viewBox")
}

/// Checks one report directory against the analysis it came from.
fn check_report(dir: &Path, analysis: &Analysis) {
    let results = analysis.results.as_ref().unwrap();
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    let mut figures = vec!["icc_forest", "cov_per_roi"];
    if results.reference_comparison.is_some() {
        figures.push("reference_scatter");
    }
    for stem in &figures {
        let png = std::fs::read(dir.join(format!("{stem}.png"))).unwrap();
        assert!(is_png(&png), "{stem}.png");
        let svg = std::fs::read_to_string(dir.join(format!("{stem}.svg"))).unwrap();
        assert!(is_svg(&svg), "{stem}.svg");
        assert!(
            html.contains(&format!("id=\"fig-{stem}\"")),
            "{stem} not in the page"
        );
    }
    // One Bland–Altman figure per site pair with >= 2 paired units, per ROI and pooled.
    let pooled = results
        .pooled_subject_x_roi
        .iter()
        .flat_map(|p| &p.bland_altman);
    let expected_ba = results
        .per_roi
        .iter()
        .flat_map(|r| &r.bland_altman)
        .chain(pooled)
        .filter(|p| p.absolute.spread.is_some())
        .count();
    let names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let ba_png: Vec<&String> = names
        .iter()
        .filter(|n| n.starts_with("ba_") && n.ends_with(".png"))
        .collect();
    let ba_svg = names
        .iter()
        .filter(|n| n.starts_with("ba_") && n.ends_with(".svg"))
        .count();
    assert_eq!(
        (ba_png.len(), ba_svg),
        (expected_ba, expected_ba),
        "{names:?}"
    );
    for n in &ba_png {
        assert!(is_png(&std::fs::read(dir.join(n)).unwrap()), "{n}");
    }
    assert!(!names.iter().any(|n| n.ends_with(".tmp")), "{names:?}");
    // The page: self-contained, no NaN, the expected sections, inline figures.
    assert!(html.starts_with("<!DOCTYPE html>"));
    for bad in [
        "http://", "https://", "<script", "<link", "NaN", "src=\"", "@import",
    ] {
        assert!(!html.contains(bad), "report.html contains {bad:?}");
    }
    for heading in [
        "Headline numbers",
        "Intraclass correlation between sites",
        "Variability: CoV, wSD, RC, reproducibility",
        "Bland–Altman agreement per site pair",
        "Methods and conventions",
    ] {
        assert!(html.contains(heading), "missing heading {heading}");
    }
    assert_eq!(
        html.matches("<svg ").count(),
        figures.len() + expected_ba,
        "inline figures"
    );
    assert!(html.contains("ICC(A,1)") && html.contains("ICC(C,1)"));
    assert!(html.contains("class=\"band band-") || html.contains("no band"));
    // summary.csv: header and one row per ROI (+ pooled), never NaN.
    let csv = std::fs::read_to_string(dir.join("summary.csv")).unwrap();
    let mut lines = csv.lines();
    assert_eq!(lines.next().unwrap(), SUMMARY_COLUMNS.join(","));
    let rows = results.per_roi.len() + usize::from(results.pooled_subject_x_roi.is_some());
    assert_eq!(lines.count(), rows, "{csv}");
    assert!(!csv.to_ascii_lowercase().contains("nan"), "{csv}");
    assert!(!csv.contains("inf"), "{csv}");
}

#[test]
fn report_writes_page_figures_and_summary() {
    let dir = tempfile::tempdir().unwrap();
    for name in [
        "traveling_5sites_2sessions",
        "nist_t1_4scanners_2sessions",
        "degenerate_single_site",
        "degenerate_zero_variance",
        "degenerate_perfect_agreement",
        "negative_icc",
        "real_hazen_t1_plate5_5sites",
    ] {
        let csv = stats_dir().join(format!("{name}.csv"));
        let out_dir = dir.path().join(name).join("nested");
        let out = accord(&[
            csv.to_str().unwrap(),
            "--report",
            out_dir.to_str().unwrap(),
            "--quiet",
        ]);
        assert!(out.status.success(), "{name}: {}", stderr(&out));
        assert!(out.stdout.is_empty(), "{name}: --quiet printed something");
        check_report(&out_dir, &library_analysis(&csv));
    }
    // The degenerate tables say why a statistic is missing.
    let html =
        std::fs::read_to_string(dir.path().join("degenerate_single_site/nested/report.html"))
            .unwrap();
    assert!(html.contains("undefined (fewer than 2 sites)"));
    let html = std::fs::read_to_string(
        dir.path()
            .join("degenerate_zero_variance/nested/report.html"),
    )
    .unwrap();
    assert!(html.contains("undefined (all values are equal"));
}

#[test]
fn report_refuses_to_clobber_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let rep = dir.path().join("rep");
    let csv = stats_dir().join("two_sites_bland_altman.csv");
    let args = [csv.to_str().unwrap(), "--report", rep.to_str().unwrap()];
    let out = accord(&args);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("report: "), "{text}");
    let page = rep.join("report.html");
    std::fs::write(&page, "sentinel").unwrap();
    let out = accord(&args);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("already exists"), "{}", stderr(&out));
    assert!(stderr(&out).contains("report.html"), "{}", stderr(&out));
    assert_eq!(std::fs::read_to_string(&page).unwrap(), "sentinel");
    let out = accord(&[args[0], args[1], args[2], "--force"]);
    assert!(out.status.success(), "{}", stderr(&out));
    check_report(&rep, &library_analysis(&csv));

    // A file where the directory should be: clear error, nothing written.
    let file = dir.path().join("file");
    std::fs::write(&file, "x").unwrap();
    let out = accord(&[args[0], "--report", file.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("not a directory"), "{}", stderr(&out));
}

#[test]
fn table_text_is_escaped_and_file_names_are_safe() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("evil.csv");
    let mut text = String::from("subject,site,session,roi,value,unit\n");
    for (s, v) in [("s1", 10.0), ("s2", 12.0), ("s3", 15.0), ("s4", 11.0)] {
        for (site, d) in [("<b>A&amp;</b>", 0.0), ("../B", 0.4), ("C \"q\"", -0.3)] {
            text.push_str(&format!(
                "{s},\"{}\",1,<script>alert(1)</script>,{},<i>u</i>\n",
                site.replace('"', "\"\""),
                v + d
            ));
        }
    }
    std::fs::write(&csv, text).unwrap();
    let rep = dir.path().join("rep");
    let out = accord(&[csv.to_str().unwrap(), "--report", rep.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let html = std::fs::read_to_string(rep.join("report.html")).unwrap();
    assert!(!html.contains("<script"), "unescaped ROI name");
    assert!(!html.contains("<b>A"), "unescaped site name");
    assert!(!html.contains("<i>u"), "unescaped unit");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    for e in std::fs::read_dir(&rep).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        assert!(
            name.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)),
            "unsafe file name {name}"
        );
        if name.ends_with(".svg") {
            let svg = std::fs::read_to_string(rep.join(&name)).unwrap();
            assert!(!svg.contains("<script") && !svg.contains("<b>"), "{name}");
        }
    }
    assert!(!dir.path().join("B").exists());
}

#[test]
fn library_render_is_pure_and_complete() {
    let csv = stats_dir().join("nist_t1_4scanners_2sessions.csv");
    let text = std::fs::read_to_string(&csv).unwrap();
    let parsed = parse_table(&text);
    let analysis = analyze("nist", &parsed);
    let units = report::roi_units(&parsed.table);
    let files = report::render(&analysis, &units).unwrap();
    assert_eq!(files.last().unwrap().name, "report.html");
    assert!(files.iter().any(|f| f.name == "reference_scatter.svg"));
    let again = report::render(&analysis, &units).unwrap();
    assert_eq!(files, again, "rendering is deterministic");
    let invalid = analyze("bad", &parse_table("nonsense\n"));
    assert!(report::render(&invalid, &units).is_err());
}

/// The first of chromium, chromium-browser, google-chrome found on PATH.
fn find_browser() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    for name in [
        "chromium",
        "chromium-browser",
        "google-chrome",
        "google-chrome-stable",
    ] {
        for dir in std::env::split_paths(&path) {
            let p = dir.join(name);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    None
}

/// Runs the browser with a time limit; stdout on success.
fn run_browser(
    browser: &Path,
    profile: &Path,
    extra: &[&str],
    url: &str,
) -> Result<String, String> {
    let mut child = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(url)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", browser.display()))?;
    // Drain the pipes on threads: the DOM is larger than a pipe buffer.
    let drain = |mut r: Box<dyn std::io::Read + Send>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = r.read_to_end(&mut buf);
            buf
        })
    };
    let stdout = drain(Box::new(child.stdout.take().expect("piped stdout")));
    let stderr = drain(Box::new(child.stderr.take().expect("piped stderr")));
    let start = Instant::now();
    let status = loop {
        match child.try_wait().map_err(|e| e.to_string())? {
            Some(status) => break status,
            None if start.elapsed() > Duration::from_secs(120) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err("browser timed out after 120 s".into());
            }
            None => std::thread::sleep(Duration::from_millis(100)),
        }
    };
    let out = stdout.join().unwrap_or_default();
    let err = stderr.join().unwrap_or_default();
    if !status.success() {
        return Err(format!(
            "browser exited with {status}: {}",
            String::from_utf8_lossy(&err)
        ));
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}

#[test]
fn headless_browser_renders_the_report() {
    let Some(browser) = find_browser() else {
        let msg = "headless-browser check SKIPPED: no chromium, chromium-browser or google-chrome \
                   on PATH (install chromium, or set ACCORD_REQUIRE_BROWSER=1 to make this fail)";
        if std::env::var("ACCORD_REQUIRE_BROWSER").is_ok_and(|v| v == "1") {
            panic!("{msg}");
        }
        eprintln!("{msg}");
        return;
    };
    // Kept under target/ so the page and the screenshot can be looked at afterwards.
    let base = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("analyze_browser");
    let _ = std::fs::remove_dir_all(&base);
    let rep = base.join("report");
    let csv = stats_dir().join("nist_t1_4scanners_2sessions.csv");
    let out = accord(&[
        csv.to_str().unwrap(),
        "--report",
        rep.to_str().unwrap(),
        "-q",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let page = rep.join("report.html").canonicalize().unwrap();
    let url = format!("file://{}", page.display());
    let profile = tempfile::tempdir().unwrap();
    let dom = run_browser(&browser, profile.path(), &["--dump-dom"], &url).unwrap();
    for heading in [
        "<h1>Inter-scanner agreement — nist_t1_4scanners_2sessions</h1>",
        "<h2>Headline numbers</h2>",
        "<h2>Intraclass correlation between sites</h2>",
        "<h2>Bland–Altman agreement per site pair</h2>",
        "<h2>Deviation from reference values</h2>",
    ] {
        assert!(dom.contains(heading), "rendered DOM lacks {heading}");
    }
    let analysis = library_analysis(&csv);
    let n_ba = analysis
        .results
        .as_ref()
        .unwrap()
        .pooled_subject_x_roi
        .as_ref()
        .unwrap()
        .bland_altman
        .len();
    // Parsed by the browser as SVG elements (3 summary figures + the pooled pairs).
    assert_eq!(
        dom.matches("<svg ").count(),
        3 + n_ba,
        "figures in the rendered DOM"
    );
    assert!(dom.contains("id=\"fig-icc_forest\"") && dom.contains("id=\"fig-reference_scatter\""));
    assert!(!dom.contains("NaN"));

    let shot = base.join("report.png");
    let arg = format!("--screenshot={}", shot.display());
    let profile = tempfile::tempdir().unwrap();
    run_browser(
        &browser,
        profile.path(),
        &[&arg, "--window-size=1300,2400"],
        &url,
    )
    .unwrap();
    let png = std::fs::read(&shot).unwrap();
    assert!(is_png(&png) && png.len() > 20_000, "screenshot too small");
    eprintln!(
        "headless-browser check passed; screenshot: {}",
        shot.display()
    );
}
