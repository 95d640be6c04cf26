//! The table `cargo xtask bench` prints: per figure the median and the
//! minimum of the runs on each kernel, and the ratio Ferrite/Linux of the
//! medians; boot rows in seconds, latency rows in ns, µs or ms.

use std::time::Duration;

/// One benchmark's samples on one kernel.
#[derive(Clone, Default)]
pub struct Figure {
    pub ok: Vec<Duration>,
    pub failed: usize,
}

/// Median and minimum of a figure's samples.
#[derive(Clone, Copy)]
pub struct Stats {
    median: Duration,
    min: Duration,
}

impl Stats {
    fn of(samples: &[Duration]) -> Option<Stats> {
        let mut sorted = samples.to_vec();
        sorted.sort();
        let n = sorted.len();
        let min = *sorted.first()?;
        let median =
            if n % 2 == 1 { sorted[n / 2] } else { (sorted[n / 2 - 1] + sorted[n / 2]) / 2 };
        Some(Stats { median, min })
    }

    /// "1.234 s (1.200)": median, minimum in brackets, in `unit`.
    fn text(self, unit: Unit) -> String {
        let (scale, suffix, decimals) = match unit {
            Unit::Seconds => (1.0, "s", 3),
            Unit::Latency => latency_unit(self.median),
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

    fn median(self) -> Option<Duration> {
        match self {
            Cell::Stats(s) => Some(s.median),
            Cell::Failed | Cell::None => None,
        }
    }

    fn text(self, unit: Unit) -> String {
        match self {
            Cell::Stats(s) => s.text(unit),
            Cell::Failed => "failed".to_string(),
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

    fn ratio(&self) -> String {
        match (self.ferrite.median(), self.linux.median()) {
            (Some(f), Some(l)) if !l.is_zero() => {
                format!("{:.3}", f.as_secs_f64() / l.as_secs_f64())
            }
            _ => "-".to_string(),
        }
    }
}

/// Prints `rows` under a header line naming the kernels.
pub fn print_table(linux_label: &str, rows: &[Row]) {
    println!("{:<32} {:<20} {linux_label:<20} ratio", "figure", "Ferrite");
    for row in rows {
        let ferrite = row.ferrite.text(row.unit);
        let linux = row.linux.text(row.unit);
        println!("{:<32} {ferrite:<20} {linux:<20} {}", row.figure, row.ratio());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_and_min() {
        let ms = Duration::from_millis;
        let stats = Stats::of(&[ms(30), ms(10), ms(20), ms(40)]).expect("samples");
        assert_eq!((stats.median, stats.min), (ms(25), ms(10)));
        assert!(Stats::of(&[]).is_none());
    }

    #[test]
    fn cells_and_ratios() {
        let us = Duration::from_micros;
        let stats = |median, min| Cell::Stats(Stats { median, min });
        assert_eq!(stats(us(530), us(512)).text(Unit::Latency), "530.00 µs (512.00)");
        assert_eq!(stats(Duration::from_nanos(512), us(0)).text(Unit::Latency), "512 ns (0)");
        assert_eq!(stats(us(1300), us(1250)).text(Unit::Latency), "1.300 ms (1.250)");
        assert_eq!(stats(us(1_870_000), us(1_800_000)).text(Unit::Seconds), "1.870 s (1.800)");
        let failed = Figure { ok: vec![us(1)], failed: 1 };
        assert_eq!(Cell::of(&failed).text(Unit::Latency), "failed");
        let row = |ferrite, linux| Row { figure: "x", unit: Unit::Latency, ferrite, linux };
        assert_eq!(row(stats(us(3), us(3)), stats(us(2), us(2))).ratio(), "1.500");
        assert_eq!(row(Cell::Failed, stats(us(2), us(2))).ratio(), "-");
        assert!(row(Cell::Failed, Cell::None).failed());
    }
}
