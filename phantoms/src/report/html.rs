//! The self-contained HTML report: one file with inline CSS and the figures as inline SVG
//! (no scripts, no external resources; it opens offline), every table-derived text escaped,
//! undefined statistics written as "undefined (reason)", and the Koo & Li band next to every
//! ICC, judged on its 95 % CI.

use std::fmt::Write;

use crate::stats::bland_altman::BlandAltman;
use crate::stats::{Analysis, BaPair, IccBlock, Results};

use super::Units;
use super::figures::{Figure, FigureKind};
use super::interpret::{
    ba_percent_reason, ba_reason, between_reason, ci, coef, cov_texts, icc_reason, icc_with_ci,
    koo_li_form, num, opt, opt_pct, pct_num, plural, pval, unit_label, with_unit, within_reason,
};
use super::summary::headline_rows;

/// Escapes text for HTML element content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
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

/// A formatted value: undefined ones greyed out, everything escaped.
fn val(s: &str) -> String {
    if s.starts_with("undefined") || s == "CI undefined" {
        format!("<span class=\"undef\">{}</span>", esc(s))
    } else {
        esc(s)
    }
}

/// The Koo & Li band as a coloured tag (class from the lower end of the CI).
fn band_tag(band: Option<String>) -> String {
    match band {
        Some(b) => {
            let first = b.split_whitespace().next().unwrap_or("poor");
            format!(
                "<span class=\"band band-{}\">{}</span>",
                esc(first),
                esc(&b)
            )
        }
        None => "<span class=\"undef\">no band (ICC undefined)</span>".into(),
    }
}

const CSS: &str = r#"
:root { --ink:#1d2330; --muted:#5d6675; --line:#d9dde4; --head:#f2f4f7; }
* { box-sizing: border-box; }
body { font-family: "DejaVu Sans", Verdana, "Segoe UI", Helvetica, Arial, sans-serif; color: var(--ink);
       margin: 0 auto; max-width: 1260px; padding: 24px 28px 60px; line-height: 1.45; font-size: 14px; }
h1 { font-size: 26px; margin: 0 0 6px; }
h2 { font-size: 20px; margin: 36px 0 10px; padding-bottom: 4px; border-bottom: 2px solid var(--line); }
h3 { font-size: 16px; margin: 24px 0 8px; }
p.lead { color: var(--muted); margin-top: 0; }
nav { background: var(--head); border: 1px solid var(--line); border-radius: 6px; padding: 8px 14px; margin: 14px 0; }
nav a { margin-right: 16px; color: #1f5fa8; text-decoration: none; }
table { border-collapse: collapse; margin: 8px 0 16px; font-size: 13px; }
th, td { border: 1px solid var(--line); padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: var(--head); font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.pair, .nw { white-space: nowrap; } small { color: var(--muted); }
.wrap { overflow-x: auto; }
.undef { color: #8a8f98; font-style: italic; }
td .undef { white-space: normal; display: inline-block; min-width: 7em; max-width: 12em; text-align: left; }
td.span .undef { max-width: none; }
.band { display: inline-block; padding: 1px 7px; border-radius: 9px; font-size: 12px; white-space: nowrap; }
.band-poor { background: #f6d5d1; } .band-moderate { background: #fbe8c8; }
.band-good { background: #e6f2d0; } .band-excellent { background: #c8e8c8; }
figure { margin: 14px 0 22px; }
figure svg { max-width: 100%; height: auto; border: 1px solid var(--line); background: #fff; }
figcaption { color: var(--muted); font-size: 13px; margin-top: 4px; }
figcaption a { color: #1f5fa8; }
.note { background: #fff8e5; border-left: 4px solid #e5b53a; padding: 6px 12px; margin: 10px 0; }
details { margin: 8px 0; } summary { cursor: pointer; color: #1f5fa8; }
footer { margin-top: 40px; color: var(--muted); font-size: 12px; }
"#;

/// Inline copy of a figure's SVG: no XML namespace URL (HTML5 does not need it), labelled.
fn inline_svg(fig: &Figure) -> String {
    let body = fig
        .svg
        .replacen(" xmlns=\"http://www.w3.org/2000/svg\"", "", 1);
    body.replacen(
        "<svg ",
        &format!(
            "<svg role=\"img\" aria-label=\"{}\" class=\"figure-svg\" ",
            esc(&fig.title)
        ),
        1,
    )
}

fn figure_html(out: &mut String, fig: &Figure) {
    let _ = writeln!(
        out,
        "<figure id=\"fig-{stem}\">{svg}<figcaption><strong>{title}.</strong> {caption} \
         Files: <a href=\"{stem}.png\">{stem}.png</a>, <a href=\"{stem}.svg\">{stem}.svg</a>.\
         </figcaption></figure>",
        stem = esc(&fig.stem),
        svg = inline_svg(fig),
        title = esc(&fig.title),
        caption = esc(&fig.caption),
    );
}

fn list(items: &[String], max: usize) -> String {
    let shown: Vec<String> = items.iter().take(max).map(|s| esc(s)).collect();
    let mut s = shown.join(", ");
    if items.len() > max {
        let _ = write!(s, ", … ({} more)", items.len() - max);
    }
    s
}

fn design(out: &mut String, r: &Results) {
    let d = &r.design;
    let sessions: Vec<String> = d.sessions.iter().map(u32::to_string).collect();
    let units: Vec<String> = d.units.iter().filter(|u| !u.is_empty()).cloned().collect();
    let _ = writeln!(
        out,
        "<section id=\"design\"><h2>Design</h2><div class=\"wrap\"><table>\
         <tr><th>subjects</th><td class=\"num\">{}</td><td>{}</td></tr>\
         <tr><th>sites</th><td class=\"num\">{}</td><td>{}</td></tr>\
         <tr><th>sessions</th><td class=\"num\">{}</td><td>{}</td></tr>\
         <tr><th>ROIs</th><td class=\"num\">{}</td><td>{}</td></tr>\
         <tr><th>units</th><td class=\"num\">{}</td><td>{}</td></tr>\
         <tr><th>rows</th><td class=\"num\">{}</td><td>{} values, {} missing</td></tr>\
         </table></div></section>",
        d.subjects.len(),
        list(&d.subjects, 40),
        d.sites.len(),
        list(&d.sites, 40),
        d.sessions.len(),
        list(&sessions, 40),
        d.rois.len(),
        list(&d.rois, 60),
        units.len(),
        if units.is_empty() {
            "none given".into()
        } else {
            list(&units, 20)
        },
        d.n_rows,
        d.n_values,
        d.n_missing_values
    );
}

fn headline(out: &mut String, r: &Results, units: &Units) {
    out.push_str(
        "<section id=\"headline\"><h2>Headline numbers</h2>\
         <p>Agreement between sites: ICC(A,1) (absolute agreement, the headline) with its 95 % CI, \
         always next to ICC(C,1) (consistency), and the Koo &amp; Li band judged on the CI of \
         ICC(A,1). Also in <a href=\"summary.csv\">summary.csv</a>.</p>\
         <div class=\"wrap\"><table><tr><th>ROI</th><th>subjects</th><th>sites</th>\
         <th>CoV within-site</th><th>CoV between-site</th><th>wSD</th><th>RC</th>\
         <th>ICC(A,1) [95 % CI]</th><th>ICC(C,1) [95 % CI]</th><th>Koo &amp; Li (CI of ICC(A,1))</th>\
         <th>largest |percent BA bias|</th>",
    );
    let with_ref = r.reference_comparison.is_some();
    if with_ref {
        out.push_str("<th>largest |deviation from reference|</th>");
    }
    out.push_str("</tr>\n");
    let rows = headline_rows(r);
    for (h, roi) in rows.iter().zip(
        r.per_roi
            .iter()
            .map(|x| (Some(&x.icc_between_sites), Some(x)))
            .chain(std::iter::once((
                r.pooled_subject_x_roi
                    .as_ref()
                    .map(|p| &p.icc_between_sites),
                None,
            ))),
    ) {
        let (block, roi_result) = roi;
        let Some(block) = block else { continue };
        let unit = units.get(&h.roi).map(String::as_str).unwrap_or("");
        let (within_r, between_r) = match roi_result {
            Some(x) => (
                within_reason(x.variability.n_cells_with_repeats),
                between_reason(x.variability.n_units_with_2plus_sites),
            ),
            None => r.pooled_subject_x_roi.as_ref().map_or(("", ""), |p| {
                (
                    within_reason(p.variability.n_cells_with_repeats),
                    between_reason(p.variability.n_units_with_2plus_sites),
                )
            }),
        };
        let (wsd, rc) = if h.scope == "pooled" {
            (
                "undefined (per ROI only)".to_string(),
                "undefined (per ROI only)".to_string(),
            )
        } else {
            (
                with_unit(opt(h.wsd, within_r), unit),
                with_unit(opt(h.rc, within_r), unit),
            )
        };
        let name = if h.scope == "pooled" {
            "<em>pooled (subject × ROI)</em>".to_string()
        } else {
            esc(&h.roi)
        };
        let ba = opt_pct(h.ba_max_abs_bias_pct, "< 2 paired subjects");
        let dev = if !with_ref {
            String::new()
        } else if h.scope == "pooled" {
            "<td></td>".into()
        } else {
            format!(
                "<td class=\"num\">{}</td>",
                val(&opt_pct(h.ref_max_abs_deviation_pct, "no reference value"))
            )
        };
        let (a, c) = (
            icc_with_ci(block, "ICC(2,1)"),
            icc_with_ci(block, "ICC(3,1)"),
        );
        // Both ICCs undefined for one reason: one cell across the three ICC columns.
        let icc_cells = if a.starts_with("undefined") && a == c {
            format!("<td colspan=\"3\" class=\"span\">{}</td>", val(&a))
        } else {
            format!(
                "<td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td>",
                val(&a),
                val(&c),
                band_tag(h.koo_li_band.clone())
            )
        };
        let _ = writeln!(
            out,
            "<tr><td>{name}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
             <td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
             <td class=\"num\">{}</td>{icc_cells}<td class=\"num\">{}</td>{dev}</tr>",
            h.n_subjects,
            h.n_sites,
            val(&opt_pct(h.cov_within_pct, within_r)),
            val(&opt_pct(h.cov_between_pct, between_r)),
            val(&wsd),
            val(&rc),
            val(&ba),
        );
    }
    out.push_str("</table></div>\n");
    if r.design.subjects.len() == 1 {
        out.push_str(
            "<p class=\"note\">One subject (phantom): per-ROI ICCs and Bland–Altman need at \
             least two subjects, so the between-site comparison rests on the CoVs, the pooled \
             block and the deviations from the reference values.</p>\n",
        );
    }
    if r.pooled_subject_x_roi.is_some() {
        out.push_str(
            "<p class=\"note\">Pooled over ROIs: with subject × ROI units whose values span a \
             wide range (e.g. phantom spheres from 20 to 2000 ms) the pooled ICC is close to 1 \
             whatever the scanners do. Read the percent Bland–Altman, the CoVs and the deviation \
             from the reference values instead.</p>\n",
        );
    }
    out.push_str("</section>\n");
}

fn icc_forms_table(out: &mut String, block: &IccBlock, what: &str) {
    let _ = write!(
        out,
        "<p>{} — {} of {} {} used (complete over {} {}s).",
        esc(what),
        block.n_targets_used,
        block.n_targets_total,
        if block.targets == "subject" {
            "subjects"
        } else {
            "subject × ROI units"
        },
        block.k_raters,
        esc(&block.raters)
    );
    if !block.dropped_targets.is_empty() {
        let _ = write!(
            out,
            " Dropped for a missing {} (listwise deletion): {}.",
            esc(&block.raters),
            list(&block.dropped_targets, 30)
        );
        if let Some(reml) = &block.reml_all_cells {
            let _ = write!(
                out,
                " REML crossed random-effects fit on all cells (informational): ICC(A,1) {}, ICC(C,1) {}.",
                coef(reml.icc_a1),
                coef(reml.icc_c1)
            );
        }
    }
    out.push_str("</p>\n");
    let Some(est) = &block.estimates else {
        let _ = writeln!(
            out,
            "<p>{}</p>",
            val(&format!("undefined ({})", icc_reason(block)))
        );
        return;
    };
    if block.reason.is_some() {
        let _ = writeln!(out, "<p class=\"note\">{}</p>", esc(&icc_reason(block)));
    }
    out.push_str(
        "<div class=\"wrap\"><table><tr><th>Shrout–Fleiss</th><th>McGraw–Wong</th><th>ICC</th>\
         <th>95 % CI</th><th>F</th><th>df1</th><th>df2</th><th>p</th><th>Koo &amp; Li</th></tr>\n",
    );
    for f in &est.forms {
        let icc = match f.icc {
            Some(v) if v.is_finite() => coef(v),
            _ => format!("undefined ({})", icc_reason(block)),
        };
        let fstat = match f.f {
            Some(v) if v.is_finite() => num(v),
            _ if f.f_infinite => "∞ (zero error variance)".into(),
            _ => "undefined".into(),
        };
        let p = f.pval.map_or("undefined".to_string(), pval);
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
             <td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
             <td class=\"num\">{}</td><td>{}</td></tr>",
            esc(&f.form),
            esc(&f.mcgraw_wong),
            val(&icc),
            val(&ci(f.ci95, coef)),
            val(&fstat),
            f.df1,
            f.df2,
            val(&p),
            band_tag(koo_li_form(f)),
        );
    }
    let a = &est.anova;
    let _ = writeln!(
        out,
        "</table></div><p>ANOVA: MS<sub>R</sub> {}, MS<sub>C</sub> {}, MS<sub>E</sub> {}, \
         MS<sub>W</sub> {}; SEM {}, MDC95 {}.</p>",
        num(a.ms_rows),
        num(a.ms_cols),
        num(a.ms_error),
        num(a.ms_within),
        num(est.sem),
        num(est.mdc95)
    );
}

fn icc_section(out: &mut String, r: &Results, figs: &[Figure]) {
    out.push_str(
        "<section id=\"icc\"><h2>Intraclass correlation between sites</h2>\
         <p>Targets are subjects, raters are sites, one value per cell (the mean over its \
         sessions). ICC(A,1) = ICC(2,1) is the headline (two-way random effects, absolute \
         agreement: a scanner reading 5 % high lowers it); ICC(C,1) = ICC(3,1) ignores constant \
         site offsets, so the gap between them shows systematic site bias.</p>\n",
    );
    for f in figs.iter().filter(|f| f.kind == FigureKind::Forest) {
        figure_html(out, f);
    }
    for roi in &r.per_roi {
        let _ = write!(
            out,
            "<details><summary>{}: all six ICC forms, ANOVA and test–retest</summary>",
            esc(&roi.roi)
        );
        icc_forms_table(out, &roi.icc_between_sites, "Between sites");
        if roi.icc_test_retest_by_site.is_empty() {
            out.push_str(
                "<p>Test–retest ICC per site: <span class=\"undef\">undefined (no site with \
                 2 or more sessions)</span></p>",
            );
        } else {
            out.push_str(
                "<p>Test–retest per site (raters = sessions):</p><div class=\"wrap\"><table>\
                 <tr><th>site</th><th>ICC(A,1) [95 % CI]</th><th>ICC(C,1) [95 % CI]</th>\
                 <th>Koo &amp; Li</th></tr>",
            );
            for (site, b) in &roi.icc_test_retest_by_site {
                let _ = write!(
                    out,
                    "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td></tr>",
                    esc(site),
                    val(&icc_with_ci(b, "ICC(2,1)")),
                    val(&icc_with_ci(b, "ICC(3,1)")),
                    band_tag(b.form("ICC(2,1)").and_then(koo_li_form)),
                );
            }
            out.push_str("</table></div>");
        }
        out.push_str("</details>\n");
    }
    if let Some(p) = &r.pooled_subject_x_roi {
        out.push_str(
            "<details><summary>pooled (subject × ROI): all six ICC forms and ANOVA</summary>",
        );
        icc_forms_table(out, &p.icc_between_sites, "Between sites, pooled over ROIs");
        out.push_str("</details>\n");
    }
    out.push_str("</section>\n");
}

fn variability_section(out: &mut String, r: &Results, units: &Units, figs: &[Figure]) {
    out.push_str(
        "<section id=\"variability\"><h2>Variability: CoV, wSD, RC, reproducibility</h2>\n",
    );
    for f in figs.iter().filter(|f| f.kind == FigureKind::Cov) {
        figure_html(out, f);
    }
    out.push_str(
        "<div class=\"wrap\"><table><tr><th>ROI</th><th>CoV within-site</th>\
         <th>within-site CoV by site</th><th>CoV between-site</th><th>CoV total</th>\
         <th>wSD (df)</th><th>RC = 2.77 wSD</th><th>SD reproducibility</th><th>RDC</th></tr>\n",
    );
    for roi in &r.per_roi {
        let v = &roi.variability;
        let unit = units.get(&roi.roi).map(String::as_str).unwrap_or("");
        let wr = within_reason(v.n_cells_with_repeats);
        let [within, between, total] = cov_texts(v);
        let by_site = if v.cov_within_by_site_pct.is_empty() {
            val(&format!("undefined ({wr})"))
        } else {
            v.cov_within_by_site_pct
                .iter()
                .map(|(s, p)| {
                    format!(
                        "<span class=\"nw\">{}: {}</span>",
                        esc(s),
                        val(&opt_pct(Some(*p), "not finite"))
                    )
                })
                .collect::<Vec<_>>()
                .join("<br>")
        };
        let (sdr, rdc) = match &roi.reproducibility {
            Some(x) => (
                with_unit(num(x.sd_reproducibility), unit),
                with_unit(num(x.rdc), unit),
            ),
            None => (
                "undefined (no subject with 2+ sites and a repeat)".into(),
                "undefined (no subject with 2+ sites and a repeat)".into(),
            ),
        };
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td class=\"num\">{}</td><td>{}</td><td class=\"num\">{}</td>\
             <td class=\"num\">{}</td><td class=\"num\">{} ({})</td><td class=\"num\">{}</td>\
             <td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            esc(&roi.roi),
            val(&within),
            by_site,
            val(&between),
            val(&total),
            val(&with_unit(opt(roi.wsd, wr), unit)),
            roi.wsd_df,
            val(&with_unit(opt(roi.rc, wr), unit)),
            val(&sdr),
            val(&rdc),
        );
    }
    if let Some(p) = &r.pooled_subject_x_roi {
        let [within, between, total] = cov_texts(&p.variability);
        let _ = writeln!(
            out,
            "<tr><td><em>pooled (subject × ROI)</em></td><td class=\"num\">{}</td><td></td>\
             <td class=\"num\">{}</td><td class=\"num\">{}</td><td></td><td></td><td></td><td></td></tr>",
            val(&within),
            val(&between),
            val(&total),
        );
    }
    out.push_str("</table></div></section>\n");
}

/// Bland–Altman cells: bias, its CI, the limits, their CIs, the p-value of the bias.
fn ba_cells(ba: &BlandAltman, unit: &str, percent: bool, why: String) -> [String; 5] {
    let f: fn(f64) -> String = if percent { pct_num } else { num };
    let u = if percent { "%" } else { unit_label(unit) };
    let tail = |s: String| if u.is_empty() { s } else { format!("{s} {u}") };
    match &ba.spread {
        Some(s) => [
            tail(ba.bias.map_or("undefined (no pairs)".into(), f)),
            ci(s.bias_ci95, f),
            tail(format!("{} to {}", f(s.loa_lower), f(s.loa_upper))),
            format!(
                "{} and {}",
                ci(s.loa_lower_ci95, f),
                ci(s.loa_upper_ci95, f)
            ),
            s.pval_bias
                .map_or("undefined (zero SD of the differences)".into(), pval),
        ],
        None => {
            let u = format!("undefined ({why})");
            [u.clone(), String::new(), u.clone(), String::new(), u]
        }
    }
}

/// A value with its CI underneath in small type.
fn with_ci(main: &str, ci: &str) -> String {
    if ci.is_empty() {
        val(main)
    } else {
        format!("{}<br><small>{}</small>", val(main), val(ci))
    }
}

fn ba_table(out: &mut String, pairs: &[BaPair], unit: &str) {
    out.push_str(
        "<div class=\"wrap\"><table><tr><th>site_a − site_b</th><th>n</th>\
         <th>bias<br><small>[95 % CI]</small></th><th>limits of agreement<br><small>[95 % CIs]</small></th>\
         <th>p (bias = 0)</th><th>percent bias<br><small>[95 % CI]</small></th>\
         <th>percent limits<br><small>[95 % CIs]</small></th></tr>\n",
    );
    for p in pairs {
        let a = ba_cells(&p.absolute, unit, false, ba_reason(&p.absolute));
        let b = ba_cells(&p.percent, unit, true, ba_percent_reason(p));
        let _ = writeln!(
            out,
            "<tr><td class=\"pair\">{}<br>− {}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
             <td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
             <td class=\"num\">{}</td></tr>",
            esc(&p.site_a),
            esc(&p.site_b),
            p.absolute.n,
            with_ci(&a[0], &a[1]),
            with_ci(&a[2], &a[3]),
            val(&a[4]),
            with_ci(&b[0], &b[1]),
            with_ci(&b[2], &b[3]),
        );
    }
    out.push_str("</table></div>\n");
}

fn ba_section(out: &mut String, r: &Results, units: &Units, figs: &[Figure]) {
    out.push_str(
        "<section id=\"bland-altman\"><h2>Bland–Altman agreement per site pair</h2>\
         <p>Differences site_a − site_b (sites in byte-wise order) of the cell means, over the \
         subjects measured at both sites. Bias = mean difference; limits of agreement (LoA) = \
         bias ± 1.96 SD; 95 % CIs from t(0.975, n − 1) with SE √(SD²/n) for the bias and \
         √(3 SD²/n) for the limits. Percent differences are 100 (a − b) / |mean of a and b|: \
         read them when the error grows with the value.</p>\n",
    );
    let n_ba = figs
        .iter()
        .filter(|f| matches!(f.kind, FigureKind::BlandAltman { .. }))
        .count();
    let open = if n_ba <= 8 { " open" } else { "" };
    // Every ROI without a single defined pair (e.g. one phantom): say so once.
    let all_undefined = r.per_roi.len() > 1
        && r.per_roi.iter().all(|roi| {
            !roi.bland_altman.is_empty()
                && roi.bland_altman.iter().all(|p| p.absolute.spread.is_none())
        });
    if all_undefined {
        let _ = writeln!(
            out,
            "<p>Per ROI, every site pair of all {} ROIs: {}</p>",
            r.per_roi.len(),
            val(&format!(
                "undefined ({})",
                ba_reason(&r.per_roi[0].bland_altman[0].absolute)
            ))
        );
    }
    let mut blocks: Vec<(String, Option<usize>, &[BaPair], String)> = r
        .per_roi
        .iter()
        .filter(|_| !all_undefined)
        .enumerate()
        .map(|(i, roi)| {
            (
                esc(&roi.roi),
                Some(i),
                roi.bland_altman.as_slice(),
                units.get(&roi.roi).cloned().unwrap_or_default(),
            )
        })
        .collect();
    if let Some(p) = &r.pooled_subject_x_roi {
        blocks.push((
            "<em>pooled (subject × ROI)</em>".into(),
            None,
            p.bland_altman.as_slice(),
            p.unit.clone(),
        ));
    }
    for (name, idx, pairs, unit) in blocks {
        let _ = writeln!(out, "<h3>{name}</h3>");
        if pairs.is_empty() {
            out.push_str("<p><span class=\"undef\">undefined (fewer than 2 sites)</span></p>\n");
            continue;
        }
        if pairs.iter().all(|p| p.absolute.spread.is_none()) {
            let _ = writeln!(
                out,
                "<p>Every site pair ({}): {}</p>",
                pairs.len(),
                val(&format!("undefined ({})", ba_reason(&pairs[0].absolute)))
            );
            continue;
        }
        ba_table(out, pairs, &unit);
        let mine: Vec<&Figure> = figs
            .iter()
            .filter(|f| matches!(f.kind, FigureKind::BlandAltman { roi, .. } if roi == idx))
            .collect();
        if mine.is_empty() {
            out.push_str(
                "<p><span class=\"undef\">no plot: fewer than 2 subjects measured at both \
                 sites of every pair</span></p>\n",
            );
            continue;
        }
        let _ = writeln!(
            out,
            "<details{open}><summary>{} Bland–Altman plot{}</summary>",
            mine.len(),
            if mine.len() == 1 { "" } else { "s" }
        );
        for f in mine {
            figure_html(out, f);
        }
        out.push_str("</details>\n");
    }
    out.push_str("</section>\n");
}

fn reference_section(out: &mut String, r: &Results, figs: &[Figure]) {
    let Some(rc) = &r.reference_comparison else {
        return;
    };
    out.push_str(
        "<section id=\"reference\"><h2>Deviation from reference values</h2>\
         <p>Per site and ROI: the mean over subjects of the session-averaged value, against the \
         table's <code>ref_value</code>; deviation = 100 (mean − reference) / reference.</p>\n",
    );
    for f in figs.iter().filter(|f| f.kind == FigureKind::Reference) {
        figure_html(out, f);
    }
    let pct = |x: f64| val(&opt_pct(Some(x), "not finite"));
    out.push_str(
        "<h3>Per site</h3><div class=\"wrap\"><table><tr><th>site</th><th>ROIs</th>\
         <th>mean deviation</th><th>mean |deviation|</th><th>RMS deviation</th>\
         <th>max |deviation|</th></tr>\n",
    );
    for (site, s) in &rc.per_site_summary {
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
             <td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            esc(site),
            s.n_rois,
            pct(s.mean_deviation_pct),
            pct(s.mean_abs_deviation_pct),
            pct(s.rms_deviation_pct),
            pct(s.max_abs_deviation_pct),
        );
    }
    out.push_str(
        "</table></div><details><summary>Per site and ROI</summary><div class=\"wrap\"><table>\
         <tr><th>site</th><th>ROI</th><th>site mean</th><th>reference</th><th>deviation</th></tr>\n",
    );
    for d in &rc.per_site_roi {
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
             <td class=\"num\">{}</td></tr>",
            esc(&d.site),
            esc(&d.roi),
            val(&num(d.mean)),
            val(&num(d.ref_value)),
            val(&opt_pct(d.deviation_pct, "reference value 0")),
        );
    }
    out.push_str("</table></div></details></section>\n");
}

fn methods(out: &mut String, a: &Analysis) {
    let c = &a.conventions;
    let _ = writeln!(
        out,
        "<section id=\"methods\"><h2>Methods and conventions</h2><ul>\
         <li>Cells are subject × site; a cell's value is the mean over its sessions. CoVs are \
         root mean squares of per-unit CVs, in percent (within-site: over cells with repeats; \
         between-site: SD of the site means per subject; total: all values of a subject).</li>\
         <li>wSD: pooled within-cell SD; RC = 1.96 √2 wSD ({}·wSD): two repeats on one scanner \
         differ by less than RC in 95 % of cases. Reproducibility: ISO 5725 variance components \
         per subject, RDC = 1.96 √2 SD<sub>R</sub>.</li>\
         <li>ICC: two-way ANOVA on complete subjects (listwise deletion; dropped subjects are \
         listed, with a REML estimate on all cells). The six Shrout–Fleiss forms with F tests \
         and 95 % CIs as pingouin 0.7 computes them (McGraw &amp; Wong 1996 for ICC(2,1)). \
         Koo &amp; Li (2016): poor &lt; 0.5 ≤ moderate &lt; 0.75 ≤ good ≤ 0.9 &lt; excellent, \
         judged on the 95 % CI: a CI spanning bands reads e.g. “moderate to excellent”. Koo &amp; \
         Li advise at least 30 heterogeneous subjects and 3 raters; fewer give wide CIs.</li>\
         <li>Bland–Altman: {}; LoA = bias ± {} SD; α = {}.</li>\
         <li>“undefined (reason)” marks a statistic the data cannot define (too few subjects, \
         sites or sessions, zero variance); it is never shown as a number.</li>\
         </ul></section>",
        coef(c.rc_factor),
        esc(&c.ba_difference),
        c.z,
        c.alpha
    );
}

/// The report page. `figures` are placed by their [`FigureKind`]; `units` labels ROI values.
pub fn render_html(analysis: &Analysis, units: &Units, figures: &[Figure]) -> String {
    let mut out =
        String::with_capacity(64 * 1024 + figures.iter().map(|f| f.svg.len()).sum::<usize>());
    let title = format!("Inter-scanner agreement — {}", analysis.table);
    let _ = writeln!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"generator\" content=\"accord {}\">\
         <title>{}</title><style>{CSS}</style></head><body>\n<h1>{}</h1>",
        env!("CARGO_PKG_VERSION"),
        esc(&title),
        esc(&title)
    );
    let Some(r) = &analysis.results else {
        let _ = write!(
            out,
            "<p>The table is invalid ({} errors): no statistics.</p><ul>",
            analysis.validation.errors.len()
        );
        for e in &analysis.validation.errors {
            let _ = write!(out, "<li>{}</li>", esc(&e.to_string()));
        }
        out.push_str("</ul></body></html>\n");
        return out;
    };
    let d = &r.design;
    let _ = writeln!(
        out,
        "<p class=\"lead\">{} × {} × {} × {}; {} values. \
         Made by <code>accord analyze</code>.</p>",
        plural(d.subjects.len(), "subject"),
        plural(d.sites.len(), "site"),
        plural(d.sessions.len(), "session"),
        plural(d.rois.len(), "ROI"),
        d.n_values
    );
    out.push_str(
        "<nav><a href=\"#headline\">Headline</a><a href=\"#design\">Design</a>\
         <a href=\"#icc\">ICC</a><a href=\"#variability\">Variability</a>\
         <a href=\"#bland-altman\">Bland–Altman</a>",
    );
    if r.reference_comparison.is_some() {
        out.push_str("<a href=\"#reference\">Reference</a>");
    }
    out.push_str("<a href=\"#methods\">Methods</a></nav>\n");
    headline(&mut out, r, units);
    design(&mut out, r);
    icc_section(&mut out, r, figures);
    variability_section(&mut out, r, units, figures);
    ba_section(&mut out, r, units, figures);
    reference_section(&mut out, r, figures);
    methods(&mut out, analysis);
    let _ = writeln!(
        out,
        "<footer>accord {} · schema version {} · self-contained: figures are inline SVG; the \
         PNG and SVG files beside this page hold the same figures.</footer>\n</body></html>",
        env!("CARGO_PKG_VERSION"),
        analysis.schema_version
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            esc("<a href='x'>&\""),
            "&lt;a href=&#39;x&#39;&gt;&amp;&quot;"
        );
        assert!(val("undefined (x)").contains("class=\"undef\""));
    }
}
