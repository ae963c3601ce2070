//! Hostile shapes and window parameters: every shape-taking function of `syft-ring`
//! returns `Ok` or a typed `Err` (never panics or aborts) on shapes with huge, zero or
//! overflowing dimensions, overflowing reshape targets, and conv/pool parameters with
//! huge padding, zero stride or windows larger than the input.
//!
//! Shapes whose element count is valid but too large to allocate in a test (between
//! `SMALL` and `UNALLOCATABLE` elements) are not built: whether such an allocation
//! succeeds depends on the host, and bounding it is the worker's element limit, not the
//! ring layer's. Counts of at least `UNALLOCATABLE` 8-byte elements exceed `isize::MAX`
//! bytes, so their allocation fails deterministically and is exercised.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::cast_possible_truncation, reason = "test code")]
use proptest::prelude::*;
use syft_ring::{Conv2dParams, Prg, RingError, Seed, Tensor, Transpose, broadcast_shapes, checked_numel, numel};
use syft_ring::{Parallelism, Z67};

/// Largest element count a test builds for real.
const SMALL: usize = 4096;
/// Element counts from here on cannot be allocated for 8-byte elements (> isize::MAX bytes).
const UNALLOCATABLE: usize = 1 << 60;

/// Whether an operation producing `count` elements may be run: the count overflows,
/// is small, or cannot be allocated on any host.
fn runnable(count: Option<usize>) -> bool {
    count.is_none_or(|n| n <= SMALL || n >= UNALLOCATABLE)
}

fn count(shape: &[usize]) -> Option<usize> {
    checked_numel(shape).ok()
}

fn dim() -> impl Strategy<Value = usize> {
    prop_oneof![
        4 => 0usize..4,
        1 => Just(7usize),
        1 => Just(1usize << 20),
        1 => Just(1usize << 32),
        1 => Just(1usize << 40),
        1 => Just(1usize << 62),
        1 => Just((1usize << 62) + 1),
        1 => Just(usize::MAX),
    ]
}

fn shape() -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(dim(), 0..5)
}

/// A window, stride or padding value.
fn param() -> impl Strategy<Value = usize> {
    prop_oneof![
        4 => 0usize..4,
        1 => Just(1usize << 20),
        1 => Just(1usize << 40),
        1 => Just(usize::MAX / 2),
        1 => Just(usize::MAX),
    ]
}

fn params() -> impl Strategy<Value = Conv2dParams> {
    (param(), param(), param(), param())
        .prop_map(|(sh, sw, ph, pw)| Conv2dParams { stride: (sh, sw), padding: (ph, pw) })
}

/// A tensor of `shape` when it is cheap to build (a small or empty valid shape).
fn cheap(shape: &[usize]) -> Option<Tensor<u64>> {
    let n = count(shape)?;
    (n <= SMALL).then(|| Tensor::try_from_fn(shape, |i| i.iter().sum::<usize>() as u64).unwrap())
}

/// A cheap tensor: a valid shape with at most `SMALL` elements (possibly with huge
/// dimensions next to a zero).
fn cheap_tensor() -> impl Strategy<Value = Tensor<u64>> {
    shape().prop_filter_map("too large to build", |s| cheap(&s))
}

/// Runs a few operations on a tensor that was just produced, to show it is consistent.
fn exercise(t: &Tensor<u64>) {
    assert_eq!(checked_numel(t.shape()), Ok(t.len()));
    let _ = t.sum_all();
    let _ = t.add(t).unwrap();
    for axis in 0..t.rank() {
        // Summing an empty axis away can produce a large output ([2^40, 0] → [2^40, 1]).
        let mut summed = t.shape().to_vec();
        summed[axis] = 1;
        if !runnable(count(&summed)) {
            continue;
        }
        match t.sum_axis(axis, true) {
            Ok(s) => assert_eq!(s.shape(), &summed[..]),
            Err(RingError::Allocation { .. }) => assert!(count(&summed).is_some_and(|n| n >= UNALLOCATABLE)),
            Err(e) => panic!("sum_axis: unexpected error {e}"),
        }
        let _ = t.slice_axis(axis, 0, t.shape()[axis]).unwrap();
    }
    if t.rank() >= 2 {
        assert_eq!(t.transpose().unwrap().len(), t.len());
    }
    let back: Tensor<u64> = postcard::from_bytes(&postcard::to_allocvec(t).unwrap()).unwrap();
    assert_eq!(&back, t);
}

/// The output shape of `a · b`, or `None` when the operands do not fit together.
fn matmul_shape(a: &[usize], b: &[usize], ta: bool, tb: bool) -> Option<Vec<usize>> {
    let (ra, rb) = (a.len(), b.len());
    if ra < 2 || rb < 2 {
        return None;
    }
    let (m, k) = if ta { (a[ra - 1], a[ra - 2]) } else { (a[ra - 2], a[ra - 1]) };
    let (k2, n) = if tb { (b[rb - 1], b[rb - 2]) } else { (b[rb - 2], b[rb - 1]) };
    if k != k2 {
        return None;
    }
    let mut out = broadcast_shapes("t", &a[..ra - 2], &b[..rb - 2]).ok()?;
    out.extend([m, n]);
    Some(out)
}

/// The element count of the windows `[N, C, OH, OW, KH, KW]` (`None`: overflow or invalid).
fn window_count(input: &[usize], window: (usize, usize), p: Conv2dParams) -> Option<usize> {
    let &[n, c, h, w] = input else { return None };
    let (oh, ow) = p.output_size("t", (h, w), window).ok()?;
    count(&[n, c, oh, ow, window.0, window.1])
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn constructors_check_shapes(s in shape(), seed: u64) {
        let n = count(&s);
        prop_assert_eq!(n.is_none(), matches!(checked_numel(&s), Err(RingError::ShapeOverflow { .. })));
        prop_assert!(n.is_none_or(|n| n == numel(&s)));
        prop_assert!(Tensor::<u64>::new(&s, vec![0; 3]).is_ok() == (n == Some(3)));
        if runnable(n) {
            let results = [
                Tensor::<u64>::try_zeros(&s),
                Tensor::<u64>::try_ones(&s),
                Tensor::<u64>::try_full(&s, 5),
                Tensor::<u64>::try_from_fn(&s, |i| i.len() as u64),
                Prg::new(&Seed::from_u64(seed)).try_ring_tensor::<u64>(&s),
                Prg::new(&Seed::from_u64(seed)).try_u64_tensor(&s),
            ];
            for r in results {
                match (r, n) {
                    (Ok(t), Some(n)) => {
                        prop_assert_eq!(t.len(), n);
                        prop_assert_eq!(t.shape(), &s[..]);
                        exercise(&t);
                    }
                    (Ok(_), None) => prop_assert!(false, "overflowing shape {:?} accepted", s),
                    (Err(RingError::ShapeOverflow { .. }), None) => {}
                    (Err(RingError::Allocation { .. }), Some(n)) => prop_assert!(n >= UNALLOCATABLE),
                    (Err(e), _) => prop_assert!(false, "unexpected error {e}"),
                }
            }
        }
    }

    #[test]
    fn reshape_rejects_overflow(t in cheap_tensor(), target in shape()) {
        match t.reshape(&target) {
            Ok(r) => {
                prop_assert_eq!(count(&target), Some(t.len()));
                prop_assert_eq!(r.shape(), &target[..]);
                exercise(&r);
            }
            Err(RingError::ShapeOverflow { .. }) => prop_assert!(count(&target).is_none()),
            Err(RingError::ElementCount { .. }) => prop_assert!(count(&target).is_some_and(|n| n != t.len())),
            Err(e) => prop_assert!(false, "unexpected error {e}"),
        }
        // The tensor is still usable after a rejected reshape.
        exercise(&t);
    }

    #[test]
    fn broadcasting_checks_shapes(a in cheap_tensor(), b in cheap_tensor(), target in shape()) {
        let out = broadcast_shapes("t", a.shape(), b.shape());
        if runnable(out.as_ref().ok().and_then(|s| count(s))) {
            for r in [a.add(&b), a.sub(&b), a.mul(&b), a.zip_map(&b, |x, y| x ^ y)] {
                match r {
                    Ok(c) => {
                        prop_assert_eq!(Some(c.shape()), out.as_deref().ok());
                        exercise(&c);
                    }
                    Err(_) => prop_assert!(out.is_err() || count(out.as_ref().unwrap()).is_none_or(|n| n >= UNALLOCATABLE)),
                }
            }
            let mut acc = a.clone();
            let _ = acc.add_assign(&b);
            if let Ok(c) = a.add(&b) {
                let back = c.sum_to_shape(b.shape()).unwrap();
                prop_assert_eq!(back.sum_all(), c.sum_all());
                prop_assert_eq!(back.shape(), b.shape());
            }
        }
        if runnable(count(&target)) && let Ok(c) = a.broadcast_to(&target) {
            prop_assert_eq!(c.shape(), &target[..]);
            exercise(&c);
        }
        // sum_to_shape shrinks a non-empty tensor; an empty one sums to zeros of `target`.
        if runnable(count(&target)) && let Ok(c) = a.sum_to_shape(&target) {
            prop_assert_eq!(c.shape(), &target[..]);
            exercise(&c);
        }
    }

    #[test]
    fn structural_ops_never_panic(
        a in cheap_tensor(),
        b in cheap_tensor(),
        axis in 0usize..6,
        perm in Just((0usize..5).collect::<Vec<_>>()).prop_shuffle(),
        range in (param(), param()),
        indices in prop::collection::vec(param(), 0..4),
        k in param(),
        ta: bool,
        tb: bool,
    ) {
        // Summing an empty axis away can produce a large output ([2^40, 0] → [2^40]).
        let summed = a.shape().iter().enumerate().map(|(i, &d)| if i == axis { 1 } else { d }).collect::<Vec<_>>();
        if runnable(count(&summed)) {
            for t in [a.sum_axis(axis, false), a.sum_axis(axis, true)].into_iter().flatten() {
                exercise(&t);
            }
        }
        let own_axes = perm.iter().copied().filter(|&x| x < a.rank()).collect::<Vec<_>>();
        for t in [a.max_axis(axis), a.transpose(), a.permute(&own_axes), a.permute(&perm), a.slice_axis(axis, range.0, range.1), a.index_select(axis, &indices)].into_iter().flatten() {
            exercise(&t);
        }
        let _ = a.argmax_axis(axis);
        let _ = a.get(&indices);
        let _ = a.item();
        if let Ok(t) = Tensor::concat(&[&a, &b, &a], axis.min(a.rank().saturating_sub(1))) {
            exercise(&t);
        }
        if let Ok(t) = Tensor::stack(&[&a, &a, &a]) {
            exercise(&t);
        }
        if indices.iter().any(|&i| i >= k) || runnable(count(&[indices.len(), k])) {
            match Tensor::<u64>::one_hot(&indices, k) {
                Ok(t) => prop_assert_eq!(t.len(), indices.len() * k),
                Err(RingError::IndexOutOfBounds { .. }) => prop_assert!(indices.iter().any(|&i| i >= k)),
                Err(e) => prop_assert!(count(&[indices.len(), k]).is_none_or(|n| n >= UNALLOCATABLE), "{e}"),
            }
        }
        if runnable(count(&[k, k])) {
            prop_assert_eq!(Tensor::<u64>::try_eye(k).is_ok(), count(&[k, k]).is_some_and(|n| n <= SMALL));
        }
        let out = matmul_shape(a.shape(), b.shape(), ta, tb);
        if runnable(out.as_ref().and_then(|s| count(s))) {
            let t = |x: bool| if x { Transpose::Yes } else { Transpose::No };
            match a.matmul_ex(t(ta), &b, t(tb), Parallelism::Single) {
                Ok(c) => {
                    prop_assert_eq!(Some(c.shape()), out.as_deref());
                    exercise(&c);
                }
                Err(RingError::ShapeOverflow { .. }) => prop_assert!(out.is_some_and(|s| count(&s).is_none())),
                Err(RingError::Allocation { .. }) => prop_assert!(out.is_some_and(|s| count(&s).is_some_and(|n| n >= UNALLOCATABLE))),
                Err(RingError::ShapeMismatch { .. }) => prop_assert!(out.is_none()),
                Err(e) => prop_assert!(false, "unexpected error {e}"),
            }
        }
    }

    #[test]
    fn output_size_is_checked(h in param(), w in param(), window in (param(), param()), p in params()) {
        match p.output_size("t", (h, w), window) {
            Ok((oh, ow)) => {
                prop_assert!(p.stride.0 > 0 && p.stride.1 > 0 && window.0 > 0 && window.1 > 0);
                let hp = u128::from(h as u64) + 2 * u128::from(p.padding.0 as u64);
                let wp = u128::from(w as u64) + 2 * u128::from(p.padding.1 as u64);
                prop_assert_eq!(u128::from(oh as u64), (hp - window.0 as u128) / p.stride.0 as u128 + 1);
                prop_assert_eq!(u128::from(ow as u64), (wp - window.1 as u128) / p.stride.1 as u128 + 1);
            }
            Err(RingError::WindowOverflow { .. }) => {
                let fits = |x: usize, pad: usize| u128::from(x as u64) + 2 * u128::from(pad as u64) <= u128::from(usize::MAX as u64);
                prop_assert!(!fits(h, p.padding.0) || !fits(w, p.padding.1));
            }
            Err(RingError::InvalidArgument { .. }) => {}
            Err(e) => prop_assert!(false, "unexpected error {e}"),
        }
    }

    #[test]
    fn window_ops_never_panic(
        input in prop::collection::vec(0usize..4, 4),
        o in 0usize..3,
        window in (param(), param()),
        p in params(),
        hostile_shape in prop::collection::vec(dim(), 4),
        seed: u64,
    ) {
        let x = cheap(&input).unwrap();
        let mut prg = Prg::new(&Seed::from_u64(seed));
        let n = window_count(&input, window, p);
        let pool_ok = p.padding.0 <= window.0 / 2 && p.padding.1 <= window.1 / 2;
        if runnable(n) {
            match x.pool_windows(window, p, 0) {
                Ok(wins) => {
                    prop_assert!(pool_ok);
                    prop_assert_eq!(Some(wins.len()), n);
                    exercise(&wins);
                    let g: Tensor<u64> = prg.ring_tensor(wins.shape());
                    let back = g.pool_windows_adjoint(x.shape(), window, p).unwrap();
                    prop_assert_eq!(wins.mul(&g).unwrap().sum_all(), x.mul(&back).unwrap().sum_all());
                }
                Err(RingError::Allocation { .. }) => prop_assert!(n.is_some_and(|n| n >= UNALLOCATABLE)),
                Err(_) => prop_assert!(!pool_ok || n.is_none()),
            }
            match x.im2col(window, p) {
                Ok(cols) => {
                    prop_assert_eq!(Some(cols.len()), n);
                    let back = cols.col2im(x.shape(), window, p).unwrap();
                    prop_assert_eq!(back.shape(), x.shape());
                }
                Err(RingError::Allocation { .. }) => prop_assert!(n.is_some_and(|n| n >= UNALLOCATABLE)),
                Err(_) => prop_assert!(n.is_none()),
            }
            // A kernel with `o` outputs and the input's channels, when it is cheap.
            let kshape = [o, input[1], window.0, window.1];
            let out = p.output_size("t", (input[2], input[3]), window).ok().and_then(|(oh, ow)| count(&[input[0], o, oh, ow]));
            if let Some(k) = cheap(&kshape) && runnable(out) && let Ok(y) = x.conv2d(&k, p) {
                exercise(&y);
                let dx = Tensor::conv2d_input_grad(&y, &k, x.shape(), p).unwrap();
                prop_assert_eq!(dx.shape(), x.shape());
                let dk = Tensor::conv2d_kernel_grad(&x, &y, k.shape(), p).unwrap();
                prop_assert_eq!(dk.shape(), k.shape());
            }
        }
        // Adjoints with a hostile input shape and a small (mismatched or empty) operand.
        let wins = Tensor::<u64>::zeros(&[input[0], input[1], 1, 1, window.0.min(3)]);
        let cols = Tensor::<u64>::zeros(&[input[1], input[0]]);
        if runnable(count(&hostile_shape)) {
            if let Ok(t) = wins.pool_windows_adjoint(&hostile_shape, window, p) {
                exercise(&t);
            }
            if let Ok(t) = cols.col2im(&hostile_shape, window, p) {
                exercise(&t);
            }
            let _ = Tensor::conv2d_input_grad(&x, &x, &hostile_shape, p);
            if runnable(window_count(x.shape(), (hostile_shape[2], hostile_shape[3]), p)) {
                let _ = Tensor::conv2d_kernel_grad(&x, &x, &hostile_shape, p);
            }
        }
    }

    #[test]
    fn decoding_checks_shapes(s in shape(), len in 0usize..80, fill: u8) {
        let payload = vec![fill; len];
        let n = count(&s);
        match Tensor::<u64>::from_le_bytes(&s, &payload) {
            Ok(t) => {
                prop_assert_eq!(n.and_then(|n| n.checked_mul(8)), Some(len));
                exercise(&t);
            }
            Err(RingError::ShapeOverflow { .. }) => prop_assert!(n.is_none_or(|n| n.checked_mul(8).is_none())),
            Err(RingError::Decode { .. }) => prop_assert!(n.and_then(|n| n.checked_mul(8)) != Some(len)),
            Err(e) => prop_assert!(false, "unexpected error {e}"),
        }
        prop_assert!(Tensor::<Z67>::from_le_bytes(&s, &payload).is_ok() == (n == Some(len) && (len == 0 || fill < 67)));
        // The same through serde: postcard encodes `(Vec<usize>, Vec<u8>)` like a tensor.
        let wire = postcard::to_allocvec(&(s.clone(), payload.clone())).unwrap();
        prop_assert_eq!(postcard::from_bytes::<Tensor<u64>>(&wire).is_ok(), n.and_then(|n| n.checked_mul(8)) == Some(len));
        let json = serde_json::json!({ "shape": s, "data": payload }).to_string();
        prop_assert_eq!(serde_json::from_str::<Tensor<u64>>(&json).is_ok(), n.and_then(|n| n.checked_mul(8)) == Some(len));
    }
}

/// A shape whose wrapped-around element count is 4: `(2^62 + 1) · 4 = 2^64 + 4`.
const WRAPS_TO_4: [usize; 2] = [(1 << 62) + 1, 4];

#[test]
fn overflowing_reshape_is_rejected_and_the_next_operation_works() {
    assert_eq!(WRAPS_TO_4[0].wrapping_mul(WRAPS_TO_4[1]), 4);
    let t = Tensor::<u64>::from_vec(vec![1, 2, 3, 4]);
    let err = t.reshape(&WRAPS_TO_4).unwrap_err();
    assert_eq!(err, RingError::ShapeOverflow { op: "reshape", shape: WRAPS_TO_4.to_vec() });
    assert!(t.clone().into_shape(&WRAPS_TO_4).is_err());
    // usize::MAX² wraps to 1.
    assert!(Tensor::scalar(7u64).reshape(&[usize::MAX, usize::MAX]).is_err());
    // The operations that used to index out of bounds after such a reshape.
    assert_eq!(t.sum_axis(0, false).unwrap().data(), &[10]);
    assert_eq!(t.add(&t).unwrap().data(), &[2, 4, 6, 8]);
    assert!(t.broadcast_to(&WRAPS_TO_4).is_err());
    assert!(Tensor::<u64>::new(&WRAPS_TO_4, vec![0; 4]).is_err());
    assert!(Tensor::<u64>::try_zeros(&WRAPS_TO_4).is_err());
}

#[test]
fn pool_padding_of_2_pow_20_is_an_error() {
    let x = Tensor::<u64>::zeros(&[1, 1, 4, 4]);
    let p = Conv2dParams::new(1, 1 << 20);
    let e = x.pool_windows((2, 2), p, 0).unwrap_err();
    assert!(matches!(e, RingError::InvalidArgument { op: "pool_windows", .. }), "{e}");
    let g = Tensor::<u64>::zeros(&[1, 1, 3, 3, 4]);
    assert!(g.pool_windows_adjoint(x.shape(), (2, 2), p).is_err());
    // Padding so large that `h + 2·padding` overflows, with a window that allows it.
    let huge = Conv2dParams::new(1, usize::MAX / 2);
    let e = x.pool_windows((usize::MAX, usize::MAX), huge, 0).unwrap_err();
    assert!(matches!(e, RingError::WindowOverflow { .. }), "{e}");
    let e = x.im2col((3, 3), huge).unwrap_err();
    assert!(matches!(e, RingError::WindowOverflow { .. }), "{e}");
    // Output counts that overflow: 2^31 · 2^31 windows of 2^2 taps from a padding of 2^30.
    let e = x.im2col((2, 2), Conv2dParams::new(1, 1 << 31)).unwrap_err();
    assert!(matches!(e, RingError::ShapeOverflow { op: "im2col", .. }), "{e}");
    // Zero stride and a window larger than the padded input.
    assert!(x.pool_windows((2, 2), Conv2dParams::new(0, 0), 0).is_err());
    assert!(x.pool_windows((9, 9), Conv2dParams::new(1, 2), 0).is_err());
}

#[test]
fn decode_of_an_overflowing_shape_is_an_error() {
    let e = Tensor::<u64>::from_le_bytes(&WRAPS_TO_4, &[0; 32]).unwrap_err();
    assert!(matches!(e, RingError::ShapeOverflow { op: "decode", .. }), "{e}");
    // n fits but n · 8 bytes does not.
    let e = Tensor::<u64>::from_le_bytes(&[1 << 62], &[]).unwrap_err();
    assert!(matches!(e, RingError::ShapeOverflow { op: "decode", .. }), "{e}");
    let wire = postcard::to_allocvec(&(WRAPS_TO_4.to_vec(), vec![0u8; 32])).unwrap();
    assert!(postcard::from_bytes::<Tensor<u64>>(&wire).is_err());
    let wire = postcard::to_allocvec(&(vec![usize::MAX, usize::MAX], vec![0u8; 8])).unwrap();
    assert!(postcard::from_bytes::<Tensor<u64>>(&wire).is_err());
    // Huge shape, empty payload: rejected without allocating numel(shape) words.
    let wire = postcard::to_allocvec(&(vec![1usize << 40], Vec::<u8>::new())).unwrap();
    assert!(postcard::from_bytes::<Tensor<u64>>(&wire).is_err());
}

#[test]
fn huge_and_overflowing_shapes_in_other_operations() {
    let (m, n) = (Tensor::<u64>::zeros(&[1 << 40, 0]), Tensor::<u64>::zeros(&[0, 1 << 40]));
    let e = m.matmul(&n).unwrap_err();
    assert!(matches!(e, RingError::ShapeOverflow { op: "matmul", .. }), "{e}");
    let (a, b) = (Tensor::<u64>::zeros(&[1 << 40, 1, 0]), Tensor::<u64>::zeros(&[1, 1 << 40, 0]));
    assert!(matches!(a.add(&b).unwrap_err(), RingError::ShapeOverflow { op: "add", .. }));
    assert!(matches!(broadcast_shapes("t", a.shape(), b.shape()), Err(RingError::ShapeOverflow { .. })));
    let one = Tensor::<u64>::zeros(&[1]);
    assert!(matches!(one.broadcast_to(&[1 << 40, 1 << 40]), Err(RingError::ShapeOverflow { .. })));
    assert!(matches!(one.broadcast_to(&[1 << 61]), Err(RingError::Allocation { .. })));
    let z = Tensor::<u64>::zeros(&[usize::MAX, 0]);
    assert!(matches!(Tensor::stack(&[&z, &z]), Err(RingError::ShapeOverflow { op: "stack", .. })));
    let half = Tensor::<u64>::zeros(&[0, 1 << 63]);
    assert!(matches!(Tensor::concat(&[&half, &half], 1), Err(RingError::ShapeOverflow { op: "concat", .. })));
    assert!(matches!(Tensor::<u64>::try_eye(1 << 32), Err(RingError::ShapeOverflow { .. })));
    assert!(matches!(Tensor::<u64>::one_hot(&[0, 1], usize::MAX), Err(RingError::ShapeOverflow { .. })));
    assert!(matches!(Tensor::<u64>::try_zeros(&[1 << 61]), Err(RingError::Allocation { .. })));
    assert!(matches!(
        Prg::new(&Seed::from_u64(1)).try_u64_tensor(&[usize::MAX, 2]),
        Err(RingError::ShapeOverflow { .. })
    ));
    assert_eq!(numel(&[usize::MAX, 2]), usize::MAX);
    assert_eq!(numel(&[usize::MAX, 2, 0]), 0);
}
