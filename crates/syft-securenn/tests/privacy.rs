//! A party's view is independent of the secret: for two different inputs, everything an
//! endpoint receives is indistinguishable under the statistical test of syft-share
//! (`syft_share::dev`, chi-square homogeneity of positional byte histograms, α = 0.001).
//!
//! Views, per endpoint, message by message (the message sequences have the same shapes
//! for both secrets):
//! - each received payload, histogrammed by (position in the element, byte value): the
//!   element is 8 bytes for `Z_2^64`/`Z_(2^64-1)` values, 4 for the packed
//!   `Z_(2^32-1)` values of 32-bit comparisons, and the 64- (32-) digit row for
//!   PrivateCompare's `Z_67` messages;
//! - at a computing party, each opened value: the sum of what it sent to the other party
//!   and what it received back in the same exchange (the masked values it learns);
//! - at the helper, the slotwise sum of the two parties' matching messages (for
//!   PrivateCompare, the digits `D_k` it inspects; for ShareConvert, `x = a + r`).
//!
//! Every seed is fixed, so the outcome never changes between runs. Set
//! `SYFT_SECURENN_PRINT_VIEWS=1` (with `--nocapture`) to print every view's p-value.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::cast_possible_truncation, reason = "test code")]

mod common;

use common::{Endpoint, Run, run, signed_tensor};
use syft_ring::{Prg, Seed, Tensor};
use syft_securenn::{Accounting, BitProducts, Config, DivParams, Helper, Pool2d, SnnParty, Width};
use syft_share::dev::{ChiSquare, chi_square_homogeneity, positional_byte_histogram};
use syft_share::{BYTES_HEADER_LEN, PartyId, tensor_header_len};

/// The kind byte of an opaque byte message: the packed values of 32-bit comparisons
/// (4 bytes each, all over `Z_(2^32−1)` in the fast profile).
const KIND_BYTES: u8 = 0x02;

const ALPHA: f64 = 0.001;

/// A framed tensor message's payload and the width of one histogram position group.
fn payload(msg: &[u8]) -> (&[u8], usize) {
    if msg[0] == KIND_BYTES {
        return (&msg[BYTES_HEADER_LEN..], 4);
    }
    // kind (1) | request (6) | element tag (4) | rank (1) | dims (8 each) | payload
    let start = tensor_header_len(0);
    let rank = usize::from(msg[start - 1]);
    let dims: Vec<usize> = (0..rank)
        .map(|i| u64::from_le_bytes(msg[start + 8 * i..start + 8 * i + 8].try_into().unwrap()) as usize)
        .collect();
    let body = &msg[tensor_header_len(rank)..];
    assert_eq!(body.len() % dims.iter().product::<usize>().max(1), 0, "payload of {dims:?}: {} bytes", body.len());
    let numel: usize = dims.iter().product();
    let width = body.len().checked_div(numel).unwrap_or(1);
    // PrivateCompare's digits: group by slot.
    let width = match dims.last() {
        Some(&k) if width == 1 && (k == 64 || k == 32) => k,
        _ => width,
    };
    (body, width)
}

/// Elementwise sum of two payloads of one width: mod 67 for digits, mod 2^32 − 1 for
/// packed 32-bit values, mod 2^64 otherwise.
fn sum_payloads(a: &[u8], b: &[u8], width: usize) -> Vec<u8> {
    if width == 64 || width == 32 || width == 1 {
        a.iter().zip(b).map(|(x, y)| ((u16::from(*x) + u16::from(*y)) % 67) as u8).collect()
    } else if width == 4 {
        a.chunks_exact(4)
            .zip(b.chunks_exact(4))
            .flat_map(|(x, y)| {
                let s = u64::from(u32::from_le_bytes(x.try_into().unwrap()))
                    + u64::from(u32::from_le_bytes(y.try_into().unwrap()));
                ((s % 0xFFFF_FFFF) as u32).to_le_bytes()
            })
            .collect()
    } else {
        a.chunks_exact(8)
            .zip(b.chunks_exact(8))
            .flat_map(|(x, y)| {
                let s =
                    u64::from_le_bytes(x.try_into().unwrap()).wrapping_add(u64::from_le_bytes(y.try_into().unwrap()));
                s.to_le_bytes()
            })
            .collect()
    }
}

/// The named views of one endpoint, each a byte stream with its position width.
fn views(e: &Endpoint, me: PartyId) -> Vec<(String, Vec<u8>, usize)> {
    let mut out = Vec::new();
    for (k, (from, msg)) in e.received.iter().enumerate() {
        let (body, width) = payload(msg);
        out.push((format!("received #{k} from {from}"), body.to_vec(), width));
    }
    if me < 2 {
        // Opened values: k-th message to the peer + k-th message from it.
        let peer = 1 - me;
        let sent: Vec<&Vec<u8>> = e.sent.iter().filter(|(to, _)| *to == peer).map(|(_, m)| m).collect();
        let recv: Vec<&Vec<u8>> = e.received.iter().filter(|(from, _)| *from == peer).map(|(_, m)| m).collect();
        for (k, (s, r)) in sent.iter().zip(&recv).enumerate() {
            let ((a, w), (b, _)) = (payload(s), payload(r));
            out.push((format!("opened #{k}"), sum_payloads(a, b, w), w));
        }
    } else {
        let from =
            |p: PartyId| -> Vec<&Vec<u8>> { e.received.iter().filter(|(f, _)| *f == p).map(|(_, m)| m).collect() };
        for (k, (m0, m1)) in from(0).iter().zip(from(1)).enumerate() {
            let ((a, w), (b, _)) = (payload(m0), payload(m1));
            if a.len() == b.len() {
                out.push((format!("sum of parties' #{k}"), sum_payloads(a, b, w), w));
            }
        }
    }
    out
}

/// Asserts that every view of every endpoint is indistinguishable between two runs.
fn assert_indistinguishable(what: &str, a: &Run, b: &Run) -> usize {
    let mut tests = 0;
    for me in 0..3 {
        let (va, vb) = (views(&a.endpoints[me], me), views(&b.endpoints[me], me));
        assert_eq!(va.len(), vb.len(), "{what}: endpoint {me} sees different message sequences");
        for ((name, x, w), (_, y, _)) in va.iter().zip(&vb) {
            assert_eq!(x.len(), y.len(), "{what}: endpoint {me}, {name}: lengths differ");
            let c: ChiSquare =
                chi_square_homogeneity(&positional_byte_histogram(x, *w), &positional_byte_histogram(y, *w)).unwrap();
            assert!(c.accepts(ALPHA), "{what}: endpoint {me}, {name} depends on the secret: {c:?}");
            tests += 1;
            if std::env::var_os("SYFT_SECURENN_PRINT_VIEWS").is_some() {
                println!("{what}: endpoint {me}, {name} (width {w}, {} bytes): p = {:.4}", x.len(), c.p_value);
            }
        }
    }
    tests
}

type PartyFn<'f> = &'f (dyn Fn(&mut SnnParty<'_>, &[Tensor<u64>]) -> syft_securenn::Result<Vec<Tensor<u64>>> + Sync);
type HelperFn<'f> = &'f (dyn Fn(&mut Helper<'_>) -> syft_securenn::Result<()> + Sync);

/// Runs a protocol on two secrets and checks every view.
fn check(what: &str, config: Config, secrets: [Vec<Tensor<u64>>; 2], party: PartyFn<'_>, helper: HelperFn<'_>) -> Run {
    let [s0, s1] = secrets;
    let a = run(config, 101, &s0, party, helper);
    let b = run(config, 202, &s1, party, helper);
    let tests = assert_indistinguishable(what, &a, &b);
    assert!(tests >= 3, "{what}: only {tests} views");
    a
}

const N: usize = 20_000;

fn constant(v: i64, n: usize) -> Tensor<u64> {
    signed_tensor(&vec![v; n])
}

#[test]
fn drelu_and_relu_views_do_not_depend_on_the_input() {
    let configs = [
        Config::fast(),
        Config::paper(),
        Config::fast().with_accounting(Accounting::Paper),
        Config::fast().with_bit_products(BitProducts::Beaver),
    ];
    for config in configs {
        // Zero (DReLU = 1) against the most negative value of the range (DReLU = 0).
        let secrets = [vec![constant(0, N)], vec![constant(-(1 << 62), N)]];
        check("drelu", config, secrets.clone(), &|p, s| Ok(vec![p.drelu(&s[0])?]), &|h| h.drelu(&[N]));
        check("relu", config, secrets, &|p, s| Ok(vec![p.relu(&s[0])?.value]), &|h| h.relu(&[N]));
    }
}

/// At 32 bits (docs/PROTOCOLS.md §6.5) as at 64: zero against the most negative value
/// of the 32-bit range, and ties against distinct values for `==` and argmax.
#[test]
fn views_at_32_bits_do_not_depend_on_the_input() {
    let w = Width::FIXED_POINT;
    for config in [Config::fast(), Config::fast().with_accounting(Accounting::Paper)] {
        let secrets = [vec![constant(0, N)], vec![constant(-(1 << 30), N)]];
        check(
            "relu, k = 32",
            config,
            secrets,
            &move |p, s| {
                p.set_width(w);
                Ok(vec![p.relu(&s[0])?.value])
            },
            &move |h| {
                h.set_width(w);
                h.relu(&[N])
            },
        );
    }
    let secrets = [vec![constant(5, N), constant(5, N)], vec![constant(-7, N), constant(1 << 28, N)]];
    check(
        "eq, k = 32",
        Config::fast(),
        secrets,
        &move |p, s| {
            p.set_width(w);
            Ok(vec![p.eq(&s[0], &s[1])?])
        },
        &move |h| {
            h.set_width(w);
            h.eq(&[N])
        },
    );
}

#[test]
fn comparison_and_argmax_views_do_not_depend_on_the_input() {
    let n = N / 10;
    let rows_a = Tensor::new(&[n, 10], vec![0u64; 10 * n]).unwrap();
    let mut prg = Prg::new(&Seed::from_u64(3));
    let rows_b = Tensor::new(&[n, 10], (0..10 * n).map(|_| prg.next_u64() >> 4).collect()).unwrap();
    check(
        "argmax",
        Config::fast(),
        [vec![rows_a], vec![rows_b]],
        &|p, s| Ok(vec![p.argmax_one_hot(&s[0], 1)?.index]),
        &|h| h.argmax_one_hot(&[N / 10, 10], 1),
    );
    let secrets = [vec![constant(5, N), constant(5, N)], vec![constant(-7, N), constant(1 << 60, N)]];
    check("eq", Config::fast(), secrets, &|p, s| Ok(vec![p.eq(&s[0], &s[1])?]), &|h| h.eq(&[N]));
}

#[test]
fn maxpool_dmp_and_division_views_do_not_depend_on_the_input() {
    let img = |f: &dyn Fn(usize) -> u64| Tensor::new(&[1, 1, 2, N], (0..2 * N).map(f).collect()).unwrap();
    check(
        "maxpool",
        Config::fast(),
        [vec![img(&|_| 0)], vec![img(&|i| (i as u64 % 7) << 40)]],
        &|p, s| Ok(vec![p.maxpool2d(&s[0], Pool2d::new(2, 2))?.value]),
        &|h| h.maxpool2d(&[1, 1, 2, N], Pool2d::new(2, 2)),
    );
    check(
        "dmp",
        Config::fast(),
        [vec![constant(0, N)], vec![constant(3, N)]],
        &|p, s| Ok(vec![p.dmp(&s[0], 4)?]),
        &|h| h.dmp(&[N], 4),
    );
    let params = DivParams { scale: 1000, quotient_bits: 3 };
    let n = N / 4;
    check(
        "div",
        Config::fast(),
        [vec![constant(0, n), constant(1000, n)], vec![constant(999, n), constant(1000, n)]],
        &move |p, s| Ok(vec![p.div(&s[0], &s[1], params)?]),
        &move |h| h.div(&[n], params),
    );
}

/// Negative control: the same statistic on something that does depend on the secret —
/// the reconstructed DReLU output, presented as if it were a view — must reject.
#[test]
fn the_test_sees_a_dependent_view() {
    let a = run(Config::fast(), 1, &[constant(0, N)], |p, s| Ok(vec![p.drelu(&s[0])?]), |h| h.drelu(&[N]));
    let b = run(Config::fast(), 2, &[constant(-1, N)], |p, s| Ok(vec![p.drelu(&s[0])?]), |h| h.drelu(&[N]));
    let bytes = |r: &Run| -> Vec<u8> { r.outputs[0].data().iter().flat_map(|v| v.to_le_bytes()).collect() };
    let c =
        chi_square_homogeneity(&positional_byte_histogram(&bytes(&a), 8), &positional_byte_histogram(&bytes(&b), 8))
            .unwrap();
    assert!(!c.accepts(ALPHA), "the output's dependence went unnoticed: {c:?}");
    // ...while party 1's share of that output alone is independent of it.
    let share =
        |r: &Run| -> Vec<u8> { r.endpoints[1].outputs[0].data().iter().flat_map(|v| v.to_le_bytes()).collect() };
    let c =
        chi_square_homogeneity(&positional_byte_histogram(&share(&a), 8), &positional_byte_histogram(&share(&b), 8))
            .unwrap();
    assert!(c.accepts(ALPHA), "{c:?}");
}
