//! The tables `cargo xtask bench` prints and writes as Markdown: per figure
//! the median and the minimum of the runs on each kernel, the ratio of
//! Ferrite's median to each other kernel's and how well the runs agree; boot
//! rows in seconds, latency rows in ns, µs or ms, bandwidth rows in MiB/s,
//! sizes in MiB.
//!
//! A table's first column is always Ferrite; the others are the Linux
//! configurations it is compared with (as shipped, `mitigations=off`).

/// How far apart two runs' medians may be before a figure is "noisy"
/// (issue 4: "two runs agree within 10% on each median"). One invocation
/// stands in for two runs by splitting its runs into halves, the odd-numbered
/// and the even-numbered ones, and comparing the halves' medians; the
/// halves interleave in time, so a slow spell of the host hits both.
const NOISY_PERCENT: f64 = 10.0;

/// One benchmark's samples on one kernel, in the row's [`Unit`]'s base
/// quantity: seconds for times (seconds per MiB for bandwidths), KiB for
/// sizes.
#[derive(Clone, Default)]
pub struct Figure {
    pub ok: Vec<f64>,
    pub failed: usize,
}

/// Median and minimum of a figure's samples, and how far apart the medians
/// of its two halves are.
#[derive(Clone, Copy, Debug)]
pub struct Stats {
    median: f64,
    min: f64,
    runs: usize,
    /// |median(odd runs) - median(even runs)| over the smaller, in percent;
    /// 0 with fewer than two runs.
    halves: f64,
}

/// The median of `samples`, `None` if there are none.
fn median(samples: &[f64]) -> Option<f64> {
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(sorted[n / 2]),
        _ => Some((sorted[n / 2 - 1] + sorted[n / 2]) / 2.0),
    }
}

impl Stats {
    /// `samples` in run order.
    fn of(samples: &[f64]) -> Option<Stats> {
        let median_all = median(samples)?;
        let min = samples.iter().copied().fold(f64::INFINITY, f64::min);
        let odd: Vec<f64> = samples.iter().copied().step_by(2).collect();
        let even: Vec<f64> = samples.iter().copied().skip(1).step_by(2).collect();
        let halves = match (median(&odd), median(&even)) {
            (Some(a), Some(b)) if a.min(b) > 0.0 => (a - b).abs() / a.min(b) * 100.0,
            _ => 0.0,
        };
        Some(Stats { median: median_all, min, runs: samples.len(), halves })
    }

    /// "1.234 s (1.200)": median, best run in brackets, in `unit`.
    fn text(self, unit: Unit) -> String {
        let (scale, suffix, decimals) = match unit {
            Unit::Seconds => (1.0, "s", 3),
            Unit::Latency => latency_unit(self.median),
            Unit::Size => (1.0 / 1024.0, "MiB", 1),
            Unit::Bandwidth | Unit::Rate => {
                // A sample is the time per MiB or operation: the best run
                // is the shortest.
                let (median, best) = (1.0 / self.median, 1.0 / self.min);
                let (suffix, decimals) =
                    if unit == Unit::Rate { ("op/s", 0) } else { ("MiB/s", 1) };
                if self.runs == 1 {
                    return format!("{median:.decimals$} {suffix}");
                }
                return format!("{median:.decimals$} {suffix} ({best:.decimals$})");
            }
        };
        let (median, min) = (self.median * scale, self.min * scale);
        if self.runs == 1 {
            return format!("{median:.decimals$} {suffix}");
        }
        format!("{median:.decimals$} {suffix} ({min:.decimals$})")
    }
}

/// How a row's samples are written.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Unit {
    /// Seconds, three decimals: the boot rows.
    Seconds,
    /// ns, µs or ms, whichever suits the median: the latency rows.
    Latency,
    /// Samples are seconds per MiB, shown as MiB/s; the best run is the
    /// highest, and the ratio is Ferrite's MiB/s over the other's.
    Bandwidth,
    /// Samples are seconds per operation, shown as operations per second;
    /// like [`Unit::Bandwidth`], the best run is the highest and the ratio
    /// is Ferrite's rate over the other's.
    Rate,
    /// Samples are KiB, shown as MiB: image sizes and memory.
    Size,
}

/// Scale from seconds, unit suffix and decimals for a latency of `median`.
fn latency_unit(median: f64) -> (f64, &'static str, usize) {
    match median {
        ..1e-6 => (1e9, "ns", 0),
        ..1e-3 => (1e6, "µs", 2),
        _ => (1e3, "ms", 3),
    }
}

/// One kernel's figure in a row.
#[derive(Clone, Debug)]
pub enum Cell {
    Stats(Stats),
    /// The benchmark failed in at least one run.
    Failed,
    /// Ferrite cannot run it yet: it lacks this.
    NotYet(&'static str),
    /// Not measured on this kernel.
    None,
    /// A word instead of a figure (e.g. "> 256 MiB").
    Text(String),
}

impl Cell {
    pub fn of(figure: &Figure) -> Cell {
        match Stats::of(&figure.ok) {
            _ if figure.failed > 0 => Cell::Failed,
            Some(stats) => Cell::Stats(stats),
            None => Cell::None,
        }
    }

    /// A figure measured once.
    pub fn once(value: f64) -> Cell {
        Cell::Stats(Stats { median: value, min: value, runs: 1, halves: 0.0 })
    }

    pub fn stats(&self) -> Option<Stats> {
        match self {
            Cell::Stats(s) => Some(*s),
            Cell::Failed | Cell::NotYet(_) | Cell::None | Cell::Text(_) => None,
        }
    }

    fn text(&self, unit: Unit) -> String {
        match self {
            Cell::Stats(s) => s.text(unit),
            Cell::Failed => "failed".to_string(),
            Cell::NotYet(lacks) => format!("not yet (Ferrite lacks {lacks})"),
            Cell::None => "-".to_string(),
            Cell::Text(text) => text.clone(),
        }
    }
}

/// One line of a table: Ferrite's cell, then one per compared kernel.
pub struct Row {
    pub figure: String,
    pub unit: Unit,
    pub cells: Vec<Cell>,
}

impl Row {
    pub fn new(figure: &str, unit: Unit, cells: Vec<Cell>) -> Row {
        Row { figure: figure.to_string(), unit, cells }
    }

    /// A row of figures each measured in several runs.
    pub fn of(figure: &str, unit: Unit, figures: &[&Figure]) -> Row {
        Row::new(figure, unit, figures.iter().map(|f| Cell::of(f)).collect())
    }

    pub fn failed(&self) -> bool {
        self.cells.iter().any(|c| matches!(c, Cell::Failed))
    }

    /// Ferrite's cost relative to column `other`, the quantity the plot
    /// shows: below 1, Ferrite is faster or smaller. For bandwidths it is
    /// the ratio of the times per MiB, the inverse of [`Row::ratio`]'s.
    pub fn cost_ratio(&self, other: usize) -> Option<f64> {
        let f = self.cells.first()?.stats()?.median;
        let o = self.cells.get(other)?.stats()?.median;
        (f > 0.0 && o > 0.0).then_some(f / o)
    }

    /// Ferrite/other of the medians, as the table shows it; for bandwidths
    /// and rates, of the MiB/s or operations per second (above 1 better).
    fn ratio(&self, other: usize) -> String {
        match self.cost_ratio(other) {
            Some(cost) if matches!(self.unit, Unit::Bandwidth | Unit::Rate) => {
                format!("{:.3}", 1.0 / cost)
            }
            Some(cost) => format!("{cost:.3}"),
            None => "-".to_string(),
        }
    }

    /// "2% / 14% noisy": how far apart each kernel's halves are, Ferrite
    /// first, and "noisy" when any passes [`NOISY_PERCENT`]. Figures
    /// measured once have nothing to compare.
    fn spread(&self) -> String {
        let spreads: Vec<Option<f64>> =
            self.cells.iter().map(|c| c.stats().filter(|s| s.runs > 1).map(|s| s.halves)).collect();
        if spreads.iter().all(Option::is_none) {
            return "-".to_string();
        }
        let text = |s: &Option<f64>| s.map_or("-".to_string(), |s| format!("{s:.0}%"));
        let noisy = spreads.iter().flatten().any(|&s| s > NOISY_PERCENT);
        let verdict = if noisy { " noisy" } else { "" };
        let joined: Vec<String> = spreads.iter().map(text).collect();
        format!("{}{verdict}", joined.join(" / "))
    }
}

/// A titled table; `columns` names the kernels, Ferrite first, each with a
/// short name for the ratio headers ("L" in "F/L").
pub struct Table {
    pub title: String,
    pub columns: Vec<(String, String)>,
    pub rows: Vec<Row>,
}

impl Table {
    fn header(&self) -> Vec<String> {
        let mut cells = vec!["figure".to_string()];
        cells.extend(self.columns.iter().map(|(name, _)| name.clone()));
        let ferrite = self.columns.first().map_or("F", |(_, short)| short);
        cells.extend(self.columns.iter().skip(1).map(|(_, s)| format!("{ferrite}/{s}")));
        cells.push("halves differ".to_string());
        cells
    }

    fn cells(&self, row: &Row) -> Vec<String> {
        let mut cells = vec![row.figure.clone()];
        cells.extend((0..self.columns.len()).map(|i| match row.cells.get(i) {
            Some(cell) => cell.text(row.unit),
            None => "-".to_string(),
        }));
        cells.extend((1..self.columns.len()).map(|i| row.ratio(i)));
        cells.push(row.spread());
        cells
    }

    /// Prints the title, then the rows under a header line.
    pub fn print(&self) {
        println!("{}", self.title);
        let lines: Vec<Vec<String>> =
            std::iter::once(self.header()).chain(self.rows.iter().map(|r| self.cells(r))).collect();
        let mut widths = vec![0; lines[0].len()];
        for line in &lines {
            for (width, cell) in widths.iter_mut().zip(line) {
                *width = (*width).max(cell.chars().count());
            }
        }
        for line in &lines {
            let padded: Vec<String> =
                line.iter().zip(&widths).map(|(cell, &w)| format!("{cell:<w$}")).collect();
            println!("{}", padded.join("  ").trim_end());
        }
        println!();
    }

    /// The table as Markdown, under a `###` title.
    pub fn markdown(&self) -> String {
        let line = |cells: &[String]| format!("| {} |\n", cells.join(" | "));
        let header = self.header();
        let mut text = format!("### {}\n\n", self.title);
        text.push_str(&line(&header));
        text.push_str("|---|");
        text.push_str(&"---:|".repeat(header.len() - 1));
        text.push('\n');
        for row in &self.rows {
            text.push_str(&line(&self.cells(row)));
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats(median: f64, min: f64, halves: f64) -> Cell {
        Cell::Stats(Stats { median, min, runs: 3, halves })
    }

    #[test]
    fn median_min_and_halves() {
        // Odd runs 30, 20 (median 25), even runs 10, 40 (median 25).
        let stats = Stats::of(&[30.0, 10.0, 20.0, 40.0]).expect("samples");
        assert_eq!((stats.median, stats.min, stats.halves), (25.0, 10.0, 0.0));
        // Odd runs 10, 12 (median 11), even runs 20 (median 20).
        let stats = Stats::of(&[10.0, 20.0, 12.0]).expect("samples");
        assert_eq!((stats.median, stats.min), (12.0, 10.0));
        assert!((stats.halves - 9.0 / 11.0 * 100.0).abs() < 1e-9);
        assert_eq!(Stats::of(&[5.0]).map(|s| s.halves), Some(0.0));
        assert!(Stats::of(&[]).is_none());
    }

    #[test]
    fn cells_in_their_units() {
        assert_eq!(stats(530e-6, 512e-6, 600e-6).text(Unit::Latency), "530.00 µs (512.00)");
        assert_eq!(stats(512e-9, 500e-9, 600e-9).text(Unit::Latency), "512 ns (500)");
        assert_eq!(stats(1.3e-3, 1.25e-3, 2e-3).text(Unit::Latency), "1.300 ms (1.250)");
        assert_eq!(stats(1.87, 1.8, 2.0).text(Unit::Seconds), "1.870 s (1.800)");
        assert_eq!(stats(2e-3, 1e-3, 3e-3).text(Unit::Bandwidth), "500.0 MiB/s (1000.0)");
        assert_eq!(stats(2e-3, 1e-3, 3e-3).text(Unit::Rate), "500 op/s (1000)");
        assert_eq!(Cell::once(2048.0).text(Unit::Size), "2.0 MiB");
        assert_eq!(Cell::NotYet("futex").text(Unit::Latency), "not yet (Ferrite lacks futex)");
        let failed = Figure { ok: vec![1e-6], failed: 1 };
        assert_eq!(Cell::of(&failed).text(Unit::Latency), "failed");
    }

    #[test]
    fn ratios_against_each_column() {
        let row = |unit, cells| Row::new("x", unit, cells);
        let three = vec![stats(3.0, 3.0, 3.0), stats(2.0, 2.0, 2.0), stats(4.0, 4.0, 4.0)];
        let latency = row(Unit::Latency, three.clone());
        assert_eq!((latency.ratio(1), latency.ratio(2)), ("1.500".into(), "0.750".into()));
        let bandwidth = row(Unit::Bandwidth, three);
        assert_eq!(bandwidth.ratio(1), "0.667");
        assert_eq!(bandwidth.cost_ratio(1), Some(1.5));
        let rate = row(Unit::Rate, vec![stats(3.0, 3.0, 3.0), stats(2.0, 2.0, 2.0)]);
        assert_eq!(rate.ratio(1), "0.667");
        let failed = row(Unit::Latency, vec![Cell::Failed, stats(2.0, 2.0, 2.0)]);
        assert_eq!(failed.ratio(1), "-");
        assert!(failed.failed());
    }

    #[test]
    fn spread_marks_noisy_figures() {
        let row = |cells| Row::new("x", Unit::Latency, cells);
        let calm = row(vec![stats(100.0, 99.0, 5.0), stats(100.0, 95.0, 4.6)]);
        assert_eq!(calm.spread(), "5% / 5%");
        let noisy = row(vec![stats(100.0, 90.0, 21.0), stats(100.0, 100.0, 0.0)]);
        assert_eq!(noisy.spread(), "21% / 0% noisy");
        assert_eq!(row(vec![Cell::NotYet("threads"), Cell::None]).spread(), "-");
    }

    #[test]
    fn markdown_has_a_ratio_per_compared_kernel() {
        let table = Table {
            title: "T".to_string(),
            columns: vec![
                ("Ferrite".into(), "F".into()),
                ("Linux".into(), "L".into()),
                ("Linux off".into(), "L off".into()),
            ],
            rows: vec![Row::new("x", Unit::Latency, vec![stats(1e-6, 1e-6, 0.0), Cell::Failed])],
        };
        let md = table.markdown();
        assert!(md.starts_with(
            "### T\n\n| figure | Ferrite | Linux | Linux off | F/L | F/L off | halves differ |\n\
             |---|---:|---:|---:|---:|---:|---:|\n"
        ));
        assert!(md.ends_with("| x | 1.00 µs (1.00) | failed | - | - | - | 0% / - |\n"));
    }
}
