//! Progress bars for training and evaluation loops (indicatif), shown only to a person
//! at a terminal: hidden when stdout or stderr is not a terminal (output piped or
//! captured, as in CI) or when asked to be quiet (`--json`).

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;

/// Whether progress bars would be seen (stdout and stderr are both terminals).
#[must_use]
pub fn interactive() -> bool {
    std::io::stdout().is_terminal() && std::io::stderr().is_terminal()
}

/// A progress bar over `len` steps, or a hidden one (no output at all).
#[derive(Debug, Clone)]
pub struct Progress {
    bar: ProgressBar,
}

impl Progress {
    /// A bar labelled `label`; hidden when `quiet` or when not [`interactive`].
    #[must_use]
    pub fn new(len: usize, label: &str, quiet: bool) -> Self {
        let len = u64::try_from(len).unwrap_or(u64::MAX);
        if quiet || !interactive() {
            return Self { bar: ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::hidden()) };
        }
        let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
        let style = ProgressStyle::with_template("{prefix:>12} [{bar:30}] {pos}/{len} {elapsed_precise} {msg}")
            .map(|s| s.progress_chars("=> "))
            .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        bar.set_prefix(label.to_owned());
        Self { bar }
    }

    /// Whether the bar draws anything.
    #[must_use]
    pub fn is_hidden(&self) -> bool {
        self.bar.is_hidden()
    }

    /// Advances by `n` steps.
    pub fn inc(&self, n: usize) {
        self.bar.inc(u64::try_from(n).unwrap_or(u64::MAX));
    }

    /// Shows a short status after the counter (e.g. the running loss).
    pub fn set_message(&self, msg: impl Into<String>) {
        self.bar.set_message(msg.into());
    }

    /// Removes the bar from the terminal.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }

    /// Prints a line above the bar (nothing when the bar is hidden).
    pub fn println(&self, line: impl AsRef<str>) {
        self.bar.println(line);
    }
}
