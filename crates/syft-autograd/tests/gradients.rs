//! Every differentiable op against central finite differences on random shapes (`f64`).
//!
//! Each op's output is reduced to a scalar by a fixed, non-uniform weighting
//! `Σ y ⊙ R` so that every output element's gradient path is exercised distinctly.

#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

use proptest::prelude::*;
use syft_autograd::gradcheck::{RefBackend, check_gradients};
use syft_autograd::ops::ActivationOps;
use syft_autograd::{Conv2dParams, Cpu, Pool2d, Result, Transpose, Var};
use syft_ring::Tensor;

const EPS: f64 = 1e-6;
const TOL: f64 = 1e-6;

type V = Var<RefBackend>;

/// `Σ y ⊙ R` for a fixed pseudo-random `R` of `y`'s shape.
fn weighted_sum(y: &V) -> Result<V> {
    let shape = y.shape();
    let r = Tensor::from_fn(&shape, |idx| {
        let k = idx.iter().fold(0usize, |acc, &i| acc * 7 + i + 1) as f64;
        (k * 0.731 + 0.17).sin() + 0.25
    });
    y.mul(&Var::constant(y.backend(), r))?.sum()
}

fn tensor(shape: Vec<usize>, lo: f64, hi: f64) -> impl Strategy<Value = Tensor<f64>> {
    let n: usize = shape.iter().product();
    prop::collection::vec(lo..hi, n).prop_map(move |v| Tensor::new(&shape, v).unwrap())
}

/// Values bounded away from zero (for ReLU's kink, log, sqrt and division).
fn tensor_away_from_zero(shape: Vec<usize>) -> impl Strategy<Value = Tensor<f64>> {
    let n: usize = shape.iter().product();
    prop::collection::vec((0.05f64..2.0, any::<bool>()), n)
        .prop_map(move |v| Tensor::new(&shape, v.into_iter().map(|(x, s)| if s { x } else { -x }).collect()).unwrap())
}

fn dim() -> impl Strategy<Value = usize> {
    1usize..5
}

/// A shape of rank 0..=3 and a second shape that broadcasts against it.
fn broadcast_pair() -> impl Strategy<Value = (Vec<usize>, Vec<usize>)> {
    prop::collection::vec(dim(), 0..4).prop_flat_map(|shape| {
        let rank = shape.len();
        (Just(shape), prop::collection::vec(any::<bool>(), rank), 0..=rank).prop_map(|(shape, ones, drop)| {
            let other: Vec<usize> =
                shape.iter().zip(&ones).map(|(&d, &one)| if one { 1 } else { d }).skip(drop).collect();
            (shape, other)
        })
    })
}

fn assert_check<F>(f: F, inputs: &[Tensor<f64>]) -> std::result::Result<(), TestCaseError>
where
    F: Fn(&[V]) -> Result<V>,
{
    let check = check_gradients(f, inputs, EPS).map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert!(
        check.passes(TOL),
        "max error {} \nanalytic {:?}\nnumeric {:?}",
        check.max_error,
        check.analytic,
        check.numeric
    );
    Ok(())
}

fn transpose_flag() -> impl Strategy<Value = Transpose> {
    prop_oneof![Just(Transpose::No), Just(Transpose::Yes)]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn add_sub_mul_broadcast(
        (a, b, swap) in broadcast_pair().prop_flat_map(|(sa, sb)| (tensor(sa, -2.0, 2.0), tensor(sb, -2.0, 2.0), any::<bool>()))
    ) {
        let inputs = if swap { [b, a] } else { [a, b] };
        assert_check(|v| weighted_sum(&v[0].add(&v[1])?), &inputs)?;
        assert_check(|v| weighted_sum(&v[0].sub(&v[1])?), &inputs)?;
        assert_check(|v| weighted_sum(&v[0].mul(&v[1])?), &inputs)?;
    }

    #[test]
    fn unary_arithmetic(x in prop::collection::vec(dim(), 0..4).prop_flat_map(|s| tensor(s, -2.0, 2.0)), c in -3.0f64..3.0) {
        assert_check(|v| weighted_sum(&v[0].neg()?), std::slice::from_ref(&x))?;
        assert_check(|v| weighted_sum(&v[0].mul_scalar(c)?), std::slice::from_ref(&x))?;
        assert_check(|v| weighted_sum(&v[0].square()?), std::slice::from_ref(&x))?;
        assert_check(|v| weighted_sum(&v[0].pow(3)?), std::slice::from_ref(&x))?;
        assert_check(|v| v[0].sum(), std::slice::from_ref(&x))?;
        assert_check(|v| v[0].mean(), std::slice::from_ref(&x))?;
    }

    #[test]
    fn matmul_with_transposes(
        (a, b, ta, tb) in (dim(), dim(), dim(), transpose_flag(), transpose_flag()).prop_flat_map(|(m, k, n, ta, tb)| {
            let sa = if ta == Transpose::Yes { vec![k, m] } else { vec![m, k] };
            let sb = if tb == Transpose::Yes { vec![n, k] } else { vec![k, n] };
            (tensor(sa, -2.0, 2.0), tensor(sb, -2.0, 2.0), Just(ta), Just(tb))
        })
    ) {
        assert_check(|v| weighted_sum(&v[0].matmul_ex(ta, &v[1], tb)?), &[a, b])?;
    }

    #[test]
    fn batched_matmul_broadcasts(
        (a, b) in (dim(), dim(), dim(), dim(), any::<bool>()).prop_flat_map(|(bt, m, k, n, left)| {
            let (sa, sb) = if left { (vec![bt, m, k], vec![k, n]) } else { (vec![1, m, k], vec![bt, k, n]) };
            (tensor(sa, -2.0, 2.0), tensor(sb, -2.0, 2.0))
        })
    ) {
        assert_check(|v| weighted_sum(&v[0].matmul(&v[1])?), &[a, b])?;
    }

    #[test]
    fn linear_with_and_without_bias(
        (x, w, bias) in (prop::collection::vec(dim(), 1..3), dim(), dim()).prop_flat_map(|(lead, i, o)| {
            let mut sx = lead;
            sx.push(i);
            (tensor(sx, -2.0, 2.0), tensor(vec![o, i], -2.0, 2.0), tensor(vec![o], -2.0, 2.0))
        })
    ) {
        assert_check(|v| weighted_sum(&v[0].linear(&v[1], Some(&v[2]))?), &[x.clone(), w.clone(), bias])?;
        assert_check(|v| weighted_sum(&v[0].linear(&v[1], None)?), &[x, w])?;
    }

    #[test]
    fn shape_ops_and_reductions(
        (x, axis, keep) in prop::collection::vec(dim(), 1..4)
            .prop_flat_map(|s| { let r = s.len(); (tensor(s, -2.0, 2.0), 0..r, any::<bool>()) })
    ) {
        let shape = x.shape().to_vec();
        let n: usize = shape.iter().product();
        assert_check(|v| weighted_sum(&v[0].sum_axis(axis, keep)?), std::slice::from_ref(&x))?;
        assert_check(|v| weighted_sum(&v[0].mean_axis(axis, keep)?), std::slice::from_ref(&x))?;
        assert_check(|v| weighted_sum(&v[0].reshape(&[n])?), std::slice::from_ref(&x))?;
        assert_check(|v| weighted_sum(&v[0].flatten(axis)?), std::slice::from_ref(&x))?;
        let mut wide = vec![2];
        wide.extend_from_slice(&shape);
        assert_check(|v| weighted_sum(&v[0].broadcast_to(&wide)?), std::slice::from_ref(&x))?;
        if shape.len() >= 2 {
            assert_check(|v| weighted_sum(&v[0].transpose()?), std::slice::from_ref(&x))?;
        }
    }

    #[test]
    fn relu_and_mask(x in prop::collection::vec(dim(), 1..4).prop_flat_map(tensor_away_from_zero)) {
        assert_check(|v| weighted_sum(&v[0].relu()?), std::slice::from_ref(&x))?;
        // A mask from an unrelated comparison is a constant: gradient = mask ⊙ R.
        let cpu = Cpu::<f64>::default();
        let (_, mask) = cpu.relu_with_mask(&x.map(|v| -v)).unwrap();
        assert_check(|v| weighted_sum(&v[0].mul_mask(&mask)?), std::slice::from_ref(&x))?;
    }

    #[test]
    fn conv2d_input_and_kernel(
        (x, w, stride, pad) in (1usize..3, 1usize..3, 1usize..3, 1usize..4, 0usize..2, 1usize..3)
            .prop_flat_map(|(n, c, o, k, pad, stride)| {
                let h = k + 2;
                (tensor(vec![n, c, h, h + 1], -2.0, 2.0), tensor(vec![o, c, k, k], -2.0, 2.0), Just(stride), Just(pad))
            })
    ) {
        let p = Conv2dParams::new(stride, pad);
        assert_check(|v| weighted_sum(&v[0].conv2d(&v[1], p)?), &[x, w])?;
    }

    #[test]
    fn max_and_avg_pool(
        (x, k, stride, pad) in (1usize..3, 1usize..3, 1usize..4, 1usize..3, 0usize..2)
            .prop_flat_map(|(n, c, k, stride, pad)| {
                let pad = pad.min(k / 2);
                (tensor(vec![n, c, k + 3, k + 2], -2.0, 2.0), Just(k), Just(stride), Just(pad))
            })
    ) {
        let pool = Pool2d { window: (k, k), params: Conv2dParams::new(stride, pad) };
        assert_check(|v| weighted_sum(&v[0].max_pool2d(pool)?), std::slice::from_ref(&x))?;
        assert_check(|v| weighted_sum(&v[0].avg_pool2d(pool)?), std::slice::from_ref(&x))?;
        assert_check(|v| weighted_sum(&v[0].sum_pool2d(pool)?), std::slice::from_ref(&x))?;
    }

    #[test]
    fn float_ops(x in prop::collection::vec(dim(), 1..4).prop_flat_map(tensor_away_from_zero)) {
        let positive = x.map(f64::abs);
        assert_check(|v| weighted_sum(&v[0].exp()?), std::slice::from_ref(&x))?;
        assert_check(|v| weighted_sum(&v[0].log()?), std::slice::from_ref(&positive))?;
        assert_check(|v| weighted_sum(&v[0].sqrt()?), std::slice::from_ref(&positive))?;
        assert_check(|v| weighted_sum(&v[0].div(&v[1])?), &[x.clone(), x.map(|v| v + v.signum())])?;
        for axis in 0..x.rank() {
            assert_check(|v| weighted_sum(&v[0].log_softmax(axis)?), std::slice::from_ref(&x))?;
        }
    }

    #[test]
    fn nll_and_cross_entropy(
        (logits, labels) in (1usize..6, 2usize..6).prop_flat_map(|(n, k)| {
            (tensor(vec![n, k], -3.0, 3.0), prop::collection::vec(0..k, n))
        })
    ) {
        let k = logits.shape()[1];
        let one_hot = Tensor::<f64>::one_hot(&labels, k).unwrap();
        let cpu = Cpu::<f64>::default();
        assert_check(|v| v[0].cross_entropy(&Var::constant(&cpu, one_hot.clone())), std::slice::from_ref(&logits))?;
        assert_check(
            |v| v[0].log_softmax(1)?.nll_loss(&Var::constant(&cpu, one_hot.clone())),
            std::slice::from_ref(&logits),
        )?;
    }

    #[test]
    fn mlp_end_to_end(
        (x, w1, b1, w2, b2, labels) in (1usize..5, 1usize..5, 1usize..5, 2usize..4).prop_flat_map(|(n, i, h, k)| {
            (
                tensor(vec![n, i], -2.0, 2.0),
                tensor(vec![h, i], -1.0, 1.0),
                tensor(vec![h], -1.0, 1.0),
                tensor(vec![k, h], -1.0, 1.0),
                tensor(vec![k], -1.0, 1.0),
                prop::collection::vec(0..k, n),
            )
        })
    ) {
        let k = w2.shape()[0];
        let one_hot = Tensor::<f64>::one_hot(&labels, k).unwrap();
        let cpu = Cpu::<f64>::default();
        let check = check_gradients(
            |v| {
                let h = v[0].linear(&v[1], Some(&v[2]))?.relu()?;
                h.linear(&v[3], Some(&v[4]))?.cross_entropy(&Var::constant(&cpu, one_hot.clone()))
            },
            &[x, w1, b1, w2, b2],
            EPS,
        )
        .unwrap();
        // A ReLU kink inside the difference step is possible but rare; allow a loose bound.
        prop_assert!(check.passes(1e-4), "max error {}", check.max_error);
    }
}
