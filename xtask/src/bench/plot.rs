//! The plot `cargo xtask bench` writes beside its Markdown table: one bar
//! per figure and compared kernel, showing Ferrite's cost relative to that
//! kernel (time, time per MiB or size: below 1 Ferrite is faster or
//! smaller) on a log scale centred on 1, so that twice as fast and twice
//! as slow are bars of the same length. Plain SVG, written by hand so that
//! xtask needs no plotting crate; any browser shows it.

use std::fmt::Write as _;

use super::table::Table;

/// The height of one bar; a row has one per compared kernel.
const BAR: f64 = 10.0;
const TITLE_HEIGHT: f64 = 34.0;
const LABEL_WIDTH: f64 = 330.0;
/// Room for the figures written left of the shortest bars.
const PLOT_LEFT: f64 = LABEL_WIDTH + 40.0;
const PLOT_WIDTH: f64 = 600.0;
/// The axis runs from 1/RANGE to RANGE; longer bars are clipped and marked.
const RANGE: f64 = 64.0;
const COLOURS: [&str; 3] = ["#3b6ea8", "#d08c2b", "#6a9a3a"];

/// An SVG document plotting every ratio of `tables`.
pub fn svg(tables: &[&Table]) -> String {
    let height = 50.0
        + tables.iter().map(|t| TITLE_HEIGHT + t.rows.len() as f64 * row_height(t)).sum::<f64>();
    let width = PLOT_LEFT + PLOT_WIDTH + 60.0;
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" \
         font-family=\"sans-serif\" font-size=\"11\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n\
         <text x=\"8\" y=\"16\" font-size=\"13\">Ferrite's cost relative to Linux \
         (time or size; log scale; left of 1: Ferrite faster or smaller)</text>\n"
    );
    let mut y = 40.0;
    axis(&mut out, y - 8.0, height - 10.0);
    for table in tables {
        let title = escape(&table.title);
        let _ =
            writeln!(out, "<text x=\"8\" y=\"{}\" font-weight=\"bold\">{title}</text>", y + 10.0);
        legend(&mut out, table, y + 14.0);
        y += TITLE_HEIGHT;
        for row in &table.rows {
            let label = escape(row.figure.trim());
            let (x, base) = (LABEL_WIDTH - 6.0, y + row_height(table) / 2.0 + 4.0);
            let _ =
                writeln!(out, "<text x=\"{x}\" y=\"{base}\" text-anchor=\"end\">{label}</text>");
            for other in 1..table.columns.len() {
                if let Some(ratio) = row.cost_ratio(other) {
                    let top = y + 3.0 + BAR * (other - 1) as f64;
                    bar_of(&mut out, ratio, top, BAR - 1.0, COLOURS[(other - 1) % COLOURS.len()]);
                }
            }
            y += row_height(table);
        }
    }
    out.push_str("</svg>\n");
    out
}

/// A row's height: a bar per compared kernel and a gap.
fn row_height(table: &Table) -> f64 {
    6.0 + BAR * table.columns.len().saturating_sub(1).max(1) as f64
}

/// The x coordinate of a ratio on the log axis.
fn x_of(ratio: f64) -> f64 {
    let clamped = ratio.clamp(1.0 / RANGE, RANGE);
    PLOT_LEFT + PLOT_WIDTH / 2.0 * (1.0 + clamped.log2() / RANGE.log2())
}

/// The grid: a line at each power of two, the one at 1 darker.
fn axis(out: &mut String, top: f64, bottom: f64) {
    let mut ratio = 1.0 / RANGE;
    while ratio <= RANGE {
        let x = x_of(ratio);
        let stroke = if ratio == 1.0 { "#000" } else { "#ddd" };
        let label = if ratio < 1.0 { format!("1/{}", 1.0 / ratio) } else { format!("{ratio}") };
        let _ = writeln!(
            out,
            "<line x1=\"{x}\" y1=\"{top}\" x2=\"{x}\" y2=\"{bottom}\" stroke=\"{stroke}\"/>\n\
             <text x=\"{x}\" y=\"{top}\" text-anchor=\"middle\" fill=\"#666\">{label}</text>"
        );
        ratio *= 2.0;
    }
}

/// One bar from 1 to `ratio`, with the ratio written at its end.
fn bar_of(out: &mut String, ratio: f64, top: f64, height: f64, colour: &str) {
    let (one, end) = (x_of(1.0), x_of(ratio));
    let (left, width) = (one.min(end), (one - end).abs().max(1.0));
    let clipped = if (1.0 / RANGE..=RANGE).contains(&ratio) { "" } else { "!" };
    let text_x = if ratio >= 1.0 { end + 3.0 } else { end - 3.0 };
    let anchor = if ratio >= 1.0 { "start" } else { "end" };
    let _ = writeln!(
        out,
        "<rect x=\"{left:.1}\" y=\"{top:.1}\" width=\"{width:.1}\" height=\"{height:.1}\" fill=\"{colour}\"/>\n\
         <text x=\"{text_x:.1}\" y=\"{:.1}\" font-size=\"9\" text-anchor=\"{anchor}\">{ratio:.2}{clipped}</text>",
        top + height - 1.0
    );
}

/// Which colour is which compared kernel, at the table's title.
fn legend(out: &mut String, table: &Table, y: f64) {
    let mut x = 20.0;
    for (i, (name, _)) in table.columns.iter().skip(1).enumerate() {
        let colour = COLOURS[i % COLOURS.len()];
        let _ = writeln!(
            out,
            "<rect x=\"{x}\" y=\"{}\" width=\"10\" height=\"10\" fill=\"{colour}\"/>\
             <text x=\"{}\" y=\"{}\">Ferrite / {}</text>",
            y + 1.0,
            x + 14.0,
            y + 10.0,
            escape(name)
        );
        x += 320.0;
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::super::table::{Cell, Row, Unit};
    use super::*;

    #[test]
    fn the_axis_is_logarithmic_and_centred_on_one() {
        let centre = PLOT_LEFT + PLOT_WIDTH / 2.0;
        assert_eq!(x_of(1.0), centre);
        assert!((x_of(2.0) - centre - (centre - x_of(0.5))).abs() < 1e-9);
        assert_eq!(x_of(1000.0), x_of(RANGE));
    }

    #[test]
    fn plots_one_bar_per_ratio() {
        let table = Table {
            title: "a < b".to_string(),
            columns: vec![("Ferrite".into(), "F".into()), ("Linux".into(), "L".into())],
            rows: vec![
                Row::new("x", Unit::Latency, vec![Cell::once(1.0), Cell::once(2.0)]),
                Row::new("y", Unit::Latency, vec![Cell::Failed, Cell::once(2.0)]),
            ],
        };
        let svg = svg(&[&table]);
        assert!(svg.starts_with("<svg"));
        assert!(svg.contains("a &lt; b"));
        assert_eq!(svg.matches("fill=\"#3b6ea8\"/>").count(), 2, "a legend box and one bar");
        assert!(svg.contains(">0.50</text>"));
    }
}
