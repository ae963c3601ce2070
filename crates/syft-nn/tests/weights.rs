//! safetensors weights: round trips, a file laid out as PyTorch writes it, and errors.

#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

use syft_autograd::{Cpu, Var};
use syft_nn::weights::{load_safetensors_bytes, to_safetensors_bytes};
use syft_nn::{Error, Linear, Module, ReLU, Sequential, load_safetensors, save_safetensors};
use syft_ring::{Prg, Seed, Tensor};

fn mlp<T: syft_autograd::CpuFloat>(seed: u64) -> Sequential<Cpu<T>> {
    let cpu = Cpu::<T>::default();
    let mut r = Prg::new(&Seed::from_u64(seed));
    Sequential::new()
        .with(Linear::new(&cpu, 3, 2, true, &mut r).unwrap())
        .with(ReLU::new())
        .with(Linear::new(&cpu, 2, 1, true, &mut r).unwrap())
}

/// A safetensors file as `safetensors.torch.save_file(model.state_dict())` writes it:
/// an 8-byte little-endian header length, a JSON header padded with spaces to a
/// multiple of 8, then the raw little-endian data.
fn pytorch_style_file(tensors: &[(&str, &str, Vec<usize>, Vec<u8>)]) -> Vec<u8> {
    let mut header = String::from("{\"__metadata__\":{\"format\":\"pt\"}");
    let mut offset = 0;
    for (name, dtype, shape, data) in tensors {
        let shape: Vec<String> = shape.iter().map(ToString::to_string).collect();
        header.push_str(&format!(
            ",\"{name}\":{{\"dtype\":\"{dtype}\",\"shape\":[{}],\"data_offsets\":[{offset},{}]}}",
            shape.join(","),
            offset + data.len()
        ));
        offset += data.len();
    }
    header.push('}');
    while header.len() % 8 != 0 {
        header.push(' ');
    }
    let mut out = (header.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(header.as_bytes());
    for (_, _, _, data) in tensors {
        out.extend_from_slice(data);
    }
    out
}

fn f32_bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

#[test]
fn round_trip_f32_and_f64() {
    let a = mlp::<f32>(1);
    let b = mlp::<f32>(2);
    load_safetensors_bytes(&b, &to_safetensors_bytes(&a).unwrap()).unwrap();
    for (p, q) in a.parameters().iter().zip(b.parameters()) {
        assert_eq!(*p.value(), *q.value());
    }
    let c = mlp::<f64>(3);
    let d = mlp::<f64>(4);
    load_safetensors_bytes(&d, &to_safetensors_bytes(&c).unwrap()).unwrap();
    assert_eq!(*c.parameters()[0].value(), *d.parameters()[0].value());
    // f64 weights load into an f32 model (rounded).
    let e = mlp::<f32>(5);
    load_safetensors_bytes(&e, &to_safetensors_bytes(&c).unwrap()).unwrap();
    let (narrow, wide) = (e.parameters()[2].value().data()[0], c.parameters()[2].value().data()[0]);
    assert!((f64::from(narrow) - wide).abs() <= wide.abs() * 1e-7);
}

#[test]
fn save_and_load_files() {
    let dir = std::env::temp_dir().join(format!("syft-nn-weights-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("mlp.safetensors");
    let a = mlp::<f32>(1);
    save_safetensors(&a, &path).unwrap();
    let b = mlp::<f32>(9);
    load_safetensors(&b, &path).unwrap();
    assert_eq!(*a.parameters()[1].value(), *b.parameters()[1].value());
    assert!(matches!(load_safetensors(&b, dir.join("absent.safetensors")), Err(Error::Io { .. })));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn reads_a_pytorch_state_dict() {
    // nn.Sequential(nn.Linear(3, 2), nn.ReLU(), nn.Linear(2, 1)): Linear weights [out, in].
    let w0 = [0.1f32, 0.2, 0.3, -0.4, -0.5, -0.6];
    let file = pytorch_style_file(&[
        ("0.weight", "F32", vec![2, 3], f32_bytes(&w0)),
        ("0.bias", "F32", vec![2], f32_bytes(&[0.01, -0.02])),
        ("2.weight", "F32", vec![1, 2], f32_bytes(&[1.5, -2.5])),
        ("2.bias", "F32", vec![1], f32_bytes(&[0.25])),
    ]);
    let model = mlp::<f32>(0);
    load_safetensors_bytes(&model, &file).unwrap();
    assert_eq!(model.parameters()[0].value().data(), &w0);
    let cpu = Cpu::<f32>::default();
    let x = Var::constant(&cpu, Tensor::new(&[1, 3], vec![1.0f32, 1.0, 1.0]).unwrap());
    // h = relu([0.61, -1.52]) = [0.61, 0]; y = 1.5·0.61 + 0.25
    let y = model.forward(&x).unwrap().value().data()[0];
    assert!((y - (1.5 * 0.61 + 0.25)).abs() < 1e-6);
}

#[test]
fn bad_weights_are_typed_errors_and_change_nothing() {
    let model = mlp::<f32>(0);
    let before = model.parameters()[0].value();
    let good = |name: &'static str, shape: Vec<usize>| {
        let n: usize = shape.iter().product();
        (name, "F32", shape, f32_bytes(&vec![1.0; n]))
    };
    let missing =
        pytorch_style_file(&[good("0.weight", vec![2, 3]), good("0.bias", vec![2]), good("2.weight", vec![1, 2])]);
    assert!(
        matches!(load_safetensors_bytes(&model, &missing), Err(Error::MissingParameter { name }) if name == "2.bias")
    );
    let extra = pytorch_style_file(&[
        good("0.weight", vec![2, 3]),
        good("0.bias", vec![2]),
        good("2.weight", vec![1, 2]),
        good("2.bias", vec![1]),
        good("3.weight", vec![1]),
    ]);
    assert!(
        matches!(load_safetensors_bytes(&model, &extra), Err(Error::UnexpectedParameter { name }) if name == "3.weight")
    );
    let transposed = pytorch_style_file(&[
        good("0.weight", vec![3, 2]),
        good("0.bias", vec![2]),
        good("2.weight", vec![1, 2]),
        good("2.bias", vec![1]),
    ]);
    assert!(matches!(load_safetensors_bytes(&model, &transposed), Err(Error::ParameterShape { .. })));
    let ints = pytorch_style_file(&[
        ("0.weight", "I32", vec![2, 3], vec![0u8; 24]),
        good("0.bias", vec![2]),
        good("2.weight", vec![1, 2]),
        good("2.bias", vec![1]),
    ]);
    assert!(matches!(load_safetensors_bytes(&model, &ints), Err(Error::UnsupportedDtype { .. })));
    assert!(matches!(load_safetensors_bytes(&model, b"not a safetensors file"), Err(Error::Safetensors(_))));
    assert_eq!(*model.parameters()[0].value(), *before);
}
