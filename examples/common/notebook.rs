//! The notebook printing shared by the tutorial walkthroughs (`basic_tools`,
//! `pointer_chains`): numbered cells, tensors as PyTorch prints them, and worker stores
//! as PySyft prints `worker._objects`.

use std::fmt::Display;
use syft::prelude::*;

/// The walkthroughs' flags (`--transport tcp` runs the workers as processes over TLS).
#[derive(clap::Parser, Debug)]
#[command(version, about)]
pub(crate) struct Args {
    #[command(flatten)]
    pub(crate) placement: crate::common::Placement,
}

/// Numbers the cells and prints them notebook-style.
pub(crate) struct Notebook {
    pub(crate) n: usize,
}

impl Notebook {
    pub(crate) fn section(&self, title: &str) {
        println!("## {title}\n");
    }

    pub(crate) fn cell(&mut self, code: &str, out: impl Display) {
        self.n += 1;
        let prompt = format!("In [{}]: ", self.n);
        for (i, line) in code.lines().enumerate() {
            let lead = if i == 0 { prompt.clone() } else { " ".repeat(prompt.len()) };
            println!("{lead}{line}");
        }
        let out = out.to_string();
        if !out.is_empty() {
            println!("{out}");
        }
        println!();
    }
}

/// `tensor([1., 2., 3.])`, as PyTorch prints float tensors.
pub(crate) fn show(t: &Tensor<f32>) -> String {
    let items: Vec<String> =
        t.data().iter().map(|v| if v.fract() == 0.0 { format!("{v:.0}.") } else { format!("{v}") }).collect();
    match t.shape() {
        [] => format!("tensor({})", items.join("")),
        _ => format!("tensor([{}])", items.join(", ")),
    }
}

/// A worker's store as PySyft prints `worker._objects` (shapes instead of data: the
/// listing carries no values).
pub(crate) fn objects(w: &dyn Worker) -> Result<String, WorkerError> {
    let items: Vec<String> = w
        .objects()?
        .into_iter()
        .map(|(id, info)| match info.kind {
            ObjectKind::Float => format!("{id}: tensor(shape={:?}, dtype=f32)", info.shape),
            ObjectKind::Ring => format!("{id}: tensor(shape={:?}, dtype=u64)", info.shape),
            ObjectKind::Pointer { location, id: at } => {
                format!("{id}: (Wrapper)>[PointerTensor | {}:{id} -> {at}@{location}]", w.id())
            }
            other => format!("{id}: {other:?}"),
        })
        .collect();
    Ok(format!("{{{}}}", items.join(", ")))
}
