//! Progress reporting on stderr: a bar that appears only once a run has taken a second and
//! only when stderr is a terminal; and the Ctrl-C flag.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

static STOP: AtomicBool = AtomicBool::new(false);

/// Set by Ctrl-C (once [`install_ctrlc`] ran); long loops poll it and abort without writing.
pub fn stop_flag() -> &'static AtomicBool {
    &STOP
}

/// Installs the Ctrl-C handler that sets [`stop_flag`].
pub fn install_ctrlc() {
    let _ = ctrlc::set_handler(|| {
        eprintln!("\ninterrupted: stopping, nothing will be written");
        STOP.store(true, Ordering::SeqCst);
    });
}

/// The default bar's template: the bar takes the width the text leaves on the terminal
/// (`wide_bar`; a fixed 40-column bar made the line wrap at 80 columns), the rate is an integer.
fn line(unit: &str) -> String {
    format!("{{elapsed_precise}} [{{wide_bar}}] {{pos}}/{{len}} {unit} {{per_sec:.0}} eta {{eta}}")
}

/// The style of an indicatif `template`.
fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ")
}

/// A progress bar over `total` units, shown after one second on a terminal.
pub struct Progress {
    bar: ProgressBar,
    start: Instant,
    shown: AtomicBool,
    enabled: bool,
}

impl Progress {
    /// A hidden bar over `total` units named `unit`; never shown when `quiet`.
    pub fn new(total: u64, unit: &str, quiet: bool) -> Self {
        Self::with_template(total, &line(unit), quiet)
    }

    /// A hidden bar over `total` units drawn with an indicatif `template` (`{msg}` shows
    /// [`Progress::set_message`]); never shown when `quiet`.
    pub fn with_template(total: u64, template: &str, quiet: bool) -> Self {
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::hidden());
        bar.set_style(style(template));
        Progress {
            bar,
            start: Instant::now(),
            shown: AtomicBool::new(false),
            enabled: !quiet && std::io::stderr().is_terminal(),
        }
    }

    /// Sets the absolute position.
    pub fn set(&self, pos: u64) {
        if self.enabled
            && !self.shown.load(Ordering::Relaxed)
            && self.start.elapsed() > Duration::from_secs(1)
            && !self.shown.swap(true, Ordering::SeqCst)
        {
            self.bar.set_draw_target(ProgressDrawTarget::stderr());
        }
        if pos > self.bar.position() {
            self.bar.set_position(pos);
        }
    }

    /// Sets the text shown by `{msg}` in the template.
    pub fn set_message(&self, msg: String) {
        self.bar.set_message(msg);
    }

    /// Clears the bar.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    /// A terminal `width` columns wide that records what is written.
    #[derive(Debug, Clone)]
    struct Term {
        width: u16,
        lines: Arc<Mutex<Vec<String>>>,
    }

    impl indicatif::TermLike for Term {
        fn width(&self) -> u16 {
            self.width
        }
        fn move_cursor_up(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn move_cursor_down(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn move_cursor_right(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn move_cursor_left(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn write_line(&self, s: &str) -> std::io::Result<()> {
            self.write_str(s)
        }
        fn write_str(&self, s: &str) -> std::io::Result<()> {
            self.lines.lock().unwrap().extend(s.lines().map(str::to_string));
            Ok(())
        }
        fn clear_line(&self) -> std::io::Result<()> {
            Ok(())
        }
        fn flush(&self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// The line fits an 80-column terminal (it used to wrap) for the longest units and
    /// counts the commands use, at every stage of a run.
    #[test]
    fn the_bar_fits_80_columns() {
        for (unit, total) in [
            ("replicas", u32::MAX as u64),
            ("fine heights", 20_000 * 100),
            ("heights", 1000),
        ] {
            let term = Term {
                width: 80,
                lines: Arc::default(),
            };
            let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::term_like(Box::new(term.clone())));
            bar.set_style(style(&line(unit)));
            for pos in [0, 1, total / 3, total] {
                bar.set_position(pos);
                bar.tick();
            }
            bar.finish();
            let lines = term.lines.lock().unwrap();
            assert!(!lines.is_empty());
            for l in lines.iter() {
                assert!(l.chars().count() <= 80, "{} columns: {l}", l.chars().count());
            }
        }
    }
}
