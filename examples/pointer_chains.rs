//! Part 3 of the PySyft tutorials, "Advanced remote execution tools", cell by cell:
//! pointers to pointers (sending a pointer moves the pointer, not the data), arithmetic
//! through a chain pointer → pointer → data, and `move`, which sends data from one worker
//! straight to another. Each cell prints its code and what it shows.
//!
//! `cargo run --release --example pointer_chains`

use syft::prelude::*;

/// Both stores, as the tutorial prints them.
fn stores(bob: &dyn Worker, alice: &dyn Worker) -> Result<String, WorkerError> {
    Ok(format!("  bob: {}\nalice: {}", objects(bob)?, objects(alice)?))
}

#[path = "common/mod.rs"]
mod common;
#[path = "common/notebook.rs"]
mod notebook;
use notebook::{Notebook, objects, show};

fn main() -> std::process::ExitCode {
    common::main("pointer_chains", run)
}

fn run(args: notebook::Args) -> Result<()> {
    let mut nb = Notebook { n: 0 };
    println!("# Part 3: Advanced remote execution tools\n");

    nb.section("3.1 Pointers to pointers");
    let hub = Hub::new();
    let workers = args.placement.workers(&hub, &["bob", "alice"])?;
    let (bob, alice) = (workers.get("bob")?, workers.get("alice")?);
    nb.cell(
        "let bob = VirtualWorker::new(&hub, \"bob\")?;\nlet alice = VirtualWorker::new(&hub, \"alice\")?;",
        format!("<Worker id:{}> <Worker id:{}>", bob.id(), alice.id()),
    );

    let x = Tensor::from_vec(vec![1.0f32, 2., 3., 4.]);
    nb.cell("// a local tensor\nlet x = Tensor::from_vec(vec![1.0f32, 2., 3., 4.]);\nx", show(&x));
    let x_ptr = x.send(bob)?;
    nb.cell(
        "// send the local tensor to bob: we now hold a pointer\nlet x_ptr = x.send(&bob)?;\nx_ptr",
        format!("{x_ptr:?}"),
    );
    let pointer_to_x_ptr = x_ptr.send(alice)?;
    nb.cell(
        "// now we can SEND THE POINTER to alice!\nlet pointer_to_x_ptr = x_ptr.send(&alice)?;\npointer_to_x_ptr",
        format!("{pointer_to_x_ptr:?}"),
    );
    nb.cell("// bob still holds the data\nbob._objects", objects(bob)?);
    nb.cell("// alice holds x_ptr: a pointer to bob\nalice._objects", objects(alice)?);
    let x_ptr = pointer_to_x_ptr.get()?;
    nb.cell("// get x_ptr back from alice\nlet x_ptr = pointer_to_x_ptr.get()?;\nx_ptr", format!("{x_ptr:?}"));
    nb.cell("// and then x from bob\nlet x = x_ptr.get()?;\nx", show(&x_ptr.get()?));

    nb.section("Arithmetic on pointer -> pointer -> data");
    nb.cell("bob._objects", objects(bob)?);
    nb.cell("alice._objects", objects(alice)?);
    let p2p2x = Tensor::from_vec(vec![1.0f32, 2., 3., 4., 5.]).send(bob)?.send(alice)?;
    let y = p2p2x.add(&p2p2x)?;
    nb.cell(
        "let p2p2x = Tensor::from_vec(vec![1.0f32, 2., 3., 4., 5.]).send(&bob)?.send(&alice)?;\n\
         let y = p2p2x.add(&p2p2x)?;  // forwarded by alice to bob\ny",
        format!("{y:?}"),
    );
    nb.cell("bob._objects", objects(bob)?);
    nb.cell("alice._objects", objects(alice)?);
    nb.cell("y.get()?.get()?", show(&y.get()?.get()?));
    nb.cell("bob._objects", objects(bob)?);
    nb.cell("alice._objects", objects(alice)?);
    nb.cell("p2p2x.get()?.get()?", show(&p2p2x.get()?.get()?));
    nb.cell("bob._objects", objects(bob)?);
    nb.cell("alice._objects", objects(alice)?);

    nb.section("3.2 Chain operations: move");
    let x = Tensor::from_vec(vec![1.0f32, 2., 3., 4., 5.]).send(bob)?;
    nb.cell(
        "// x is a pointer to data on bob\nlet x = Tensor::from_vec(vec![1.0f32, 2., 3., 4., 5.]).send(&bob)?;",
        "",
    );
    nb.cell("bob._objects; alice._objects", stores(bob, alice)?);
    let x = x.move_to(alice)?;
    nb.cell("// the data goes from bob straight to alice\nlet x = x.move_to(&alice)?;", "");
    nb.cell("bob._objects; alice._objects", stores(bob, alice)?);
    nb.cell("x", format!("{x:?}"));
    nb.cell("x.get()?", show(&x.get()?));
    nb.cell("bob._objects; alice._objects", stores(bob, alice)?);
    if bob.object_count()? + alice.object_count()? != 0 {
        return Err(common::failed("a worker still holds objects"));
    }
    Ok(())
}
