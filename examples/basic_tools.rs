//! Part 1 of the PySyft tutorials, "Basic tools of private deep learning", cell by cell:
//! a virtual worker `bob`, sending tensors to him, pointers and their metadata, remote
//! operations, `get`, and remote autograd. Each cell prints its code and what it shows.
//!
//! `cargo run --release --example basic_tools`

use syft::prelude::*;

#[path = "common/mod.rs"]
mod common;
#[path = "common/notebook.rs"]
mod notebook;
use notebook::{Notebook, objects, show};

fn main() -> std::process::ExitCode {
    common::main("basic_tools", run)
}

fn run(args: notebook::Args) -> Result<()> {
    let mut nb = Notebook { n: 0 };
    println!("# Part 1: Basic tools of private deep learning\n");

    nb.section("Tensors, locally");
    let x = Tensor::from_vec(vec![1.0f32, 2., 3., 4., 5.]);
    let y = x.add(&x)?;
    nb.cell(
        "let x = Tensor::from_vec(vec![1.0f32, 2., 3., 4., 5.]);\nlet y = x.add(&x)?;\nprintln!(\"{y}\");",
        show(&y),
    );

    nb.section("1.1 Sending tensors to Bob");
    let hub = Hub::new();
    let workers = args.placement.workers(&hub, &["bob"])?;
    let bob = workers.get("bob")?;
    nb.cell(
        "let hub = Hub::new();\nlet bob = VirtualWorker::new(&hub, \"bob\")?;\nbob",
        format!("<Worker id:{}>", bob.id()),
    );

    let x = Tensor::from_vec(vec![1.0f32, 2., 3., 4., 5.]);
    let y = Tensor::from_vec(vec![1.0f32, 1., 1., 1., 1.]);
    nb.cell("let x = Tensor::from_vec(vec![1.0f32, 2., 3., 4., 5.]);\nlet y = Tensor::from_vec(vec![1.0f32; 5]);", "");
    let x_ptr = x.send(bob)?;
    let y_ptr = y.send(bob)?;
    nb.cell("let x_ptr = x.send(&bob)?;\nlet y_ptr = y.send(&bob)?;", "");
    nb.cell("x_ptr", format!("{x_ptr:?}"));
    nb.cell("bob._objects", objects(bob)?);
    let z = x_ptr.add(&x_ptr)?;
    nb.cell("let z = x_ptr.add(&x_ptr)?;\nz", format!("{z:?}"));
    nb.cell("bob._objects", objects(bob)?);

    nb.section("Pointer metadata: <id_at_location>@<location>");
    nb.cell("x_ptr.to_string()", &x_ptr);
    nb.cell("x_ptr.location()", x_ptr.location());
    nb.cell("bob.id() == x_ptr.location()", bob.id() == x_ptr.location());
    nb.cell("x_ptr.id_at_location()", x_ptr.id_at_location());
    nb.cell("x_ptr.id()", x_ptr.id());
    nb.cell("x_ptr.owner()", x_ptr.owner());
    nb.cell("LOCAL_WORKER == x_ptr.owner()", LOCAL_WORKER == x_ptr.owner());

    nb.section("get() brings the data back");
    nb.cell("x_ptr", format!("{x_ptr:?}"));
    nb.cell("x_ptr.get()?", show(&x_ptr.get()?));
    nb.cell("y_ptr.get()?", show(&y_ptr.get()?));
    nb.cell("z.get()?", show(&z.get()?));
    nb.cell("bob._objects", objects(bob)?);

    nb.section("1.2 Using tensor pointers");
    let x = Tensor::from_vec(vec![1.0f32, 2., 3., 4., 5.]).send(bob)?;
    let y = Tensor::from_vec(vec![1.0f32; 5]).send(bob)?;
    nb.cell(
        "let x = Tensor::from_vec(vec![1.0f32, 2., 3., 4., 5.]).send(&bob)?;\n\
         let y = Tensor::from_vec(vec![1.0f32; 5]).send(bob)?;",
        "",
    );
    let z = x.add(&y)?;
    nb.cell("let z = x.add(&y)?;  // serialized, sent to bob, computed there\nz", format!("{z:?}"));
    nb.cell("z.get()?", show(&z.get()?));

    nb.section("Torch functions");
    nb.cell("x", format!("{x:?}"));
    nb.cell("y", format!("{y:?}"));
    let z = x.apply(syft::worker::TensorOp::Add, &[&y])?.typed::<Tensor<f32>>();
    nb.cell("let z = x.apply(TensorOp::Add, &[&y])?.typed::<Tensor<f32>>();  // torch.add(x, y)\nz", format!("{z:?}"));
    nb.cell("z.get()?", show(&z.get()?));
    drop((x, y));
    nb.cell("drop((x, y));  // pointers own their objects\nbob._objects", objects(bob)?);

    nb.section("Variables (including backpropagation)");
    let be = Cpu::<f32>::default();
    let x = Var::new(&be, Tensor::from_vec(vec![1.0f32, 2., 3., 4., 5.]), true).send(bob)?;
    let y = Var::new(&be, Tensor::from_vec(vec![1.0f32; 5]), true).send(bob)?;
    nb.cell(
        "let x = Var::new(&be, Tensor::from_vec(vec![1.0f32, 2., 3., 4., 5.]), true).send(&bob)?;\n\
         let y = Var::new(&be, Tensor::from_vec(vec![1.0f32; 5]), true).send(bob)?;",
        "",
    );
    let z = x.add(&y)?.sum()?;
    nb.cell("let z = x.add(&y)?.sum()?;\nz", format!("{z:?}"));
    z.backward()?;
    nb.cell("z.backward()?;", "");
    let x = x.get()?;
    nb.cell("let x = x.get()?;\nx.value()", show(&x.value()));
    let grad = x.grad().ok_or_else(|| common::failed("x has no gradient"))?;
    nb.cell("x.grad()", show(&grad));
    drop((y, z));
    nb.cell("drop((y, z));\nbob._objects", objects(bob)?);
    if bob.object_count()? != 0 {
        return Err(common::failed("bob still holds objects"));
    }
    Ok(())
}
