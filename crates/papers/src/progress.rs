//! Progress reporting on stderr: a bar with rate and ETA on a terminal, a plain line
//! every few seconds otherwise (logs and CI), nothing on stdout.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

pub struct Progress {
    bar: Option<ProgressBar>,
    label: String,
    unit: &'static str,
    started: Instant,
    last_line: Instant,
    total: Option<u64>,
}

impl Progress {
    /// `total` is in the same unit as the positions given to [`Progress::set`]; the
    /// count of items is reported separately so the rate reads in records per second.
    pub fn new(label: &str, total: Option<u64>, unit: &'static str) -> Progress {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = match total {
                Some(total) => ProgressBar::new(total),
                None => ProgressBar::new_spinner(),
            };
            bar.set_draw_target(ProgressDrawTarget::stderr_with_hz(4));
            let template = if total.is_some() {
                "{prefix} [{bar:30}] {percent:>3}% {msg} eta {eta}"
            } else {
                "{prefix} {spinner} {msg}"
            };
            if let Ok(style) = ProgressStyle::with_template(template) {
                bar.set_style(style.progress_chars("=> "));
            }
            bar.set_prefix(label.to_owned());
            bar
        });
        let now = Instant::now();
        Progress {
            bar,
            label: label.to_owned(),
            unit,
            started: now,
            last_line: now,
            total,
        }
    }

    /// `position` in the total's unit; `items` done so far.
    pub fn set(&mut self, position: u64, items: u64) {
        let elapsed = self.started.elapsed().as_secs_f64().max(1e-9);
        let rate = items as f64 / elapsed;
        match &self.bar {
            Some(bar) => {
                bar.set_position(position);
                bar.set_message(format!("{items} {} ({rate:.0}/s)", self.unit));
            }
            None => {
                if self.last_line.elapsed() >= Duration::from_secs(5) {
                    self.last_line = Instant::now();
                    let percent = self
                        .total
                        .filter(|t| *t > 0)
                        .map(|t| format!(" {:.0}%", 100.0 * position as f64 / t as f64))
                        .unwrap_or_default();
                    eprintln!(
                        "{}:{percent} {items} {} ({rate:.0}/s)",
                        self.label, self.unit
                    );
                }
            }
        }
    }

    pub fn finish(self) {
        if let Some(bar) = self.bar {
            bar.finish_and_clear();
        }
    }
}
