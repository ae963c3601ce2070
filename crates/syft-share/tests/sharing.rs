//! Property tests of splitting, reconstruction and the linearity of local operations.

use proptest::prelude::*;
use syft_ring::{OddRing, Prg, Ring, Seed, Tensor, Z67};
use syft_share::{AdditiveShares, Comm, CommExt, ShareError, local, run_parties, run_parties_with, share_secret};

fn shape() -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(0usize..5, 0..4)
}

fn tensor(shape: &[usize], seed: u64) -> Tensor<u64> {
    Prg::new(&Seed::from_u64(seed)).u64_tensor(shape)
}

fn parties() -> impl Strategy<Value = usize> {
    prop::sample::select(vec![2usize, 3, 5])
}

proptest! {
    #[test]
    fn reconstruct_inverts_split(shape in shape(), n in parties(), seed: u64, split_seed: u64) {
        let x = tensor(&shape, seed);
        let sh = AdditiveShares::split(&x, n, &mut Prg::new(&Seed::from_u64(split_seed))).unwrap();
        prop_assert_eq!(sh.parties(), n);
        prop_assert_eq!(sh.shape(), x.shape());
        prop_assert_eq!(sh.reconstruct(), x);
    }

    #[test]
    fn other_rings_reconstruct(len in 0usize..20, n in parties(), seed: u64) {
        fn check<R: Ring>(len: usize, n: usize, seed: u64) -> bool {
            let x: Tensor<R> = Prg::new(&Seed::from_u64(seed)).ring_tensor(&[len]);
            let sh = AdditiveShares::split(&x, n, &mut Prg::new(&Seed::from_u64(!seed))).unwrap();
            sh.reconstruct() == x
        }
        prop_assert!(check::<OddRing>(len, n, seed));
        prop_assert!(check::<Z67>(len, n, seed));
    }

    #[test]
    fn local_operations_are_linear(
        rows in 1usize..5, cols in 1usize..5, inner in 1usize..5, n in parties(), seed: u64, c: u64,
    ) {
        let mut prg = Prg::new(&Seed::from_u64(seed));
        let x = prg.u64_tensor(&[rows, cols]);
        let y = prg.u64_tensor(&[rows, cols]);
        let p = prg.u64_tensor(&[rows, cols]);
        let row = prg.u64_tensor(&[cols]);
        let m = prg.u64_tensor(&[cols, inner]);
        let left = prg.u64_tensor(&[inner, rows]);
        let sx = AdditiveShares::split(&x, n, &mut prg).unwrap();
        let sy = AdditiveShares::split(&y, n, &mut prg).unwrap();

        prop_assert_eq!(sx.add(&sy).unwrap().reconstruct(), x.add(&y).unwrap());
        prop_assert_eq!(sx.sub(&sy).unwrap().reconstruct(), x.sub(&y).unwrap());
        prop_assert_eq!(sx.neg().reconstruct(), x.neg());
        prop_assert_eq!(sx.add_public(&p).unwrap().reconstruct(), x.add(&p).unwrap());
        prop_assert_eq!(sx.add_public(&row).unwrap().reconstruct(), x.add(&row).unwrap());
        prop_assert_eq!(sx.sub_public(&p).unwrap().reconstruct(), x.sub(&p).unwrap());
        prop_assert_eq!(sx.public_sub(&p).unwrap().reconstruct(), p.sub(&x).unwrap());
        prop_assert_eq!(sx.mul_scalar(c).reconstruct(), x.scale(c));
        prop_assert_eq!(sx.mul_public(&p).unwrap().reconstruct(), x.mul(&p).unwrap());
        prop_assert_eq!(sx.mul_public(&row).unwrap().reconstruct(), x.mul(&row).unwrap());
        prop_assert_eq!(sx.sum_all().reconstruct(), Tensor::scalar(x.sum_all()));
        prop_assert_eq!(sx.sum_axis(0, false).unwrap().reconstruct(), x.sum_axis(0, false).unwrap());
        prop_assert_eq!(sx.sum_axis(1, true).unwrap().reconstruct(), x.sum_axis(1, true).unwrap());
        prop_assert_eq!(sx.matmul_public(&m).unwrap().reconstruct(), x.matmul(&m).unwrap());
        prop_assert_eq!(sx.public_matmul(&left).unwrap().reconstruct(), left.matmul(&x).unwrap());
        prop_assert_eq!(sx.transpose().unwrap().reconstruct(), x.transpose().unwrap());
        prop_assert_eq!(sx.reshape(&[cols * rows]).unwrap().reconstruct(), x.reshape(&[cols * rows]).unwrap());
    }

    #[test]
    fn party_local_functions_match_the_dealer_view(n in parties(), seed: u64, len in 1usize..6) {
        let mut prg = Prg::new(&Seed::from_u64(seed));
        let x = prg.u64_tensor(&[len]);
        let c = prg.u64_tensor(&[len]);
        let sx = AdditiveShares::split(&x, n, &mut prg).unwrap();
        let per_party: Vec<Tensor<u64>> = sx
            .shares()
            .iter()
            .enumerate()
            .map(|(j, s)| local::add_public(&local::mul_scalar(s, 3), &c, j).unwrap())
            .collect();
        let y = AdditiveShares::from_shares(per_party).unwrap();
        prop_assert_eq!(y.reconstruct(), x.scale(3).add(&c).unwrap());
    }
}

#[test]
fn public_constant_is_added_once() {
    // If every party added c, the result would be off by (n − 1)·c
    // (docs/PROTOCOLS.md §1.2).
    let x = Tensor::<u64>::from_vec(vec![10, 20]);
    let sh = AdditiveShares::split(&x, 5, &mut Prg::new(&Seed::from_u64(1))).unwrap();
    let y = sh.add_public(&Tensor::scalar(1)).unwrap();
    assert_eq!(y.reconstruct().data(), &[11, 21]);
    // Broadcasting a bigger public value gives every party a share of the same shape.
    let big = Tensor::<u64>::new(&[3, 2], vec![1; 6]).unwrap();
    let y = sh.add_public(&big).unwrap();
    assert!(y.shares().iter().all(|s| s.shape() == [3, 2]));
    assert_eq!(y.reconstruct().data(), &[11, 21, 11, 21, 11, 21]);
}

#[test]
fn splitting_errors_are_typed() {
    let x = Tensor::<u64>::from_vec(vec![1]);
    let mut prg = Prg::new(&Seed::from_u64(0));
    assert!(matches!(AdditiveShares::split(&x, 1, &mut prg), Err(ShareError::TooFewParties { .. })));
    assert!(matches!(AdditiveShares::<u64>::from_shares(vec![x.clone()]), Err(ShareError::TooFewParties { .. })));
    let bad = AdditiveShares::from_shares(vec![x.clone(), Tensor::from_vec(vec![1, 2])]);
    assert!(matches!(bad, Err(ShareError::ShareShape { party: 1, .. })));
    let sh = AdditiveShares::split(&x, 2, &mut prg).unwrap();
    let three = AdditiveShares::split(&x, 3, &mut prg).unwrap();
    assert!(matches!(sh.add(&three), Err(ShareError::InvalidArgument { .. })));
    assert!(matches!(sh.share(2), Err(ShareError::UnknownParty { .. })));
    assert!(matches!(sh.matmul_public(&x), Err(ShareError::Ring(_))));
    assert!(AdditiveShares::split_with_entropy(&x, 2).unwrap().reconstruct() == x);
    // Debug output never shows share values.
    assert_eq!(format!("{sh:?}"), "AdditiveShares<u64>(2 parties, shape [1])");
}

#[test]
fn share_secret_over_a_network() {
    let x = Tensor::<u64>::new(&[2, 3], (1..=6).collect()).unwrap();
    // Owner 3 is a dealer-like endpoint that is not a holder.
    let out = run_parties(4, |comm| -> syft_share::Result<_> {
        let me = comm.id();
        let mut prg = Prg::new(&Seed::from_u64(99 + me as u64));
        let secret = (me == 3).then_some(&x);
        let mine = share_secret(comm, 3, secret, &[0, 1, 2], &mut prg)?;
        if me == 3 {
            return Ok((mine, None, comm.stats().bytes_sent()));
        }
        let opened =
            comm.reveal(mine.as_ref().ok_or(ShareError::NotAParticipant { op: "t", party: me })?, &[0, 1, 2])?;
        Ok((mine, Some(opened), 0))
    })
    .unwrap();
    for (j, r) in out.into_iter().enumerate() {
        let (mine, opened, sent) = r.unwrap();
        if j == 3 {
            assert!(mine.is_none());
            assert_eq!(sent, 3 * 6 * 8);
        } else {
            assert_eq!(opened.unwrap(), x);
        }
    }
    // Owner 0 is also a holder; a bystander gets a typed error; the owner must supply a secret.
    let out = run_parties_with(vec![Some(x.clone()), None, None], |comm, secret| {
        let mut prg = Prg::new(&Seed::from_u64(5));
        match comm.id() {
            2 => share_secret::<_, u64>(comm, 0, None, &[0, 1], &mut prg).map(|_| None),
            _ => share_secret(comm, 0, secret.as_ref(), &[0, 1], &mut prg),
        }
    })
    .unwrap();
    assert!(matches!(out[2], Err(ShareError::NotAParticipant { party: 2, .. })));
    let s0 = out[0].clone().unwrap().unwrap();
    let s1 = out[1].clone().unwrap().unwrap();
    assert_eq!(s0.add(&s1).unwrap(), x);
    let out = run_parties(2, |comm| {
        let mut prg = Prg::new(&Seed::from_u64(5));
        share_secret::<_, u64>(comm, 0, None, &[0, 1], &mut prg).map(drop)
    })
    .unwrap();
    assert!(matches!(out[0], Err(ShareError::InvalidArgument { .. })));
    assert!(matches!(out[1], Err(ShareError::Disconnected { .. })));
}
