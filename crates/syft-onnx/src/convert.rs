//! From a decoded `ModelProto` to an [`OnnxModel`]: the graph is walked as a chain from
//! its one input to its one output, each node becomes a layer (or folds into the one
//! before it: `Add` and `BatchNormalization` into a `Conv` or linear layer), and the
//! shape of the data is followed so that every weight is checked against it.

use crate::error::{Error, Result};
use crate::limits::Limits;
use crate::model::{OnnxModel, OutputActivation};
use crate::proto::attribute_proto::AttributeType;
use crate::proto::tensor_proto::DataType;
use crate::proto::tensor_shape_proto::dimension;
use crate::proto::type_proto;
use crate::proto::{AttributeProto, GraphProto, ModelProto, NodeProto, TensorProto, ValueInfoProto};
use crate::tensor::{Const, data_type_name, decode};
use std::collections::{HashMap, HashSet};
use syft_autograd::{Conv2dParams, Cpu, Pool2d, Var};
use syft_nn::{AvgPool2d, Conv2d, Flatten, GlobalAvgPool2d, Layer, Linear, MaxPool2d, ReLU, Sequential};
use syft_ring::Tensor;

/// A layer before it becomes a syft-nn module, so that later nodes can fold into it.
enum Op {
    /// `y = x · weightᵀ + bias`, `weight: [out, in]`.
    Linear {
        weight: Tensor<f32>,
        bias: Option<Vec<f32>>,
    },
    /// A 2-d convolution, `weight: [out, in, kh, kw]`.
    Conv {
        weight: Tensor<f32>,
        bias: Option<Vec<f32>>,
        params: Conv2dParams,
    },
    Relu,
    MaxPool(Pool2d),
    AvgPool(Pool2d),
    GlobalAvgPool,
    Flatten,
}

/// A constant known to the importer: an initializer not yet decoded, or a decoded value
/// (from a `Constant` node).
enum ConstRef<'a> {
    Proto(&'a TensorProto),
    Value(Const),
}

/// One element of a [`ShapeVal`]: a fixed number, or the symbolic batch size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Dim {
    Batch,
    Fixed(i64),
}

impl std::fmt::Display for Dim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Dim::Batch => f.write_str("N"),
            Dim::Fixed(v) => write!(f, "{v}"),
        }
    }
}

/// An integer scalar or vector computed from the data's shape, as PyTorch exports
/// `x.view(x.size(0), -1)`: `Shape`, `Gather`, `Unsqueeze`, `Concat`, then `Reshape`.
#[derive(Clone, Debug)]
struct ShapeVal {
    scalar: bool,
    dims: Vec<Dim>,
}

fn show(dims: &[Dim]) -> String {
    let parts: Vec<String> = dims.iter().map(ToString::to_string).collect();
    format!("[{}]", parts.join(", "))
}

/// The node being translated, for its attributes and errors.
struct NodeCx<'a> {
    node: &'a NodeProto,
    op_type: &'a str,
    label: String,
    opset: i64,
}

impl NodeCx<'_> {
    fn unsupported_attribute(&self, attribute: &str, reason: impl Into<String>) -> Error {
        Error::UnsupportedAttribute {
            op_type: self.op_type.to_owned(),
            node: self.label.clone(),
            attribute: attribute.to_owned(),
            reason: reason.into(),
            opset: self.opset,
        }
    }

    fn unsupported_use(&self, reason: impl Into<String>) -> Error {
        Error::UnsupportedUse {
            op_type: self.op_type.to_owned(),
            node: self.label.clone(),
            reason: reason.into(),
            opset: self.opset,
        }
    }

    fn shape(&self, reason: impl Into<String>) -> Error {
        Error::Shape { op_type: self.op_type.to_owned(), node: self.label.clone(), reason: reason.into() }
    }

    fn malformed(&self, reason: impl std::fmt::Display) -> Error {
        Error::Malformed { reason: format!("`{}` node `{}`: {reason}", self.op_type, self.label) }
    }

    /// Fails on an attribute outside `known` (one the importer would silently ignore).
    fn check_attributes(&self, known: &[&str]) -> Result<()> {
        for a in &self.node.attribute {
            let name = a.name.as_deref().unwrap_or("");
            if a.ref_attr_name.is_some() {
                return Err(
                    self.unsupported_attribute(name, "attribute references (inside functions) are not supported")
                );
            }
            if !known.contains(&name) {
                return Err(self.unsupported_attribute(name, "not an attribute the importer knows for this operator"));
            }
        }
        Ok(())
    }

    fn attribute(&self, name: &str, ty: AttributeType) -> Result<Option<&AttributeProto>> {
        let Some(a) = self.node.attribute.iter().find(|a| a.name.as_deref() == Some(name)) else { return Ok(None) };
        match a.r#type {
            Some(t) if t == ty as i32 => Ok(Some(a)),
            // Files from before IR 2 carry no type: trust the field that is set.
            None => Ok(Some(a)),
            Some(t) => Err(self.malformed(format!(
                "attribute `{name}` has type {}, expected {}",
                AttributeType::try_from(t).map_or_else(|_| format!("#{t}"), |t| t.as_str_name().to_owned()),
                ty.as_str_name()
            ))),
        }
    }

    fn int(&self, name: &str, default: i64) -> Result<i64> {
        match self.attribute(name, AttributeType::Int)? {
            Some(a) => a.i.ok_or_else(|| self.malformed(format!("attribute `{name}` has no integer"))),
            None => Ok(default),
        }
    }

    fn float(&self, name: &str, default: f32) -> Result<f32> {
        match self.attribute(name, AttributeType::Float)? {
            Some(a) => a.f.ok_or_else(|| self.malformed(format!("attribute `{name}` has no float"))),
            None => Ok(default),
        }
    }

    fn ints(&self, name: &str) -> Result<Option<Vec<i64>>> {
        Ok(self.attribute(name, AttributeType::Ints)?.map(|a| a.ints.clone()))
    }

    fn string(&self, name: &str) -> Result<Option<String>> {
        match self.attribute(name, AttributeType::String)? {
            Some(a) => {
                let bytes = a.s.as_deref().unwrap_or_default();
                let s = std::str::from_utf8(bytes)
                    .map_err(|_| self.malformed(format!("attribute `{name}` is not UTF-8")))?;
                Ok(Some(s.to_owned()))
            }
            None => Ok(None),
        }
    }

    /// The name of input `i`, or `None` when absent or empty (an omitted optional input).
    fn input(&self, i: usize) -> Option<&str> {
        self.node.input.get(i).map(String::as_str).filter(|s| !s.is_empty())
    }
}

/// The walk's state.
struct Walk<'a> {
    limits: &'a Limits,
    opset: i64,
    consts: HashMap<&'a str, ConstRef<'a>>,
    /// Integer values computed from shapes.
    shape_vals: HashMap<&'a str, ShapeVal>,
    /// Every value the graph computes (the input and node outputs).
    produced: HashSet<&'a str>,
    /// The value the chain has reached.
    current: &'a str,
    /// Its shape, with a symbolic batch taken as 1.
    shape: Vec<usize>,
    /// Whether the first axis of `shape` stands for a symbolic batch.
    symbolic_batch: bool,
    ops: Vec<Op>,
    /// A final `Softmax`/`LogSoftmax` seen, and its node.
    activation: Option<(OutputActivation, String)>,
}

/// The opset of the default domain.
fn default_opset(model: &ModelProto) -> Result<i64> {
    let mut found = None;
    for o in &model.opset_import {
        if matches!(o.domain.as_deref(), None | Some("" | "ai.onnx")) {
            if found.is_some() {
                return Err(Error::Malformed { reason: "two opset imports for the default domain".into() });
            }
            found = Some(o.version.unwrap_or(0));
        }
    }
    match found {
        Some(v) if v >= 1 => Ok(v),
        Some(v) => Err(Error::Malformed { reason: format!("opset version {v} for the default domain") }),
        None => Err(Error::Malformed { reason: "no opset import for the default domain".into() }),
    }
}

/// The dims of a graph input or output: `Some(n)` for a fixed size, `None` for a symbolic one.
fn value_dims(v: &ValueInfoProto, what: &str) -> Result<Vec<Option<usize>>> {
    let name = v.name.as_deref().unwrap_or("");
    let Some(type_proto::Value::TensorType(t)) = v.r#type.as_ref().and_then(|t| t.value.as_ref()) else {
        return Err(Error::Malformed { reason: format!("graph {what} `{name}` is not a tensor") });
    };
    let elem = t.elem_type.unwrap_or(0);
    if elem != DataType::Float as i32 {
        return Err(Error::UnsupportedDataType { name: name.to_owned(), data_type: data_type_name(elem) });
    }
    let Some(shape) = &t.shape else {
        return Err(Error::Malformed { reason: format!("graph {what} `{name}` has no shape") });
    };
    shape
        .dim
        .iter()
        .map(|d| match d.value {
            Some(dimension::Value::DimValue(n)) => usize::try_from(n)
                .ok()
                .filter(|&n| n > 0)
                .map(Some)
                .ok_or_else(|| Error::Malformed { reason: format!("graph {what} `{name}` has dimension {n}") }),
            _ => Ok(None),
        })
        .collect()
}

/// Translates the model.
pub(crate) fn convert(model: &ModelProto, limits: &Limits) -> Result<OnnxModel> {
    let opset = default_opset(model)?;
    let graph = model.graph.as_ref().ok_or_else(|| Error::Malformed { reason: "the model has no graph".into() })?;
    if graph.node.len() > limits.max_nodes {
        return Err(Error::TooLarge {
            what: "the node count".into(),
            size: graph.node.len() as u64,
            limit: limits.max_nodes as u64,
        });
    }
    let mut consts = HashMap::new();
    for t in &graph.initializer {
        let name = t.name.as_deref().unwrap_or("");
        if name.is_empty() {
            return Err(Error::Malformed { reason: "an initializer has no name".into() });
        }
        if consts.insert(name, ConstRef::Proto(t)).is_some() {
            return Err(Error::Malformed { reason: format!("two initializers are named `{name}`") });
        }
    }
    if !graph.sparse_initializer.is_empty() {
        return Err(Error::UnsupportedUse {
            op_type: "graph".into(),
            node: graph.name.clone().unwrap_or_default(),
            reason: "sparse initializers are not supported".into(),
            opset,
        });
    }
    let (input, input_shape) = graph_input(graph, &consts)?;
    let output = match graph.output.as_slice() {
        [o] => o,
        outs => return Err(Error::NotAChain { reason: format!("the graph has {} outputs, not one", outs.len()) }),
    };
    let output_name = output.name.as_deref().unwrap_or("");

    let symbolic_batch = input_shape.first().is_some_and(Option::is_none);
    if let Some(i) = input_shape.iter().skip(1).position(Option::is_none) {
        return Err(Error::UnsupportedUse {
            op_type: "graph input".into(),
            node: input.to_owned(),
            reason: format!("dimension {} is symbolic; only the batch dimension (0) may be", i + 1),
            opset,
        });
    }
    let probe: Vec<usize> = input_shape.iter().map(|d| d.unwrap_or(1)).collect();
    check_elements(limits, &probe, &format!("the graph input `{input}`"))?;
    let mut walk = Walk {
        limits,
        opset,
        consts,
        shape_vals: HashMap::new(),
        produced: HashSet::from([input]),
        current: input,
        shape: probe,
        symbolic_batch,
        ops: Vec::new(),
        activation: None,
    };
    for (index, node) in graph.node.iter().enumerate() {
        walk.node(node, index)?;
    }
    if output_name != walk.current {
        return Err(Error::NotAChain {
            reason: format!("the graph output `{output_name}` is not the end of the chain `{}`", walk.current),
        });
    }
    let output_shape = walk.check_output(output)?;

    let cpu = Cpu::<f32>::default();
    let module = walk.ops.into_iter().map(|op| layer(&cpu, op)).collect::<Result<Sequential<_>>>()?;
    let producer = match (model.producer_name.as_deref(), model.producer_version.as_deref()) {
        (Some(n), Some(v)) if !v.is_empty() => format!("{n} {v}"),
        (n, _) => n.unwrap_or_default().to_owned(),
    };
    let mut module = module;
    syft_nn::Module::eval(&mut module);
    Ok(OnnxModel {
        module,
        input_name: input.to_owned(),
        input_shape,
        output_name: output_name.to_owned(),
        output_shape,
        opset,
        ir_version: model.ir_version.unwrap_or(0),
        producer,
        output_activation: walk.activation.map(|(a, _)| a),
    })
}

/// The one graph input that is not an initializer (IR < 4 lists initializers as inputs).
fn graph_input<'a>(
    graph: &'a GraphProto,
    consts: &HashMap<&str, ConstRef<'_>>,
) -> Result<(&'a str, Vec<Option<usize>>)> {
    let inputs: Vec<&ValueInfoProto> =
        graph.input.iter().filter(|v| !consts.contains_key(v.name.as_deref().unwrap_or(""))).collect();
    let [input] = inputs.as_slice() else {
        let names: Vec<&str> = inputs.iter().map(|v| v.name.as_deref().unwrap_or("")).collect();
        return Err(Error::NotAChain {
            reason: format!("the graph has {} data inputs {names:?}, not one", names.len()),
        });
    };
    let name = input.name.as_deref().unwrap_or("");
    if name.is_empty() {
        return Err(Error::Malformed { reason: "the graph input has no name".into() });
    }
    Ok((name, value_dims(input, "input")?))
}

/// The syft-nn layer for an op.
fn layer(cpu: &Cpu<f32>, op: Op) -> Result<Layer<Cpu<f32>>> {
    let bias =
        |b: Option<Vec<f32>>| -> Result<Option<Var<Cpu<f32>>>> { Ok(b.map(|b| Var::param(cpu, Tensor::from_vec(b)))) };
    Ok(match op {
        Op::Linear { weight, bias: b } => Linear::from_parameters(Var::param(cpu, weight), bias(b)?)?.into(),
        Op::Conv { weight, bias: b, params } => {
            Conv2d::from_parameters(Var::param(cpu, weight), bias(b)?, params)?.into()
        }
        Op::Relu => ReLU::new().into(),
        Op::MaxPool(p) => MaxPool2d::with_params(p.window, p.params).into(),
        Op::AvgPool(p) => AvgPool2d::with_params(p.window, p.params).into(),
        Op::GlobalAvgPool => GlobalAvgPool2d::new().into(),
        Op::Flatten => Flatten::new().into(),
    })
}

/// Fails when `shape` has more elements than a tensor may (or the count overflows).
fn check_elements(limits: &Limits, shape: &[usize], what: &str) -> Result<()> {
    match shape.iter().try_fold(1usize, |n, &d| n.checked_mul(d)) {
        Some(n) if n <= limits.max_tensor_elements => Ok(()),
        n => Err(Error::TooLarge {
            what: format!("the element count of {what} {shape:?}"),
            size: n.map_or(u64::MAX, |n| n as u64),
            limit: limits.max_tensor_elements as u64,
        }),
    }
}

/// Converts an attribute's integer to `usize`, or reports it.
fn to_usize(cx: &NodeCx<'_>, attribute: &str, v: i64) -> Result<usize> {
    usize::try_from(v).map_err(|_| cx.malformed(format!("attribute `{attribute}` holds {v}")))
}

impl<'a> Walk<'a> {
    fn node(&mut self, node: &'a NodeProto, index: usize) -> Result<()> {
        let op_type = node.op_type.as_deref().unwrap_or("");
        let label = match node.name.as_deref() {
            Some(n) if !n.is_empty() => n.to_owned(),
            _ => format!("#{index}"),
        };
        let cx = NodeCx { node, op_type, label, opset: self.opset };
        let domain = node.domain.as_deref().unwrap_or("");
        if !matches!(domain, "" | "ai.onnx") {
            return Err(Error::UnsupportedOperator {
                op_type: op_type.to_owned(),
                domain: domain.to_owned(),
                node: cx.label,
                opset: self.opset,
            });
        }
        if op_type == "Constant" {
            return self.constant(&cx);
        }
        if matches!(op_type, "Shape" | "Gather" | "Unsqueeze" | "Concat") {
            return self.shape_op(&cx);
        }
        if let Some((_, softmax)) = &self.activation
            && !matches!(op_type, "Identity" | "Dropout")
        {
            return Err(Error::UnsupportedUse {
                op_type: "Softmax".into(),
                node: softmax.clone(),
                reason: format!(
                    "a softmax is supported only as the last operation, and node `{}` follows it",
                    cx.label
                ),
                opset: self.opset,
            });
        }
        let max_inputs = match op_type {
            "Relu" | "MaxPool" | "AveragePool" | "GlobalAveragePool" | "Flatten" | "Softmax" | "LogSoftmax"
            | "Identity" => 1,
            "MatMul" | "Add" | "Reshape" => 2,
            "Gemm" | "Conv" | "Dropout" => 3,
            _ => 5,
        };
        if node.input.len() > max_inputs {
            return Err(cx.malformed(format!("{} inputs, at most {max_inputs} expected", node.input.len())));
        }
        match op_type {
            "Gemm" => self.gemm(&cx)?,
            "MatMul" => self.matmul(&cx)?,
            "Add" => self.add(&cx)?,
            "Conv" => self.conv(&cx)?,
            "Relu" => {
                cx.check_attributes(&[])?;
                self.data_input(&cx, 0)?;
                self.ops.push(Op::Relu);
            }
            "MaxPool" => self.pool(&cx, true)?,
            "AveragePool" => self.pool(&cx, false)?,
            "GlobalAveragePool" => self.global_pool(&cx)?,
            "Flatten" => self.flatten(&cx)?,
            "Reshape" => self.reshape(&cx)?,
            "BatchNormalization" => self.batch_norm(&cx)?,
            "Softmax" | "LogSoftmax" => self.softmax(&cx)?,
            "Identity" => {
                cx.check_attributes(&[])?;
                self.data_input(&cx, 0)?;
            }
            "Dropout" => {
                // Inference: the identity. `ratio` and `training_mode` may be inputs (opset 12).
                cx.check_attributes(&["ratio", "seed", "is_test"])?;
                self.data_input(&cx, 0)?;
            }
            _ => {
                return Err(Error::UnsupportedOperator {
                    op_type: op_type.to_owned(),
                    domain: "ai.onnx".into(),
                    node: cx.label,
                    opset: self.opset,
                });
            }
        }
        self.advance(&cx)
    }

    /// Moves the chain to the node's first output; any other output (a dropout mask,
    /// max-pool indices) must go unused, which the chain check enforces.
    fn advance(&mut self, cx: &NodeCx<'a>) -> Result<()> {
        let node = cx.node;
        let Some(out) = node.output.first().map(String::as_str).filter(|s| !s.is_empty()) else {
            return Err(cx.malformed("the node has no output"));
        };
        for o in node.output.iter().map(String::as_str).filter(|s| !s.is_empty()) {
            if self.consts.contains_key(o) || self.shape_vals.contains_key(o) || !self.produced.insert(o) {
                return Err(cx.malformed(format!("output `{o}` is defined twice")));
            }
        }
        self.current = out;
        Ok(())
    }

    /// A `Constant` node: its value joins the constants.
    fn constant(&mut self, cx: &NodeCx<'a>) -> Result<()> {
        cx.check_attributes(&["value", "value_float", "value_floats", "value_int", "value_ints"])?;
        let value = if let Some(a) = cx.attribute("value", AttributeType::Tensor)? {
            let t = a.t.as_ref().ok_or_else(|| cx.malformed("attribute `value` holds no tensor"))?;
            ConstRef::Value(decode(t, cx.node.output.first().map_or("", String::as_str), self.limits)?)
        } else if let Some(a) = cx.attribute("value_float", AttributeType::Float)? {
            let v = a.f.ok_or_else(|| cx.malformed("attribute `value_float` holds no float"))?;
            ConstRef::Value(Const::Float(Tensor::new(&[], vec![v])?))
        } else if let Some(a) = cx.attribute("value_floats", AttributeType::Floats)? {
            ConstRef::Value(Const::Float(Tensor::from_vec(a.floats.clone())))
        } else if let Some(a) = cx.attribute("value_int", AttributeType::Int)? {
            let v = a.i.ok_or_else(|| cx.malformed("attribute `value_int` holds no integer"))?;
            ConstRef::Value(Const::Int { dims: vec![], data: vec![v] })
        } else if let Some(a) = cx.attribute("value_ints", AttributeType::Ints)? {
            ConstRef::Value(Const::Int { dims: vec![a.ints.len()], data: a.ints.clone() })
        } else {
            return Err(cx.malformed("a Constant node without a value"));
        };
        let [out] = cx.node.output.as_slice() else { return Err(cx.malformed("a Constant node has one output")) };
        if out.is_empty()
            || self.produced.contains(out.as_str())
            || self.shape_vals.contains_key(out.as_str())
            || self.consts.insert(out, value).is_some()
        {
            return Err(cx.malformed(format!("output `{out}` is defined twice or empty")));
        }
        Ok(())
    }

    /// Input `i` must be the value the chain has reached.
    fn data_input(&self, cx: &NodeCx<'_>, i: usize) -> Result<()> {
        match cx.input(i) {
            Some(name) if name == self.current => Ok(()),
            Some(name) if self.consts.contains_key(name) || self.shape_vals.contains_key(name) => Err(cx
                .unsupported_use(format!(
                    "input {i} (`{name}`) is a constant; the data must flow from the graph input"
                ))),
            Some(name) if self.produced.contains(name) => Err(Error::NotAChain {
                reason: format!(
                    "node `{}` ({}) reads `{name}`, not `{}`, the output of the node before it",
                    cx.label, cx.op_type, self.current
                ),
            }),
            Some(name) => Err(cx.malformed(format!("input `{name}` is produced by no node before it"))),
            None => Err(cx.malformed(format!("input {i} is missing"))),
        }
    }

    /// Input `i` must be a constant; it is decoded.
    fn const_input(&mut self, cx: &NodeCx<'_>, i: usize) -> Result<Const> {
        let Some(name) = cx.input(i) else { return Err(cx.malformed(format!("input {i} is missing"))) };
        match self.consts.get(name) {
            Some(ConstRef::Proto(t)) => {
                let value = decode(t, name, self.limits)?;
                Ok(value)
            }
            Some(ConstRef::Value(v)) => Ok(v.clone()),
            None if self.shape_vals.contains_key(name) => Err(cx.unsupported_use(format!(
                "input {i} (`{name}`) is computed from a shape; only a Reshape target may be"
            ))),
            None if self.produced.contains(name) => Err(Error::NotAChain {
                reason: format!(
                    "node `{}` ({}) takes `{name}`, computed by the graph, where a weight (an initializer) is expected",
                    cx.label, cx.op_type
                ),
            }),
            None => Err(Error::MissingInitializer {
                op_type: cx.op_type.to_owned(),
                node: cx.label.clone(),
                input: name.to_owned(),
            }),
        }
    }

    /// A float constant input.
    fn float_input(&mut self, cx: &NodeCx<'_>, i: usize) -> Result<Tensor<f32>> {
        match self.const_input(cx, i)? {
            Const::Float(t) => Ok(t),
            Const::Int { .. } => Err(Error::UnsupportedDataType {
                name: cx.input(i).unwrap_or_default().to_owned(),
                data_type: "an integer type (weights must be FLOAT or DOUBLE)".into(),
            }),
        }
    }

    /// The data's `[N, K]` shape, for a fully connected layer.
    fn rows_cols(&self, cx: &NodeCx<'_>) -> Result<usize> {
        match self.shape.as_slice() {
            &[_, k] => Ok(k),
            s => Err(cx.shape(format!("the data is {s:?}; a fully connected layer needs [N, K] (flatten first)"))),
        }
    }

    fn gemm(&mut self, cx: &NodeCx<'a>) -> Result<()> {
        cx.check_attributes(&["alpha", "beta", "transA", "transB"])?;
        for (name, v) in [("alpha", cx.float("alpha", 1.0)?), ("beta", cx.float("beta", 1.0)?)] {
            #[allow(clippy::float_cmp, reason = "exactly 1 is the supported value")]
            if v != 1.0 {
                return Err(cx.unsupported_attribute(name, format!("{v}; only 1 is supported")));
            }
        }
        if cx.int("transA", 0)? != 0 {
            return Err(cx.unsupported_attribute("transA", "a transposed data input is not supported"));
        }
        let trans_b = match cx.int("transB", 0)? {
            0 => false,
            1 => true,
            v => return Err(cx.malformed(format!("transB = {v}"))),
        };
        self.data_input(cx, 0)?;
        let k = self.rows_cols(cx)?;
        let b = self.float_input(cx, 1)?;
        let weight = match (b.shape(), trans_b) {
            (&[_, _], true) => b,
            (&[_, _], false) => b.transpose()?,
            (s, _) => return Err(cx.shape(format!("B is {s:?}, not a matrix"))),
        };
        let (n, wk) = (weight.shape()[0], weight.shape()[1]);
        if wk != k {
            return Err(cx.shape(format!("the weight expects {wk} input features, the data has {k}")));
        }
        let bias = match cx.input(2) {
            Some(_) => {
                let c = self.float_input(cx, 2)?;
                Some(self.bias_vector(cx, &c, &[1, n], 1, n)?)
            }
            None => None,
        };
        self.ops.push(Op::Linear { weight, bias });
        let batch = self.shape[0];
        self.set_shape(cx, vec![batch, n])?;
        Ok(())
    }

    fn matmul(&mut self, cx: &NodeCx<'a>) -> Result<()> {
        cx.check_attributes(&[])?;
        self.data_input(cx, 0)?;
        let k = self.rows_cols(cx)?;
        let b = self.float_input(cx, 1)?;
        let &[bk, n] = b.shape() else {
            return Err(cx.shape(format!("the weight is {:?}, not a matrix", b.shape())));
        };
        if bk != k {
            return Err(cx.shape(format!("the weight expects {bk} input features, the data has {k}")));
        }
        self.ops.push(Op::Linear { weight: b.transpose()?, bias: None });
        let batch = self.shape[0];
        self.set_shape(cx, vec![batch, n])?;
        Ok(())
    }

    /// `Add` of a constant right after a linear layer or convolution: its bias.
    fn add(&mut self, cx: &NodeCx<'a>) -> Result<()> {
        cx.check_attributes(&[])?;
        let (data, constant) = match (cx.input(0), cx.input(1)) {
            (Some(a), _) if a == self.current => (0, 1),
            (_, Some(b)) if b == self.current => (1, 0),
            _ => (0, 1),
        };
        self.data_input(cx, data)?;
        if cx.input(constant).is_some_and(|c| self.produced.contains(c)) {
            return Err(Error::NotAChain {
                reason: format!("`Add` node `{}` adds two computed values (a residual connection?)", cx.label),
            });
        }
        let c = self.float_input(cx, constant)?;
        let shape = self.shape.clone();
        let Some(channels) = shape.get(1).copied() else {
            return Err(cx.shape(format!("the data is {shape:?}")));
        };
        let add = self.bias_vector(cx, &c, &shape, 1, channels)?;
        let bias = match self.ops.last_mut() {
            Some(Op::Linear { bias, .. } | Op::Conv { bias, .. }) => bias,
            _ => {
                return Err(cx.unsupported_use(
                    "an Add of a constant is supported only right after MatMul, Gemm or Conv (as its bias)",
                ));
            }
        };
        let b = bias.get_or_insert_with(|| vec![0.0; channels]);
        for (b, a) in b.iter_mut().zip(add) {
            *b += a;
        }
        Ok(())
    }

    /// A constant that broadcasts against data of shape `data` along axis `axis` only
    /// (size 1 or `channels` there, 1 elsewhere), as one value per channel.
    fn bias_vector(
        &self,
        cx: &NodeCx<'_>,
        c: &Tensor<f32>,
        data: &[usize],
        axis: usize,
        channels: usize,
    ) -> Result<Vec<f32>> {
        let dims = c.shape();
        let err = || cx.shape(format!("the constant {dims:?} is not one value per channel of data {data:?}"));
        let offset = data.len().checked_sub(dims.len()).ok_or_else(err)?;
        let mut per_channel = false;
        for (i, &d) in dims.iter().enumerate() {
            match (offset + i == axis, d) {
                (_, 1) => {}
                (true, d) if d == channels => per_channel = true,
                _ => return Err(err()),
            }
        }
        let data = c.data();
        Ok(if per_channel { data.to_vec() } else { vec![data.first().copied().unwrap_or(0.0); channels] })
    }

    fn conv(&mut self, cx: &NodeCx<'a>) -> Result<()> {
        cx.check_attributes(&["auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"])?;
        if cx.int("group", 1)? != 1 {
            return Err(cx.unsupported_attribute("group", "grouped (and depthwise) convolutions are not supported"));
        }
        self.data_input(cx, 0)?;
        let weight = self.float_input(cx, 1)?;
        let &[out, in_c, kh, kw] = weight.shape() else {
            return Err(cx.unsupported_use(format!(
                "a {}-d kernel {:?}; only 2-d convolutions are supported",
                weight.shape().len().saturating_sub(2),
                weight.shape()
            )));
        };
        if let Some(k) = cx.ints("kernel_shape")?
            && k != [kh as i64, kw as i64]
        {
            return Err(cx.shape(format!("kernel_shape {k:?} differs from the weight's {:?}", [kh, kw])));
        }
        let params = window_params(cx)?;
        let &[n, c, h, w] = self.shape.as_slice() else {
            return Err(cx.shape(format!("the data is {:?}, not [N, C, H, W]", self.shape)));
        };
        if c != in_c {
            return Err(cx.shape(format!("the weight expects {in_c} input channels, the data has {c}")));
        }
        let (oh, ow) = params.output_size("Conv", (h, w), (kh, kw)).map_err(|e| cx.shape(e.to_string()))?;
        let bias = match cx.input(2) {
            Some(_) => {
                let b = self.float_input(cx, 2)?;
                if b.shape() != [out] {
                    return Err(cx.shape(format!("the bias is {:?}, expected [{out}]", b.shape())));
                }
                Some(b.data().to_vec())
            }
            None => None,
        };
        self.ops.push(Op::Conv { weight, bias, params });
        self.set_shape(cx, vec![n, out, oh, ow])?;
        Ok(())
    }

    fn pool(&mut self, cx: &NodeCx<'a>, max: bool) -> Result<()> {
        if max {
            cx.check_attributes(&[
                "auto_pad",
                "ceil_mode",
                "dilations",
                "kernel_shape",
                "pads",
                "storage_order",
                "strides",
            ])?;
            if cx.node.output.get(1).is_some_and(|o| !o.is_empty()) {
                return Err(cx.unsupported_use("the Indices output is not supported"));
            }
        } else {
            cx.check_attributes(&[
                "auto_pad",
                "ceil_mode",
                "count_include_pad",
                "dilations",
                "kernel_shape",
                "pads",
                "strides",
            ])?;
        }
        if cx.int("ceil_mode", 0)? != 0 {
            return Err(cx.unsupported_attribute("ceil_mode", "only floor (ceil_mode = 0) is supported"));
        }
        self.data_input(cx, 0)?;
        let kernel = match cx.ints("kernel_shape")?.as_deref() {
            Some(&[kh, kw]) => (to_usize(cx, "kernel_shape", kh)?, to_usize(cx, "kernel_shape", kw)?),
            Some(k) => {
                return Err(cx.unsupported_attribute("kernel_shape", format!("{k:?}; only 2-d pooling is supported")));
            }
            None => return Err(cx.malformed("no kernel_shape")),
        };
        let params = window_params(cx)?;
        let (ph, pw) = params.padding;
        if ph > kernel.0 / 2 || pw > kernel.1 / 2 {
            return Err(cx.unsupported_attribute("pads", "padding larger than half the window"));
        }
        if !max && (ph, pw) != (0, 0) && cx.int("count_include_pad", 0)? == 0 {
            return Err(cx.unsupported_attribute(
                "count_include_pad",
                "a padded average pool must count the padding (count_include_pad = 1)",
            ));
        }
        let &[n, c, h, w] = self.shape.as_slice() else {
            return Err(cx.shape(format!("the data is {:?}, not [N, C, H, W]", self.shape)));
        };
        let (oh, ow) = params.output_size(cx.op_type_static(), (h, w), kernel).map_err(|e| cx.shape(e.to_string()))?;
        let pool = Pool2d { window: kernel, params };
        self.ops.push(if max { Op::MaxPool(pool) } else { Op::AvgPool(pool) });
        self.set_shape(cx, vec![n, c, oh, ow])?;
        Ok(())
    }

    fn global_pool(&mut self, cx: &NodeCx<'a>) -> Result<()> {
        cx.check_attributes(&[])?;
        self.data_input(cx, 0)?;
        let &[n, c, _, _] = self.shape.as_slice() else {
            return Err(cx.shape(format!("the data is {:?}, not [N, C, H, W]", self.shape)));
        };
        self.ops.push(Op::GlobalAvgPool);
        self.set_shape(cx, vec![n, c, 1, 1])?;
        Ok(())
    }

    /// Moves to the shape a node computes, whose element count (for a symbolic batch of
    /// one) must stay within the tensor limit, so later shape arithmetic cannot overflow.
    fn set_shape(&mut self, cx: &NodeCx<'_>, shape: Vec<usize>) -> Result<()> {
        check_elements(self.limits, &shape, &format!("the output of `{}` node `{}`", cx.op_type, cx.label))?;
        self.shape = shape;
        Ok(())
    }

    /// The flattened shape `[N, rest]`.
    fn flattened(&self) -> Vec<usize> {
        let rest = self.shape.iter().skip(1).product();
        vec![self.shape.first().copied().unwrap_or(1), rest]
    }

    fn flatten(&mut self, cx: &NodeCx<'a>) -> Result<()> {
        cx.check_attributes(&["axis"])?;
        let axis = cx.int("axis", 1)?;
        let rank = self.shape.len() as i64;
        if axis != 1 && axis + rank != 1 {
            return Err(cx.unsupported_attribute("axis", format!("{axis}; only 1 (keep the batch axis) is supported")));
        }
        self.data_input(cx, 0)?;
        self.ops.push(Op::Flatten);
        let flat = self.flattened();
        self.set_shape(cx, flat)?;
        Ok(())
    }

    /// `Reshape` that flattens `[N, ...]` to `[N, rest]`, to a target like `[0, -1]`,
    /// `[-1, rest]` or `[N, -1]` (for a fixed batch `N`).
    fn reshape(&mut self, cx: &NodeCx<'a>) -> Result<()> {
        cx.check_attributes(&["allowzero", "shape"])?;
        self.data_input(cx, 0)?;
        let target: Vec<Dim> = match (cx.input(1), cx.ints("shape")?) {
            (Some(_), _) => {
                let v = self.int_value(cx, 1)?;
                if v.scalar {
                    return Err(cx.malformed("the shape input is a scalar"));
                }
                v.dims
            }
            (None, Some(shape)) => shape.into_iter().map(Dim::Fixed).collect(),
            (None, None) => return Err(cx.malformed("no target shape")),
        };
        let allow_zero = cx.int("allowzero", 0)? != 0;
        let flat = self.flattened();
        let batch = flat[0];
        let is = |v: i64, n: usize| usize::try_from(v).is_ok_and(|v| v == n && v > 0);
        let rest = |r: Dim| matches!(r, Dim::Fixed(-1)) || matches!(r, Dim::Fixed(v) if is(v, flat[1]));
        let fits = match *target.as_slice() {
            [Dim::Batch, r] => rest(r),
            [Dim::Fixed(0), r] if !allow_zero => rest(r),
            [Dim::Fixed(-1), Dim::Fixed(r)] => is(r, flat[1]),
            [Dim::Fixed(b), r] if !self.symbolic_batch && is(b, batch) => rest(r),
            _ => false,
        };
        if !fits {
            let batch = if self.symbolic_batch { "N".to_owned() } else { batch.to_string() };
            return Err(cx.unsupported_use(format!(
                "Reshape to {} is not a flatten of the data [{batch}, ...] to [{batch}, {}]",
                show(&target),
                flat[1]
            )));
        }
        self.ops.push(Op::Flatten);
        self.set_shape(cx, flat)?;
        Ok(())
    }

    /// An integer input: a shape value, or an integer constant of rank 0 or 1.
    fn int_value(&mut self, cx: &NodeCx<'_>, i: usize) -> Result<ShapeVal> {
        let Some(name) = cx.input(i) else { return Err(cx.malformed(format!("input {i} is missing"))) };
        if let Some(v) = self.shape_vals.get(name) {
            return Ok(v.clone());
        }
        if self.produced.contains(name) {
            return Err(cx.unsupported_use(format!(
                "input `{name}` is computed data; {} is supported only on shapes and integer constants \
                 (as in `x.view(x.size(0), -1)`)",
                cx.op_type
            )));
        }
        match self.const_input(cx, i)? {
            Const::Int { dims, data } if dims.len() <= 1 => {
                Ok(ShapeVal { scalar: dims.is_empty(), dims: data.into_iter().map(Dim::Fixed).collect() })
            }
            Const::Int { dims, .. } => Err(cx.unsupported_use(format!("an integer input of dims {dims:?}"))),
            Const::Float(_) => Err(cx.unsupported_use(format!("input `{name}` is not an integer"))),
        }
    }

    /// `Shape`, `Gather`, `Unsqueeze` and `Concat` on shape values: they compute a
    /// `Reshape` target and leave the chain where it is.
    fn shape_op(&mut self, cx: &NodeCx<'a>) -> Result<()> {
        let value = match cx.op_type {
            "Shape" => {
                cx.check_attributes(&["start", "end"])?;
                self.data_input(cx, 0)?;
                let all: Vec<Dim> = self
                    .shape
                    .iter()
                    .enumerate()
                    .map(|(i, &d)| if i == 0 && self.symbolic_batch { Dim::Batch } else { Dim::Fixed(d as i64) })
                    .collect();
                let rank = all.len() as i64;
                let clamp = |v: i64| (if v < 0 { v + rank } else { v }).clamp(0, rank);
                let start = clamp(cx.int("start", 0)?);
                let end = clamp(cx.int("end", rank)?).max(start);
                let dims = all.get(to_usize(cx, "start", start)?..to_usize(cx, "end", end)?).unwrap_or_default();
                ShapeVal { scalar: false, dims: dims.to_vec() }
            }
            "Gather" => {
                cx.check_attributes(&["axis"])?;
                let data = self.int_value(cx, 0)?;
                let indices = self.int_value(cx, 1)?;
                if cx.int("axis", 0)? != 0 {
                    return Err(cx.unsupported_attribute("axis", "only 0, on a 1-d shape"));
                }
                if data.scalar {
                    return Err(cx.malformed("Gather from a scalar"));
                }
                let len = data.dims.len() as i64;
                let mut dims = Vec::with_capacity(indices.dims.len());
                for i in &indices.dims {
                    let &Dim::Fixed(i) = i else { return Err(cx.unsupported_use("a symbolic index")) };
                    let j = if i < 0 { i + len } else { i };
                    let d = usize::try_from(j).ok().and_then(|j| data.dims.get(j));
                    dims.push(*d.ok_or_else(|| cx.malformed(format!("index {i} out of {len}")))?);
                }
                ShapeVal { scalar: indices.scalar, dims }
            }
            "Unsqueeze" => {
                cx.check_attributes(&["axes"])?;
                let data = self.int_value(cx, 0)?;
                let axes = match (cx.ints("axes")?, cx.input(1)) {
                    (Some(axes), _) => axes,
                    (None, Some(_)) => self
                        .int_value(cx, 1)?
                        .dims
                        .into_iter()
                        .map(|d| match d {
                            Dim::Fixed(v) => Ok(v),
                            Dim::Batch => Err(cx.malformed("symbolic axes")),
                        })
                        .collect::<Result<_>>()?,
                    (None, None) => return Err(cx.malformed("no axes")),
                };
                if !data.scalar || !matches!(axes.as_slice(), [0] | [-1]) {
                    return Err(cx.unsupported_use("only a scalar unsqueezed to a 1-d vector (axes [0])"));
                }
                ShapeVal { scalar: false, dims: data.dims }
            }
            _ => {
                cx.check_attributes(&["axis"])?;
                let mut dims = Vec::new();
                for i in 0..cx.node.input.len() {
                    let v = self.int_value(cx, i)?;
                    if v.scalar {
                        return Err(cx.malformed("Concat of a scalar"));
                    }
                    dims.extend(v.dims);
                }
                if !matches!(cx.int("axis", 0)?, 0 | -1) {
                    return Err(cx.unsupported_attribute("axis", "only 0, joining 1-d shapes"));
                }
                ShapeVal { scalar: false, dims }
            }
        };
        let [out] = cx.node.output.as_slice() else { return Err(cx.malformed("the node has one output")) };
        let out = out.as_str();
        if out.is_empty()
            || self.produced.contains(out)
            || self.consts.contains_key(out)
            || self.shape_vals.insert(out, value).is_some()
        {
            return Err(cx.malformed(format!("output `{out}` is defined twice or empty")));
        }
        Ok(())
    }

    /// `BatchNormalization` (inference) folded into the convolution or linear layer before it:
    /// `w' = w · γ/√(σ² + ε)`, `b' = (b − μ) · γ/√(σ² + ε) + β`, per output channel.
    fn batch_norm(&mut self, cx: &NodeCx<'a>) -> Result<()> {
        cx.check_attributes(&["epsilon", "momentum", "spatial", "training_mode", "is_test", "consumed_inputs"])?;
        if cx.int("spatial", 1)? != 1 {
            return Err(cx.unsupported_attribute("spatial", "only spatial = 1 (one statistic per channel)"));
        }
        if cx.int("training_mode", 0)? != 0 {
            return Err(cx.unsupported_attribute("training_mode", "only inference (training_mode = 0)"));
        }
        if cx.node.output.iter().skip(1).any(|o| !o.is_empty()) {
            return Err(cx.unsupported_use("the running-statistics outputs (training) are not supported"));
        }
        let epsilon = f64::from(cx.float("epsilon", 1e-5)?);
        self.data_input(cx, 0)?;
        let Some(&channels) = self.shape.get(1) else {
            return Err(cx.shape(format!("the data is {:?}", self.shape)));
        };
        let mut stats = Vec::with_capacity(4);
        for (i, what) in [(1, "scale"), (2, "bias"), (3, "mean"), (4, "var")] {
            let t = self.float_input(cx, i)?;
            if t.shape() != [channels] {
                return Err(cx.shape(format!("{what} is {:?}, expected [{channels}]", t.shape())));
            }
            stats.push(t);
        }
        let [scale, beta, mean, var] = [&stats[0], &stats[1], &stats[2], &stats[3]].map(Tensor::data);
        let mut k = Vec::with_capacity(channels);
        for (c, (&g, &v)) in scale.iter().zip(var).enumerate() {
            let denom = (f64::from(v) + epsilon).sqrt();
            if !(denom.is_finite() && denom > 0.0) {
                return Err(cx.malformed(format!("channel {c}: variance {v} + epsilon {epsilon} is not positive")));
            }
            k.push(f64::from(g) / denom);
        }
        let (weight, bias) = match self.ops.last_mut() {
            Some(Op::Linear { weight, bias } | Op::Conv { weight, bias, .. })
                if weight.shape().first() == Some(&channels) =>
            {
                (weight, bias)
            }
            _ => {
                return Err(cx.unsupported_use(
                    "a batch norm is supported only right after a Conv, Gemm or MatMul, into which it is folded",
                ));
            }
        };
        let per_channel = weight.len() / channels.max(1);
        #[allow(clippy::cast_possible_truncation, reason = "folded weights are stored as f32")]
        {
            for (chunk, &k) in weight.data_mut().chunks_mut(per_channel.max(1)).zip(&k) {
                for w in chunk {
                    *w = (f64::from(*w) * k) as f32;
                }
            }
            let b = bias.get_or_insert_with(|| vec![0.0; channels]);
            for (c, b) in b.iter_mut().enumerate() {
                *b = ((f64::from(*b) - f64::from(mean[c])) * k[c] + f64::from(beta[c])) as f32;
            }
        }
        Ok(())
    }

    fn softmax(&mut self, cx: &NodeCx<'a>) -> Result<()> {
        cx.check_attributes(&["axis"])?;
        self.data_input(cx, 0)?;
        let rank = self.shape.len() as i64;
        let axis = cx.int("axis", if self.opset >= 13 { -1 } else { 1 })?;
        let axis = if axis < 0 { axis + rank } else { axis };
        if rank != 2 || axis != 1 {
            return Err(cx.unsupported_use(format!(
                "a softmax over axis {axis} of data {:?}; only over the classes of [N, classes]",
                self.shape
            )));
        }
        let activation = if cx.op_type == "Softmax" { OutputActivation::Softmax } else { OutputActivation::LogSoftmax };
        self.activation = Some((activation, cx.label.clone()));
        Ok(())
    }

    /// The output shape, checked against the graph output's declared one where both are fixed.
    fn check_output(&self, output: &ValueInfoProto) -> Result<Vec<Option<usize>>> {
        let ours: Vec<Option<usize>> = self
            .shape
            .iter()
            .enumerate()
            .map(|(i, &d)| if i == 0 && self.symbolic_batch { None } else { Some(d) })
            .collect();
        let declared = value_dims(output, "output")?;
        let name = output.name.clone().unwrap_or_default();
        let differs = declared.len() != ours.len()
            || declared.iter().zip(&ours).any(|(d, o)| matches!((d, o), (Some(d), Some(o)) if d != o));
        if differs {
            return Err(Error::Shape {
                op_type: "graph output".into(),
                node: name,
                reason: format!("declared {declared:?}, the layers compute {ours:?} (None: symbolic)"),
            });
        }
        Ok(ours)
    }
}

impl NodeCx<'_> {
    /// The operator as a static name for syft-ring's geometry errors.
    fn op_type_static(&self) -> &'static str {
        match self.op_type {
            "MaxPool" => "MaxPool",
            "AveragePool" => "AveragePool",
            _ => "Conv",
        }
    }
}

/// Stride and padding from `strides`, `pads`, `auto_pad` and `dilations` (all 1) of a
/// 2-d window operator; the padding must be the same on both sides of each axis.
fn window_params(cx: &NodeCx<'_>) -> Result<Conv2dParams> {
    if let Some(d) = cx.ints("dilations")?
        && d.iter().any(|&d| d != 1)
    {
        return Err(cx.unsupported_attribute("dilations", format!("{d:?}; only 1 is supported")));
    }
    let stride = match cx.ints("strides")?.as_deref() {
        None => (1, 1),
        Some(&[sh, sw]) if sh > 0 && sw > 0 => (to_usize(cx, "strides", sh)?, to_usize(cx, "strides", sw)?),
        Some(s) => return Err(cx.malformed(format!("strides {s:?}"))),
    };
    let pads = cx.ints("pads")?;
    let auto_pad = cx.string("auto_pad")?;
    let padding = match (auto_pad.as_deref(), pads.as_deref()) {
        (None | Some("NOTSET"), None) => (0, 0),
        (None | Some("NOTSET") | Some("VALID"), Some(&[t, l, b, r])) => {
            if t < 0 || l < 0 || b < 0 || r < 0 {
                return Err(cx.malformed(format!("pads {:?}", [t, l, b, r])));
            }
            if t != b || l != r {
                return Err(cx.unsupported_attribute(
                    "pads",
                    format!("{:?}; only the same padding on both sides of each axis is supported", [t, l, b, r]),
                ));
            }
            if auto_pad.as_deref() == Some("VALID") && (t, l) != (0, 0) {
                return Err(cx.malformed("auto_pad VALID with non-zero pads"));
            }
            (to_usize(cx, "pads", t)?, to_usize(cx, "pads", l)?)
        }
        (Some("VALID"), None) => (0, 0),
        (None | Some("NOTSET" | "VALID"), Some(p)) => {
            return Err(cx.unsupported_attribute("pads", format!("{p:?}; only 2-d operators are supported")));
        }
        (Some(other), _) => {
            return Err(cx.unsupported_attribute(
                "auto_pad",
                format!("{other}; only NOTSET (explicit pads) and VALID are supported"),
            ));
        }
    };
    Ok(Conv2dParams { stride, padding })
}
