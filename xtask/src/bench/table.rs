//! The table `cargo xtask bench` prints, and writes as Markdown: per figure
//! the median and the minimum of the runs on each kernel, the ratio
//! Ferrite/Linux and the spread of the runs; boot rows in seconds, latency
//! rows in ns, µs or ms, bandwidth rows in MiB/s.

use std::time::Duration;

/// Spread (max - min over the median) above which a figure is "noisy":
/// issue 4 asks that two runs agree within 10%.
const NOISY_PERCENT: f64 = 10.0;

/// One benchmark's samples on one kernel.
#[derive(Clone, Default)]
pub struct Figure {
    pub ok: Vec<Duration>,
    pub failed: usize,
}

/// Median, minimum and maximum of a figure's samples.
#[derive(Clone, Copy)]
pub struct Stats {
    median: Duration,
    min: Duration,
    max: Duration,
}

impl Stats {
    fn of(samples: &[Duration]) -> Option<Stats> {
        let mut sorted = samples.to_vec();
        sorted.sort();
        let n = sorted.len();
        let (min, max) = (*sorted.first()?, *sorted.last()?);
        let median =
            if n % 2 == 1 { sorted[n / 2] } else { (sorted[n / 2 - 1] + sorted[n / 2]) / 2 };
        Some(Stats { median, min, max })
    }

    /// (max - min) / median, in percent.
    fn spread(self) -> f64 {
        let median = self.median.as_secs_f64();
        if median == 0.0 { 0.0 } else { (self.max - self.min).as_secs_f64() / median * 100.0 }
    }

    /// "1.234 s (1.200)": median, best run in brackets, in `unit`.
    fn text(self, unit: Unit) -> String {
        if let Unit::Bandwidth = unit {
            // A sample is the time per MiB: the best run is the shortest.
            let mib_s = |per_mib: Duration| 1.0 / per_mib.as_secs_f64();
            return format!("{:.1} MiB/s ({:.1})", mib_s(self.median), mib_s(self.min));
        }
        let (scale, suffix, decimals) = match unit {
            Unit::Seconds => (1.0, "s", 3),
            Unit::Latency | Unit::Bandwidth => latency_unit(self.median),
        };
        let median = self.median.as_secs_f64() * scale;
        let min = self.min.as_secs_f64() * scale;
        format!("{median:.decimals$} {suffix} ({min:.decimals$})")
    }
}

/// How a row's times are written.
#[derive(Clone, Copy)]
pub enum Unit {
    /// Seconds, three decimals: the boot rows.
    Seconds,
    /// ns, µs or ms, whichever suits the median: the latency rows.
    Latency,
    /// Samples are times per MiB, shown as MiB/s; the best run is the
    /// highest, and the ratio is Ferrite's MiB/s over Linux's.
    Bandwidth,
}

/// Scale from seconds, unit suffix and decimals for a latency of `median`.
fn latency_unit(median: Duration) -> (f64, &'static str, usize) {
    match median.as_nanos() {
        0..1_000 => (1e9, "ns", 0),
        1_000..1_000_000 => (1e6, "µs", 2),
        _ => (1e3, "ms", 3),
    }
}

/// One kernel's figure in a row.
#[derive(Clone, Copy)]
pub enum Cell {
    Stats(Stats),
    /// The benchmark failed in at least one run.
    Failed,
    /// Ferrite cannot run it yet: it lacks this.
    NotYet(&'static str),
    /// Not measured on this kernel.
    None,
}

impl Cell {
    pub fn of(figure: &Figure) -> Cell {
        match Stats::of(&figure.ok) {
            _ if figure.failed > 0 => Cell::Failed,
            Some(stats) => Cell::Stats(stats),
            None => Cell::None,
        }
    }

    fn stats(self) -> Option<Stats> {
        match self {
            Cell::Stats(s) => Some(s),
            Cell::Failed | Cell::NotYet(_) | Cell::None => None,
        }
    }

    fn text(self, unit: Unit) -> String {
        match self {
            Cell::Stats(s) => s.text(unit),
            Cell::Failed => "failed".to_string(),
            Cell::NotYet(lacks) => format!("not yet (Ferrite lacks {lacks})"),
            Cell::None => "-".to_string(),
        }
    }
}

/// One line of the table.
pub struct Row {
    pub figure: &'static str,
    pub unit: Unit,
    pub ferrite: Cell,
    pub linux: Cell,
}

impl Row {
    pub fn new(figure: &'static str, ferrite: &[Duration], linux: &[Duration]) -> Row {
        let cell = |samples: &[Duration]| Stats::of(samples).map_or(Cell::None, Cell::Stats);
        Row { figure, unit: Unit::Seconds, ferrite: cell(ferrite), linux: cell(linux) }
    }

    pub fn failed(&self) -> bool {
        matches!(self.ferrite, Cell::Failed) || matches!(self.linux, Cell::Failed)
    }

    /// Ferrite/Linux of the medians; for bandwidths, of the MiB/s.
    fn ratio(&self) -> String {
        let (Some(f), Some(l)) = (self.ferrite.stats(), self.linux.stats()) else {
            return "-".to_string();
        };
        let (f, l) = (f.median.as_secs_f64(), l.median.as_secs_f64());
        match self.unit {
            Unit::Bandwidth if f > 0.0 => format!("{:.3}", l / f),
            Unit::Seconds | Unit::Latency if l > 0.0 => format!("{:.3}", f / l),
            _ => "-".to_string(),
        }
    }

    /// "2% / 14% noisy": each kernel's spread, Ferrite first, and "noisy"
    /// when either passes [`NOISY_PERCENT`].
    fn spread(&self) -> String {
        let spreads = [self.ferrite.stats(), self.linux.stats()].map(|s| s.map(Stats::spread));
        if spreads.iter().all(Option::is_none) {
            return "-".to_string();
        }
        let text = |s: Option<f64>| s.map_or("-".to_string(), |s| format!("{s:.0}%"));
        let noisy = spreads.iter().flatten().any(|&s| s > NOISY_PERCENT);
        let verdict = if noisy { " noisy" } else { "" };
        format!("{} / {}{verdict}", text(spreads[0]), text(spreads[1]))
    }

    fn cells(&self) -> [String; 5] {
        [
            self.figure.to_string(),
            self.ferrite.text(self.unit),
            self.linux.text(self.unit),
            self.ratio(),
            self.spread(),
        ]
    }
}

fn header(linux_label: &str) -> [String; 5] {
    ["figure", "Ferrite", linux_label, "ratio F/L", "spread F / L"].map(String::from)
}

/// Prints `rows` under a header line naming the kernels.
pub fn print_table(linux_label: &str, rows: &[Row]) {
    let lines: Vec<[String; 5]> =
        std::iter::once(header(linux_label)).chain(rows.iter().map(Row::cells)).collect();
    let mut widths = [0; 5];
    for line in &lines {
        for (width, cell) in widths.iter_mut().zip(line) {
            *width = (*width).max(cell.chars().count());
        }
    }
    for line in &lines {
        let padded: Vec<String> =
            line.iter().zip(widths).map(|(cell, w)| format!("{cell:<w$}")).collect();
        println!("{}", padded.join("  ").trim_end());
    }
}

/// `rows` as a Markdown table.
pub fn markdown_table(linux_label: &str, rows: &[Row]) -> String {
    let line = |cells: &[String; 5]| format!("| {} |\n", cells.join(" | "));
    let mut text = line(&header(linux_label));
    text.push_str("|---|---:|---:|---:|---:|\n");
    for row in rows {
        text.push_str(&line(&row.cells()));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_min_max_and_spread() {
        let ms = Duration::from_millis;
        let stats = Stats::of(&[ms(30), ms(10), ms(20), ms(40)]).expect("samples");
        assert_eq!((stats.median, stats.min, stats.max), (ms(25), ms(10), ms(40)));
        assert!((stats.spread() - 120.0).abs() < 1e-9);
        assert!(Stats::of(&[]).is_none());
    }

    #[test]
    fn cells_and_ratios() {
        let us = Duration::from_micros;
        let stats = |median, min| Cell::Stats(Stats { median, min, max: median });
        assert_eq!(stats(us(530), us(512)).text(Unit::Latency), "530.00 µs (512.00)");
        assert_eq!(stats(Duration::from_nanos(512), us(0)).text(Unit::Latency), "512 ns (0)");
        assert_eq!(stats(us(1300), us(1250)).text(Unit::Latency), "1.300 ms (1.250)");
        assert_eq!(stats(us(1_870_000), us(1_800_000)).text(Unit::Seconds), "1.870 s (1.800)");
        assert_eq!(stats(us(2000), us(1000)).text(Unit::Bandwidth), "500.0 MiB/s (1000.0)");
        assert_eq!(Cell::NotYet("futex").text(Unit::Latency), "not yet (Ferrite lacks futex)");
        let failed = Figure { ok: vec![us(1)], failed: 1 };
        assert_eq!(Cell::of(&failed).text(Unit::Latency), "failed");
        let row = |unit, ferrite, linux| Row { figure: "x", unit, ferrite, linux };
        let latency = row(Unit::Latency, stats(us(3), us(3)), stats(us(2), us(2)));
        assert_eq!(latency.ratio(), "1.500");
        let bandwidth = row(Unit::Bandwidth, stats(us(3), us(3)), stats(us(2), us(2)));
        assert_eq!(bandwidth.ratio(), "0.667");
        assert_eq!(row(Unit::Latency, Cell::Failed, stats(us(2), us(2))).ratio(), "-");
        assert!(row(Unit::Latency, Cell::Failed, Cell::None).failed());
    }

    #[test]
    fn spread_marks_noisy_figures() {
        let us = Duration::from_micros;
        let cell = |min, median, max| {
            Cell::Stats(Stats { median: us(median), min: us(min), max: us(max) })
        };
        let row = |ferrite, linux| Row { figure: "x", unit: Unit::Latency, ferrite, linux };
        assert_eq!(row(cell(99, 100, 104), cell(95, 100, 100)).spread(), "5% / 5%");
        assert_eq!(row(cell(90, 100, 111), cell(100, 100, 100)).spread(), "21% / 0% noisy");
        assert_eq!(row(Cell::NotYet("threads"), Cell::None).spread(), "-");
        let md = markdown_table("Linux 6.1", &[row(cell(1, 1, 1), Cell::Failed)]);
        assert!(
            md.starts_with("| figure | Ferrite | Linux 6.1 | ratio F/L | spread F / L |\n|---|")
        );
        assert!(md.ends_with("| x | 1.00 µs (1.00) | failed | - | 0% / - |\n"));
    }
}
