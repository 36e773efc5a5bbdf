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
        Self::with_template(
            total,
            &format!("{{elapsed_precise}} [{{bar:40}}] {{pos}}/{{len}} {unit} ({{per_sec}}, eta {{eta}})"),
            quiet,
        )
    }

    /// A hidden bar over `total` units drawn with an indicatif `template` (`{msg}` shows
    /// [`Progress::set_message`]); never shown when `quiet`.
    pub fn with_template(total: u64, template: &str, quiet: bool) -> Self {
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::hidden());
        bar.set_style(
            ProgressStyle::with_template(template)
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
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
