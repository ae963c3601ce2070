//! Known-answer tests against the reference simulation of the protocols of
//! docs/PROTOCOLS.md §6 (`shared/tools/protocol_sim.py`): with the harness's fixed seeds,
//! every stream of a session is determined, so each party's output *share* must equal the
//! simulation's bit for bit — a check of every step, label, `req` number and sampling rule,
//! not only of the reconstructed result. `tests/kat/generate.py` produced the vectors
//! below.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code")]

mod common;

use common::{all_configs, run_shares};
use syft_ring::Tensor;
use syft_securenn::{BitProducts, DivParams, Profile};

/// The harness seed the vectors were generated with.
const SEED: u64 = 0x5EC0;

#[rustfmt::skip]
const A0: &[u64] = &[0x9e3779b97f4a7c15, 0x3c6ef372fe94f82a, 0xdaa66d2c7ddf743f, 0x78dde6e5fd29f054, 0x1715609f7c746c69, 0xb54cda58fbbee87e, 0x538454127b096493, 0xf1bbcdcbfa53e0a8, 0x8ff34785799e5cbd, 0x2e2ac13ef8e8d8d2, 0xcc623af8783354e7, 0x6a99b4b1f77dd0fc];
#[rustfmt::skip]
const A1: &[u64] = &[0x61c8864680b583eb, 0xc3910c8d016b07d7, 0x255992d382208bc0, 0x8722191a02d60fae, 0xe8ea9f60838b9395, 0x4ab325a704411b6a, 0xac7babed84f69785, 0x4e44323405ac1f57, 0x300cb87a8661a343, 0xd1d53ec10e72f443, 0x339dc5074cee4268, 0x95664c4e08822f04];
#[rustfmt::skip]
const FAST_DRELU_0: &[u64] = &[0x647cab38b9b4613c, 0xc5ca55b5245e9fb4, 0x0afcd0e32a1b50e8, 0xfe80f3fdf83996eb, 0x6f5359fc0f187efc, 0x8d77d0531d3ab6c3, 0xe905588374a125c4, 0x9e44aa4f4d5afc29, 0x59e3b9d1512c3409, 0x22e9f714a69e2ebd, 0x26dd885a4bf3f111, 0xa5a64dfbdb1f1298];
#[rustfmt::skip]
const FAST_DRELU_1: &[u64] = &[0x9b8354c7464b9ec5, 0x3a35aa4adba1604d, 0xf5032f1cd5e4af18, 0x017f0c0207c66916, 0x90aca603f0e78104, 0x72882face2c5493e, 0x16faa77c8b5eda3c, 0x61bb55b0b2a503d8, 0xa61c462eaed3cbf7, 0xdd1608eb5961d144, 0xd92277a5b40c0eef, 0x5a59b20424e0ed69];
#[rustfmt::skip]
const FAST_RELU_0: &[u64] = &[0x38d18bafda6f4bfb, 0xc0a6edb28fde410f, 0x9af840b525b8eb57, 0x2c4c796f19b019eb, 0xe0e56b85de4a2687, 0x2e52f523f112dfdd, 0x7a7c2fbc9b375354, 0x358e30c01cb930b0, 0x5a0fcd923c1070d2, 0x355419e630333ec3, 0x0acb519284a0e83f, 0xc7edcb617d727b40];
#[rustfmt::skip]
const FAST_RELU_1: &[u64] = &[0xc72e74502590b405, 0x3f59124d7021bef2, 0x6507bf4ada4714a9, 0xd3b38690e64fe617, 0x1f1a947a21b5d979, 0xd1ad0adc0eed240b, 0x8583d04364c8acac, 0x0a71cf3fe346cf4f, 0xa5f0326dc3ef8f2e, 0xcaabe619d7288e52, 0xf534ae6d7b5f17c1, 0x3812359e828d84c0];
#[rustfmt::skip]
const B0: &[u64] = &[0x6fd1ddb3ee469757, 0x9517d2453db37474, 0xba5dc6d68d205191, 0xdfa3bb67dc8d2eae, 0x04e9aff92bfa0bcb, 0x2a2fa48a7b66e8e8, 0x4f75991bcad3c605, 0x74bb8dad1a40a322, 0x9a01823e69ad803f, 0xbf4776cfb91a5d5c, 0xe48d6b6108873a79, 0x09d35ff257f41796];
#[rustfmt::skip]
const B1: &[u64] = &[0x902e224c11b968a9, 0x6ae82dbac24c8b8e, 0x45a2392972dfae6e, 0x205c44982372d154, 0xfb165006d405f43c, 0xd5d05b7584991b00, 0xb08a66e4352c3614, 0x8b447252e5bf5ce3, 0x25fe7dc196527fc2, 0x40b889304e416fb9, 0x1b72949ef778c58a, 0xf62ca10da80be86a];
#[rustfmt::skip]
const FAST_EQ_0: &[u64] = &[0xd0e5f0375bb7f0c0, 0xb7f17e02de7113ca, 0x7f8e2a810595f9e9, 0x665b4746ab9a76a0, 0x61c8c35923cf155a, 0x3f207e34367ceb89, 0xf1728f038e207322, 0x158ed17988e450d0, 0x92831db71f94aefe, 0x8f92f0fef7c7dc5e, 0x6f9bab81e20c324e, 0xb7475bb17d4f8e14];
#[rustfmt::skip]
const FAST_EQ_1: &[u64] = &[0x2f1a0fc8a4480f41, 0x480e81fd218eec36, 0x8071d57efa6a0618, 0x99a4b8b954658961, 0x9e373ca6dc30eaa6, 0xc0df81cbc9831478, 0x0e8d70fc71df8cde, 0xea712e86771baf30, 0x6d7ce248e06b5102, 0x706d0f01083823a3, 0x9064547e1df3cdb2, 0x48b8a44e82b071ed];
#[rustfmt::skip]
const DIV_X0: &[u64] = &[0xe81170a75ff55997, 0x7ce1ba6273266b82, 0x11b2041d86577d6d, 0xa6824dd899888f58, 0x3b529793acb9a143, 0xd022e14ebfeab32e, 0x64f32b09d31bc519, 0xf9c374c4e64cd704];
#[rustfmt::skip]
const DIV_X1: &[u64] = &[0x17ee8f58a00aa669, 0x831e459d8cd9947f, 0xee4dfbe279a88487, 0x597db2276677748f, 0xc4ad686c534662a5, 0x2fdd1eb140154dcc, 0x9b0cd4f62ce43aea, 0x063c8b3b19b32949];
#[rustfmt::skip]
const DIV_Y0: &[u64] = &[0x3b69f3fbca42480f, 0xfac23b68e7272dc8, 0xba1a82d6040c1381, 0x7972ca4320f0f93a, 0x38cb11b03dd5def3, 0xf823591d5abac4ac, 0xb77ba08a779faa65, 0x76d3e7f79484901e];
#[rustfmt::skip]
const DIV_Y1: &[u64] = &[0xc4960c0435bdbbd9, 0x053dc49718d8d620, 0x45e57d29fbf3f067, 0x868d35bcdf0f0aae, 0xc734ee4fc22a24f5, 0x07dca6e2a5453e42, 0x48845f758860559f, 0x892c18086b7b7030];
#[rustfmt::skip]
const FAST_DIV_0: &[u64] = &[0xc26ec19cc471e5be, 0xd26852e18fa25e6f, 0x9fe18a02bdecf10f, 0xa5a8657512fc1378, 0x78b820467e7b1308, 0xb4510c8909aa947a, 0x4e6c7f6b5dbbf718, 0x8510fc5353903e71];
#[rustfmt::skip]
const FAST_DIV_1: &[u64] = &[0x3d913e633b8e1a42, 0x2d97ad1e705da192, 0x601e75fd421310e5, 0x5a579a8aed03f06f, 0x8747dfb98184f0e0, 0x4baef376f6556cd3, 0xb1938094a2440bd6, 0x7aef03acac6fc56a];
#[rustfmt::skip]
const PAPER_DRELU_0: &[u64] = &[0x6525eb2855b65eae, 0xf7358505b320b609, 0xf92ccf509d73ff06, 0x1cfe5b55367f2cd5, 0xd35085012495b452, 0x5bf14ee7c9600684, 0x029f2a40a9fc113e, 0x2c268da458ad1e37, 0x60bc1cbf0bc2aacd, 0xd8922a0d3ba22f6d, 0x13028219617f02f5, 0x984f43e6ba745b49];
#[rustfmt::skip]
const PAPER_DRELU_1: &[u64] = &[0x9ada14d7aa49a153, 0x08ca7afa4cdf49f8, 0x06d330af628c00fa, 0xe301a4aac980d32c, 0x2caf7afedb6a4bae, 0xa40eb118369ff97d, 0xfd60d5bf5603eec2, 0xd3d9725ba752e1ca, 0x9f43e340f43d5533, 0x276dd5f2c45dd094, 0xecfd7de69e80fd0b, 0x67b0bc19458ba4b8];
#[rustfmt::skip]
const PAPER_RELU_0: &[u64] = &[0x28059d374ce03fb5, 0x65c3080bb0f21ab9, 0xed52f26a9d6d1503, 0xf6b1efdbe6bd8036, 0x0c0ad554b18e70d9, 0xd7c3c6d339c49d27, 0x53f54f5936bf8798, 0xda0e4e7c7cb6b660, 0xff4f7b2b507a14fd, 0x6386d048e054073c, 0xacff0a796598e98d, 0x67fe85f29fbe309d];
#[rustfmt::skip]
const PAPER_RELU_1: &[u64] = &[0xd7fa62c8b31fc04b, 0x9a3cf7f44f0de548, 0x12ad0d956292eafd, 0x094e102419427fcc, 0xf3f52aab4e718f27, 0x283c392cc63b66c1, 0xac0ab0a6c9407868, 0x65f1b1838349499f, 0x00b084d4af85eb03, 0x9c792fb72707c5d9, 0x5300f5869a671673, 0x98017b0d6041cf63];
#[rustfmt::skip]
const PAPER_EQ_0: &[u64] = &[0x29df8a2dee9271ea, 0x342568adc6256d84, 0xff63e2321861fc4b, 0x20b54cf83e5299ec, 0xe6f2a3769644ec3a, 0x0ddfc65583c1e130, 0x1be8605163a3deb3, 0xe96525689d004c79, 0x4f04531f6c52e5ab, 0xb14e55b98b13603e, 0xf4a90bf6f81b0bf2, 0xc2ed8fd6560fb809];
#[rustfmt::skip]
const PAPER_EQ_1: &[u64] = &[0xd62075d2116d8e17, 0xcbda975239da927c, 0x009c1dcde79e03b6, 0xdf4ab307c1ad6615, 0x190d5c8969bb13c6, 0xf22039aa7c3e1ed1, 0xe4179fae9c5c214d, 0x169ada9762ffb387, 0xb0fbace093ad1a55, 0x4eb1aa4674ec9fc3, 0x0b56f40907e4f40e, 0x3d127029a9f047f8];
#[rustfmt::skip]
const PAPER_DIV_0: &[u64] = &[0xbb0ed6fffb01ec58, 0x6dfc7c2958e54545, 0x36c02ac06ed4b009, 0x0b16912d3201578b, 0x1aae08cfbc6eed9d, 0xf8cc8dbc1596d07f, 0x46e0fe7cceffea74, 0x4a4c431be64b975e];
#[rustfmt::skip]
const PAPER_DIV_1: &[u64] = &[0x44f1290004fe13a8, 0x920383d6a71ababc, 0xc93fd53f912b51eb, 0xf4e96ed2cdfeac5c, 0xe551f7304391164b, 0x07337243ea6930ce, 0xb91f01833100187a, 0xb5b3bce419b46c7d];
#[rustfmt::skip]
const DMP_I0: &[u64] = &[0x3c02f1ec65dde551, 0x12ebf0a4cc37e2e4, 0xe9d4ef5d3291e077, 0xc0bdee1598ebde0a, 0x97a6eccdff45db9d, 0x6e8feb86659fd930];
#[rustfmt::skip]
const DMP_I1: &[u64] = &[0xc3fd0e139a221aaf, 0xed140f5b33c81d1d, 0x162b10a2cd6e1f8b, 0x3f4211ea671421f9, 0x6859133200ba2465, 0x917014799a6026d1];
#[rustfmt::skip]
const DMP_0: &[u64] = &[0xcd6acf9d54f66208, 0xf41e8e9ba3aac4ec, 0x9070fc1ec4caae75, 0xfd4ebc0eff223a35, 0xdc446a0d44e3daad, 0x2b828163e682a7ad, 0xf8a142a03bbc67e4, 0xc33aaa9a35414c3e, 0x6b02937148fb7320, 0x677a3dc6f3380cfd, 0xe0542d4a6f36c36d, 0x4487f0e01c8d3d9a, 0x996b91d372df21cd, 0xa63611cb8d73a8ad, 0xe37e718639bae795, 0x5df56a21be84059e, 0xd97d86ec1271524f, 0x3f7966b78f27d62f, 0xf18b194f96448aac, 0x3255dfad9d5f9ff2, 0x7243f2846ab20021, 0x005b4adeb6dea536, 0x2c41c80c4b66813d, 0x92d26d535d49f2f6];
#[rustfmt::skip]
const DMP_1: &[u64] = &[0x32953062ab099df9, 0x0be171645c553b14, 0x6f8f03e13b35518b, 0x02b143f100ddc5cb, 0x23bb95f2bb1c2553, 0xd47d7e9c197d5854, 0x075ebd5fc443981c, 0x3cc55565cabeb3c2, 0x94fd6c8eb7048ce0, 0x9885c2390cc7f303, 0x1fabd2b590c93c94, 0xbb780f1fe372c266, 0x66946e2c8d20de33, 0x59c9ee34728c5753, 0x1c818e79c645186b, 0xa20a95de417bfa63, 0x26827913ed8eadb1, 0xc086994870d829d1, 0x0e74e6b069bb7555, 0xcdaa205262a0600e, 0x8dbc0d7b954dffdf, 0xffa4b52149215acb, 0xd3be37f3b4997ec3, 0x6d2d92aca2b60d0a];

fn t(v: &[u64]) -> Tensor<u64> {
    Tensor::from_vec(v.to_vec())
}

#[test]
fn drelu_relu_eq_div_shares_match_the_simulation() {
    // The reference simulation multiplies by DReLU's bits with Beaver products
    // (docs/PROTOCOLS.md §6.6); the products through the helper are checked against
    // plaintext by the property tests instead.
    for config in all_configs().into_iter().map(|c| c.with_bit_products(BitProducts::Beaver)) {
        let fast = config.profile == Profile::Fast;
        let pick = |f: &'static [u64], p: &'static [u64]| if fast { f } else { p };
        let n = A0.len();
        // DReLU
        let r =
            run_shares(config, SEED, [vec![t(A0)], vec![t(A1)]], |p, s| Ok(vec![p.drelu(&s[0])?]), |h| h.drelu(&[n]));
        assert_eq!(r.endpoints[0].outputs[0], t(pick(FAST_DRELU_0, PAPER_DRELU_0)), "{config:?}");
        assert_eq!(r.endpoints[1].outputs[0], t(pick(FAST_DRELU_1, PAPER_DRELU_1)), "{config:?}");
        // ReLU
        let r = run_shares(
            config,
            SEED,
            [vec![t(A0)], vec![t(A1)]],
            |p, s| Ok(vec![p.relu(&s[0])?.value]),
            |h| h.relu(&[n]),
        );
        assert_eq!(r.endpoints[0].outputs[0], t(pick(FAST_RELU_0, PAPER_RELU_0)), "{config:?}");
        assert_eq!(r.endpoints[1].outputs[0], t(pick(FAST_RELU_1, PAPER_RELU_1)), "{config:?}");
        // Equality
        let r = run_shares(
            config,
            SEED,
            [vec![t(A0), t(B0)], vec![t(A1), t(B1)]],
            |p, s| Ok(vec![p.eq(&s[0], &s[1])?]),
            |h| h.eq(&[n]),
        );
        assert_eq!(r.endpoints[0].outputs[0], t(pick(FAST_EQ_0, PAPER_EQ_0)), "{config:?}");
        assert_eq!(r.endpoints[1].outputs[0], t(pick(FAST_EQ_1, PAPER_EQ_1)), "{config:?}");
        // Division, s = 1000, K = 10
        let params = DivParams { scale: 1000, quotient_bits: 10 };
        let m = DIV_X0.len();
        let r = run_shares(
            config,
            SEED,
            [vec![t(DIV_X0), t(DIV_Y0)], vec![t(DIV_X1), t(DIV_Y1)]],
            |p, s| Ok(vec![p.div(&s[0], &s[1], params)?]),
            |h| h.div(&[m], params),
        );
        assert_eq!(r.endpoints[0].outputs[0], t(pick(FAST_DIV_0, PAPER_DIV_0)), "{config:?}");
        assert_eq!(r.endpoints[1].outputs[0], t(pick(FAST_DIV_1, PAPER_DIV_1)), "{config:?}");
        assert_eq!(r.outputs[0], t(&[0, 1, 500, 999, 1000, 333, 750, 987]));
    }
}

#[test]
fn dmp_shares_match_the_simulation() {
    for config in all_configs() {
        let m = DMP_I0.len();
        let r = run_shares(
            config,
            SEED,
            [vec![t(DMP_I0)], vec![t(DMP_I1)]],
            |p, s| Ok(vec![p.dmp(&s[0], 4)?]),
            |h| h.dmp(&[m], 4),
        );
        assert_eq!(r.endpoints[0].outputs[0].data(), DMP_0, "{config:?}");
        assert_eq!(r.endpoints[1].outputs[0].data(), DMP_1, "{config:?}");
    }
}
