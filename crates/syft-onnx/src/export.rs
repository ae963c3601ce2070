//! ONNX export: a [`Sequential`] of plaintext `f32` layers written as an ONNX model, a
//! chain of `Gemm`, `Conv`, `Relu`, `MaxPool`, `AveragePool`, `GlobalAveragePool` and
//! `Flatten` nodes (opset 13) with the weights as initializers, which [`load`](crate::load)
//! (and ONNX Runtime, PyTorch's importers, ...) read back.

use crate::error::{Error, Result};
use crate::proto::attribute_proto::AttributeType;
use crate::proto::tensor_proto::DataType;
use crate::proto::tensor_shape_proto::{Dimension, dimension};
use crate::proto::{
    AttributeProto, GraphProto, ModelProto, NodeProto, OperatorSetIdProto, TensorProto, TensorShapeProto, TypeProto,
    ValueInfoProto, type_proto,
};
use prost::Message;
use syft_autograd::{Conv2dParams, Cpu, Pool2d, Var, no_grad};
use syft_nn::{Layer, Module, Sequential};
use syft_ring::Tensor;

/// The opset the exporter writes (every operator it uses has had its current semantics
/// since opset 13 or earlier).
pub const EXPORT_OPSET: i64 = 13;

/// The IR version of opset 13 (ONNX 1.8).
const EXPORT_IR_VERSION: i64 = 7;

/// The graph input's name.
pub const EXPORT_INPUT_NAME: &str = "input";

/// The graph output's name.
pub const EXPORT_OUTPUT_NAME: &str = "logits";

/// The symbolic batch dimension's name.
const BATCH: &str = "N";

/// Writes `model` as a serialized ONNX `ModelProto`.
///
/// `input_shape` is the shape of one example, without the batch axis (`[1, 28, 28]` for
/// MNIST images as a convolutional network reads them, `[784]` for an MLP); the graph's
/// input is `[N, ...input_shape]` with a symbolic batch `N`. Each layer becomes one node
/// (a nested `Sequential` is written as its layers in order), so the model that
/// [`load`](crate::load) reads back has the same layers and the same parameter names
/// (`0.weight`, ...) as a flat `model`.
///
/// Errors: [`Error::Export`] for a layer ONNX's chain of supported operators cannot
/// express (a `Flatten` that keeps more than two axes, a fully connected layer on data
/// that is not `[N, features]`, a convolution or pool on data that is not
/// `[N, C, H, W]`), and the layer's own error when `input_shape` does not fit it.
pub fn export(model: &Sequential<Cpu<f32>>, input_shape: &[usize]) -> Result<Vec<u8>> {
    let mut writer = Writer::new(input_shape)?;
    writer.sequence(model, "")?;
    Ok(writer.finish().encode_to_vec())
}

/// The graph as it is built: nodes and initializers so far, and the current value's name
/// and shape (batch 1 stands for the symbolic batch).
struct Writer {
    nodes: Vec<NodeProto>,
    initializers: Vec<TensorProto>,
    input_shape: Vec<usize>,
    current: String,
    shape: Vec<usize>,
    cpu: Cpu<f32>,
}

impl Writer {
    fn new(input_shape: &[usize]) -> Result<Self> {
        if input_shape.is_empty() || input_shape.contains(&0) {
            return Err(Error::Export {
                layer: "input".into(),
                reason: format!("input shape {input_shape:?}: at least one axis, none of size 0"),
            });
        }
        let mut shape = vec![1];
        shape.extend_from_slice(input_shape);
        Ok(Self {
            nodes: Vec::new(),
            initializers: Vec::new(),
            input_shape: input_shape.to_vec(),
            current: EXPORT_INPUT_NAME.to_owned(),
            shape,
            cpu: Cpu::default(),
        })
    }

    /// Writes the layers of `seq`, whose parameters are named under `prefix`.
    fn sequence(&mut self, seq: &Sequential<Cpu<f32>>, prefix: &str) -> Result<()> {
        for (i, layer) in seq.layers().iter().enumerate() {
            let name = syft_nn::module::join(prefix, &i.to_string());
            self.layer(layer, &name)?;
        }
        Ok(())
    }

    /// The shape `layer` computes from the current one (running it on zeros, batch 1):
    /// the layer's own checks decide whether the data fits it.
    fn shape_after(&self, layer: &Layer<Cpu<f32>>) -> Result<Vec<usize>> {
        let x = Var::constant(&self.cpu, Tensor::<f32>::zeros(&self.shape));
        let y = no_grad(|| layer.forward(&x))?;
        Ok(y.shape())
    }

    fn layer(&mut self, layer: &Layer<Cpu<f32>>, name: &str) -> Result<()> {
        let unsupported = |reason: String| Error::Export { layer: name.to_owned(), reason };
        // What ONNX's operators need of the data's rank, before the layer's own checks.
        match layer {
            Layer::Sequential(seq) => return self.sequence(seq, name),
            Layer::Linear(_) if self.shape.len() != 2 => {
                return Err(unsupported(format!(
                    "a fully connected layer on data of shape {:?} (Gemm needs [N, features]; flatten first)",
                    self.shape
                )));
            }
            Layer::Conv2d(_) | Layer::MaxPool2d(_) | Layer::AvgPool2d(_) | Layer::GlobalAvgPool2d(_) => {
                self.check_image(name)?;
            }
            _ => {}
        }
        let out_shape = self.shape_after(layer)?;
        let node = match layer {
            Layer::Linear(l) => {
                let mut inputs = vec![self.current.clone(), self.initializer(name, "weight", &l.weight().value())];
                if let Some(b) = l.bias() {
                    inputs.push(self.initializer(name, "bias", &b.value()));
                }
                node("Gemm", name, inputs, vec![int("transB", 1)])
            }
            Layer::Conv2d(c) => {
                let weight = c.weight().value();
                let &[_, _, kh, kw] = weight.shape() else {
                    return Err(unsupported(format!("a kernel of shape {:?}", weight.shape())));
                };
                let mut inputs = vec![self.current.clone(), self.initializer(name, "weight", &weight)];
                if let Some(b) = c.bias() {
                    inputs.push(self.initializer(name, "bias", &b.value()));
                }
                let mut attributes = window_attributes((kh, kw), c.params());
                attributes.push(ints("dilations", &[1, 1]));
                attributes.push(int("group", 1));
                node("Conv", name, inputs, attributes)
            }
            Layer::ReLU(_) => node("Relu", name, vec![self.current.clone()], Vec::new()),
            Layer::MaxPool2d(p) => node("MaxPool", name, vec![self.current.clone()], pool_attributes(p.pool())),
            Layer::AvgPool2d(p) => {
                let mut attributes = pool_attributes(p.pool());
                // syft-nn's average pool counts the padding as zeros.
                attributes.push(int("count_include_pad", 1));
                node("AveragePool", name, vec![self.current.clone()], attributes)
            }
            Layer::GlobalAvgPool2d(_) => node("GlobalAveragePool", name, vec![self.current.clone()], Vec::new()),
            Layer::Flatten(_) => {
                let keeps_batch = out_shape.len() == 2 && out_shape.first() == self.shape.first();
                if !keeps_batch {
                    return Err(unsupported(format!(
                        "a flatten of {:?} to {out_shape:?}; ONNX's Flatten (axis 1) gives [N, features]",
                        self.shape
                    )));
                }
                node("Flatten", name, vec![self.current.clone()], vec![int("axis", 1)])
            }
            other => return Err(unsupported(format!("no ONNX translation for {other:?}"))),
        };
        self.push(node, out_shape);
        Ok(())
    }

    /// The current data must be `[N, C, H, W]` for a convolution or a pool.
    fn check_image(&self, name: &str) -> Result<()> {
        if self.shape.len() == 4 {
            Ok(())
        } else {
            Err(Error::Export {
                layer: name.to_owned(),
                reason: format!("a 2-d window operator on data of shape {:?}, not [N, C, H, W]", self.shape),
            })
        }
    }

    /// Adds `tensor` as the initializer `{layer}.{what}` and returns its name.
    fn initializer(&mut self, layer: &str, what: &str, tensor: &Tensor<f32>) -> String {
        let name = syft_nn::module::join(layer, what);
        let raw: Vec<u8> = tensor.data().iter().flat_map(|v| v.to_le_bytes()).collect();
        self.initializers.push(TensorProto {
            dims: tensor.shape().iter().map(|&d| dim_i64(d)).collect(),
            data_type: Some(DataType::Float as i32),
            name: Some(name.clone()),
            raw_data: Some(raw),
            ..TensorProto::default()
        });
        name
    }

    /// Appends `node`, whose one output becomes the current value, of shape `shape`.
    fn push(&mut self, mut node: NodeProto, shape: Vec<usize>) {
        let output = format!("{}_out", node.name.as_deref().unwrap_or("node"));
        node.output = vec![output.clone()];
        self.nodes.push(node);
        self.current = output;
        self.shape = shape;
    }

    fn finish(mut self) -> ModelProto {
        // The last node writes the graph output.
        if let Some(last) = self.nodes.last_mut() {
            last.output = vec![EXPORT_OUTPUT_NAME.to_owned()];
        } else {
            self.nodes.push(NodeProto {
                input: vec![EXPORT_INPUT_NAME.to_owned()],
                output: vec![EXPORT_OUTPUT_NAME.to_owned()],
                name: Some("identity".into()),
                op_type: Some("Identity".into()),
                ..NodeProto::default()
            });
        }
        let graph = GraphProto {
            node: self.nodes,
            name: Some("syft_nn_sequential".into()),
            initializer: self.initializers,
            input: vec![value_info(EXPORT_INPUT_NAME, &self.input_shape)],
            output: vec![value_info(EXPORT_OUTPUT_NAME, self.shape.get(1..).unwrap_or(&[]))],
            ..GraphProto::default()
        };
        ModelProto {
            ir_version: Some(EXPORT_IR_VERSION),
            opset_import: vec![OperatorSetIdProto { domain: Some(String::new()), version: Some(EXPORT_OPSET) }],
            producer_name: Some("syft-onnx".into()),
            producer_version: Some(env!("CARGO_PKG_VERSION").into()),
            graph: Some(graph),
            ..ModelProto::default()
        }
    }
}

/// A node (its output is set when it is pushed).
fn node(op_type: &str, name: &str, input: Vec<String>, attribute: Vec<AttributeProto>) -> NodeProto {
    NodeProto {
        input,
        name: Some(name.to_owned()),
        op_type: Some(op_type.to_owned()),
        attribute,
        ..NodeProto::default()
    }
}

/// A float tensor `[N, ...rest]` with a symbolic batch.
fn value_info(name: &str, rest: &[usize]) -> ValueInfoProto {
    let batch = Dimension { value: Some(dimension::Value::DimParam(BATCH.to_owned())), ..Dimension::default() };
    let dims = std::iter::once(batch)
        .chain(
            rest.iter()
                .map(|&d| Dimension { value: Some(dimension::Value::DimValue(dim_i64(d))), ..Dimension::default() }),
        )
        .collect();
    ValueInfoProto {
        name: Some(name.to_owned()),
        r#type: Some(TypeProto {
            value: Some(type_proto::Value::TensorType(type_proto::Tensor {
                elem_type: Some(DataType::Float as i32),
                shape: Some(TensorShapeProto { dim: dims }),
            })),
            ..TypeProto::default()
        }),
        ..ValueInfoProto::default()
    }
}

/// `kernel_shape`, `strides` and symmetric `pads` of a window operator.
fn window_attributes((kh, kw): (usize, usize), params: Conv2dParams) -> Vec<AttributeProto> {
    let (sh, sw) = params.stride;
    let (ph, pw) = params.padding;
    vec![
        ints("kernel_shape", &[dim_i64(kh), dim_i64(kw)]),
        ints("strides", &[dim_i64(sh), dim_i64(sw)]),
        ints("pads", &[dim_i64(ph), dim_i64(pw), dim_i64(ph), dim_i64(pw)]),
    ]
}

fn pool_attributes(pool: Pool2d) -> Vec<AttributeProto> {
    window_attributes(pool.window, pool.params)
}

fn int(name: &str, i: i64) -> AttributeProto {
    AttributeProto {
        name: Some(name.to_owned()),
        r#type: Some(AttributeType::Int as i32),
        i: Some(i),
        ..AttributeProto::default()
    }
}

fn ints(name: &str, values: &[i64]) -> AttributeProto {
    AttributeProto {
        name: Some(name.to_owned()),
        r#type: Some(AttributeType::Ints as i32),
        ints: values.to_vec(),
        ..AttributeProto::default()
    }
}

/// A size as ONNX's `int64` (sizes of tensors in memory are far below `i64::MAX`).
fn dim_i64(d: usize) -> i64 {
    i64::try_from(d).unwrap_or(i64::MAX)
}
