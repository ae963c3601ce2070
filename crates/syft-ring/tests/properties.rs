//! Property tests of `syft-ring` against plain oracles: ring laws checked with `u128`
//! arithmetic, broadcasting and products against naive index loops, PRG determinism.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::cast_possible_truncation, reason = "test code")]
use proptest::prelude::*;
use syft_ring::gemm::{KernelPath, MatRef, Parallelism, gemm_u64_with_path, naive};
use syft_ring::{Conv2dParams, OddRing, Prg, Ring, Scalar, Seed, Tensor, Transpose, Z67, from_signed, signed};

fn oracle_mod<R: Ring>(v: u128) -> R {
    let m = R::MODULUS;
    let r = v % m;
    R::from_u64(u64::try_from(r).unwrap())
}

fn ring_laws<R: Ring>(a: u64, b: u64, c: u64) {
    let (x, y, z) = (R::from_u64(a), R::from_u64(b), R::from_u64(c));
    let (xa, ya) = (u128::from(x.to_u64()), u128::from(y.to_u64()));
    // Operations agree with big-integer arithmetic reduced mod the modulus.
    assert_eq!(x.add(y), oracle_mod::<R>(xa + ya));
    assert_eq!(x.mul(y), oracle_mod::<R>(xa * ya));
    assert_eq!(x.sub(y), oracle_mod::<R>(xa + R::MODULUS - ya));
    // Laws.
    assert_eq!(x.add(y), y.add(x));
    assert_eq!(x.mul(y), y.mul(x));
    assert_eq!(x.add(y).add(z), x.add(y.add(z)));
    assert_eq!(x.mul(y).mul(z), x.mul(y.mul(z)));
    assert_eq!(x.mul(y.add(z)), x.mul(y).add(x.mul(z)));
    assert_eq!(x.add(x.neg()), R::zero());
    assert_eq!(x.sub(y), x.add(y.neg()));
    assert_eq!(x.mul(R::one()), x);
    assert!(u128::from(x.to_u64()) < R::MODULUS);
}

proptest! {
    #[test]
    fn ring_laws_z2_64(a: u64, b: u64, c: u64) {
        ring_laws::<u64>(a, b, c);
    }

    #[test]
    fn ring_laws_odd_ring(a: u64, b: u64, c: u64) {
        ring_laws::<OddRing>(a, b, c);
    }

    #[test]
    fn ring_laws_z67(a: u64, b: u64, c: u64) {
        ring_laws::<Z67>(a, b, c);
    }

    #[test]
    fn wrap_around_and_signed_decoding(v: i64, w: u64) {
        prop_assert_eq!(signed(from_signed(v)), v);
        prop_assert_eq!(u64::MAX.add(1), 0);
        // Adding then subtracting wraps back exactly.
        prop_assert_eq!(w.add(u64::MAX).sub(u64::MAX), w);
        // Negation is two's complement.
        prop_assert_eq!(signed(from_signed(v).neg()), v.wrapping_neg());
    }
}

fn small_shape(max_rank: usize) -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(1usize..4, 0..=max_rank)
}

/// A shape that broadcasts against `base`: each trailing axis is kept or set to 1, leading axes dropped.
fn broadcast_partner(base: Vec<usize>) -> impl Strategy<Value = (Vec<usize>, Vec<usize>)> {
    let n = base.len();
    (0..=n, prop::collection::vec(any::<bool>(), n)).prop_map(move |(drop, ones)| {
        let other: Vec<usize> =
            base[drop..].iter().zip(&ones[drop..]).map(|(&d, &one)| if one { 1 } else { d }).collect();
        (base.clone(), other)
    })
}

fn naive_broadcast_add(a: &Tensor<u64>, b: &Tensor<u64>, out_shape: &[usize]) -> Vec<u64> {
    let idx_of = |t: &Tensor<u64>, idx: &[usize]| -> u64 {
        let off = out_shape.len() - t.rank();
        let i: Vec<usize> =
            t.shape().iter().enumerate().map(|(ax, &d)| if d == 1 { 0 } else { idx[ax + off] }).collect();
        t.get(&i).unwrap()
    };
    Tensor::<u64>::from_fn(out_shape, |idx| idx_of(a, idx).wrapping_add(idx_of(b, idx))).into_vec()
}

proptest! {
    #[test]
    fn broadcasting_matches_naive((sa, sb) in small_shape(4).prop_flat_map(broadcast_partner), seed: u64, swap: bool) {
        let mut prg = Prg::new(&Seed::from_u64(seed));
        let (sa, sb) = if swap { (sb, sa) } else { (sa, sb) };
        let a: Tensor<u64> = prg.ring_tensor(&sa);
        let b: Tensor<u64> = prg.ring_tensor(&sb);
        let c = a.add(&b).unwrap();
        let expected = naive_broadcast_add(&a, &b, c.shape());
        prop_assert_eq!(c.data(), &expected[..]);
        // The adjoint of broadcasting sums back to the original shape.
        let back = Tensor::<u64>::ones(c.shape()).sum_to_shape(&sb).unwrap();
        prop_assert_eq!(back.shape(), &sb[..]);
        prop_assert_eq!(back.sum_all(), c.len() as u64);
    }

    #[test]
    fn matmul_every_path_matches_naive(m in 1usize..40, k in 1usize..70, n in 1usize..40, ta: bool, tb: bool, acc: bool, seed: u64) {
        let mut prg = Prg::new(&Seed::from_u64(seed));
        let a_store: Tensor<u64> = prg.ring_tensor(&if ta { [k, m] } else { [m, k] });
        let b_store: Tensor<u64> = prg.ring_tensor(&if tb { [n, k] } else { [k, n] });
        let a = MatRef::row_major(a_store.data(), a_store.shape()[0], a_store.shape()[1]);
        let b = MatRef::row_major(b_store.data(), b_store.shape()[0], b_store.shape()[1]);
        let a = if ta { a.t() } else { a };
        let b = if tb { b.t() } else { b };
        let init: Tensor<u64> = prg.ring_tensor(&[m, n]);
        let mut want = init.clone().into_vec();
        naive(&mut want, a, b, acc, Parallelism::Single);
        for path in [KernelPath::Portable, KernelPath::Avx2, KernelPath::Avx512] {
            for par in [Parallelism::Single, Parallelism::Auto] {
                let mut got = init.clone().into_vec();
                gemm_u64_with_path(&mut got, a, b, acc, par, path);
                prop_assert_eq!(&got, &want, "path {:?} par {:?}", path, par);
            }
        }
        // Tensor-level product with transposes agrees too.
        let t = a_store.matmul_ex(
            if ta { Transpose::Yes } else { Transpose::No },
            &b_store,
            if tb { Transpose::Yes } else { Transpose::No },
            Parallelism::Auto,
        ).unwrap();
        if !acc {
            prop_assert_eq!(t.data(), &want[..]);
        }
    }

    #[test]
    fn batched_matmul_matches_per_batch(batch in 1usize..4, m in 1usize..6, k in 1usize..6, n in 1usize..6, seed: u64) {
        let mut prg = Prg::new(&Seed::from_u64(seed));
        let a: Tensor<u64> = prg.ring_tensor(&[batch, m, k]);
        let b: Tensor<u64> = prg.ring_tensor(&[batch, k, n]);
        let c = a.matmul(&b).unwrap();
        for i in 0..batch {
            let ai = a.slice_axis(0, i, i + 1).unwrap().into_shape(&[m, k]).unwrap();
            let bi = b.slice_axis(0, i, i + 1).unwrap().into_shape(&[k, n]).unwrap();
            let ci = c.slice_axis(0, i, i + 1).unwrap().into_shape(&[m, n]).unwrap();
            prop_assert_eq!(ai.matmul(&bi).unwrap(), ci);
        }
    }

    #[test]
    fn conv2d_matches_naive(
        n in 1usize..3, c in 1usize..3, o in 1usize..3,
        h in 1usize..7, w in 1usize..7, kh in 1usize..4, kw in 1usize..4,
        stride in 1usize..3, pad in 0usize..2, seed: u64,
    ) {
        prop_assume!(h + 2 * pad >= kh && w + 2 * pad >= kw);
        let p = Conv2dParams::new(stride, pad);
        let mut prg = Prg::new(&Seed::from_u64(seed));
        let x: Tensor<u64> = prg.ring_tensor(&[n, c, h, w]);
        let k: Tensor<u64> = prg.ring_tensor(&[o, c, kh, kw]);
        let y = x.conv2d(&k, p).unwrap();
        let (oh, ow) = ((h + 2 * pad - kh) / stride + 1, (w + 2 * pad - kw) / stride + 1);
        prop_assert_eq!(y.shape(), &[n, o, oh, ow][..]);
        let want = Tensor::<u64>::from_fn(&[n, o, oh, ow], |i| {
            let mut acc = 0u64;
            for ci in 0..c {
                for dy in 0..kh {
                    for dx in 0..kw {
                        let (yy, xx) = ((i[2] * stride + dy) as isize - pad as isize, (i[3] * stride + dx) as isize - pad as isize);
                        if yy >= 0 && xx >= 0 && (yy as usize) < h && (xx as usize) < w {
                            let xv = x.get(&[i[0], ci, yy as usize, xx as usize]).unwrap();
                            acc = acc.wrapping_add(xv.wrapping_mul(k.get(&[i[1], ci, dy, dx]).unwrap()));
                        }
                    }
                }
            }
            acc
        });
        prop_assert_eq!(&y, &want);
        // Adjoint identities: <conv(x,k), g> = <x, dX(g)> = <k, dK(g)>.
        let g: Tensor<u64> = prg.ring_tensor(y.shape());
        let lhs = y.mul(&g).unwrap().sum_all();
        let dx = Tensor::conv2d_input_grad(&g, &k, x.shape(), p).unwrap();
        let dk = Tensor::conv2d_kernel_grad(&x, &g, k.shape(), p).unwrap();
        prop_assert_eq!(lhs, x.mul(&dx).unwrap().sum_all());
        prop_assert_eq!(lhs, k.mul(&dk).unwrap().sum_all());
    }

    #[test]
    fn pool_windows_adjoint_identity(h in 1usize..7, w in 1usize..7, win in 1usize..4, stride in 1usize..3, pad in 0usize..2, seed: u64) {
        prop_assume!(h + 2 * pad >= win && w + 2 * pad >= win && pad < win);
        let p = Conv2dParams::new(stride, pad);
        let mut prg = Prg::new(&Seed::from_u64(seed));
        let x: Tensor<u64> = prg.ring_tensor(&[2, 2, h, w]);
        let wins = x.pool_windows((win, win), p, 0).unwrap();
        let g: Tensor<u64> = prg.ring_tensor(wins.shape());
        let back = g.pool_windows_adjoint(x.shape(), (win, win), p).unwrap();
        prop_assert_eq!(wins.mul(&g).unwrap().sum_all(), x.mul(&back).unwrap().sum_all());
    }

    #[test]
    fn prg_is_deterministic_per_seed(seed: u64, req in 0u64..1 << 48, label: u16, len in 0usize..300) {
        let s = Seed::from_u64(seed);
        let a: Tensor<u64> = Prg::stream(&s, req, label).ring_tensor(&[len]);
        let b: Tensor<u64> = Prg::stream(&s, req, label).ring_tensor(&[len]);
        prop_assert_eq!(&a, &b);
        let other: Tensor<u64> = Prg::stream(&s, req, label ^ 1).ring_tensor(&[len]);
        if len >= 2 {
            prop_assert_ne!(&a, &other);
        }
    }

    #[test]
    fn serde_round_trip(shape in small_shape(3), seed: u64) {
        let mut prg = Prg::new(&Seed::from_u64(seed));
        let t: Tensor<Z67> = prg.ring_tensor(&shape);
        let bytes = postcard::to_allocvec(&t).unwrap();
        prop_assert_eq!(postcard::from_bytes::<Tensor<Z67>>(&bytes).unwrap(), t);
    }
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    let a = Tensor::<u64>::zeros(&[2, 3]);
    assert!(a.add(&Tensor::zeros(&[3, 2])).is_err());
    assert!(a.matmul(&Tensor::zeros(&[2, 3])).is_err());
    assert!(a.matmul(&Tensor::zeros(&[3])).is_err());
    assert!(a.sum_axis(2, false).is_err());
    assert!(a.argmax_axis(5).is_err());
    assert!(a.reshape(&[4, 2]).is_err());
    assert!(a.permute(&[0]).is_err());
    assert!(a.slice_axis(1, 2, 4).is_err());
    assert!(a.index_select(0, &[2]).is_err());
    assert!(a.get(&[2, 0]).is_err());
    assert!(Tensor::concat(&[&a, &Tensor::zeros(&[3, 3])], 1).is_err());
    assert!(Tensor::<u64>::new(&[2, 2], vec![1, 2, 3]).is_err());
    assert!(Tensor::<u64>::one_hot(&[3], 3).is_err());
    let x = Tensor::<u64>::zeros(&[1, 1, 4, 4]);
    assert!(x.conv2d(&Tensor::zeros(&[1, 2, 3, 3]), Conv2dParams::default()).is_err());
    assert!(x.conv2d(&Tensor::zeros(&[1, 1, 3, 3]), Conv2dParams::new(0, 0)).is_err());
    assert!(x.conv2d(&Tensor::zeros(&[1, 1, 5, 5]), Conv2dParams::default()).is_err());
    assert!(a.conv2d(&Tensor::zeros(&[1, 1, 1, 1]), Conv2dParams::default()).is_err());
    assert!(Tensor::<u64>::from_le_bytes(&[3], &[0; 23]).is_err());
    assert!(postcard::from_bytes::<Tensor<u64>>(&[1, 3, 8, 0, 0]).is_err());
    assert!(Tensor::<OddRing>::from_le_bytes(&[1], &[0xff; 8]).is_err());
}
