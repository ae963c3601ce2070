//! PRG stream labels of the SecureNN protocols (docs/PROTOCOLS.md §3.3).
//!
//! Streams keyed by `k_01` (common to the computing parties) carry the protocols' common
//! randomness; streams keyed by `k_0D` (party 0 and the helper) carry party 0's share of
//! helper-dealt values under compressed accounting. The helper's own randomness (the
//! mask `x` of ComputeMSB) is drawn from a private seed with label [`HELPER_PRIVATE`].

/// ShareConvert `η''` (bit; `k_01`).
pub const SC_ETA2: u16 = 0x0100;
/// ShareConvert `r` (`Z_L`; `k_01`).
pub const SC_R: u16 = 0x0101;
/// ShareConvert `r_0` (`Z_L`; `k_01`).
pub const SC_R0: u16 = 0x0102;
/// ComputeMSB `β` (bit; `k_01`).
pub const MSB_BETA: u16 = 0x0110;
/// PrivateCompare `s` (`Z_p*`; 64 words per element, `⌈k/3⌉` at a width `k < 64`; `k_01`).
pub const PC_S: u16 = 0x0120;
/// PrivateCompare `u` (`Z_p`; 64 words per element, `⌈k/3⌉` at a width `k < 64`; `k_01`).
pub const PC_U: u16 = 0x0121;
/// PrivateCompare `π` (a permutation of `k` positions: 63 words per element, fewer packed
/// words at a width `k < 64`, docs/PROTOCOLS.md §3.2; `k_01`).
pub const PC_PERM: u16 = 0x0122;
/// PrivateCompare re-randomisation mask `m` (`Z_p`; 64 words per element, `⌈k/3⌉` at a
/// width `k < 64`; `k_01`).
pub const PC_MASK: u16 = 0x0123;
/// ComputeMSB with a payload: the mask `ρ` of the payload opened to the helper (`Z_L`;
/// `k_01`).
pub const MSB_RHO: u16 = 0x0111;
/// DMP `r` (`Z_L`; `k_01`).
pub const DMP_R: u16 = 0x0130;
/// Helper shares for ShareConvert: the bits of `x` (`Z_p`; `k_0D`).
pub const H_SC_XBITS: u16 = 0x0201;
/// Helper shares for ShareConvert: `δ` (`Z_(L-1)`; `k_0D`).
pub const H_SC_DELTA: u16 = 0x0202;
/// Helper shares for ShareConvert: `η'` (`Z_(L-1)`; `k_0D`).
pub const H_SC_ETAP: u16 = 0x0203;
/// Helper shares for ComputeMSB: `x` (`Z_(L-1)`; `k_0D`).
pub const H_MSB_X: u16 = 0x0211;
/// Helper shares for ComputeMSB: the bits of `x` (`Z_p`; `k_0D`).
pub const H_MSB_XBITS: u16 = 0x0212;
/// Helper shares for ComputeMSB: `x[0]` (`Z_L`; `k_0D`; paper profile).
pub const H_MSB_X0: u16 = 0x0213;
/// Helper shares for ComputeMSB: the output bit, `β'` (paper) or `β' ⊕ x[0]` (fast) (`Z_L`; `k_0D`).
pub const H_MSB_OUT: u16 = 0x0214;
/// Helper shares for ComputeMSB with a payload: `g = β' ⊕ x[0]` followed by
/// `g·(v + ρ)` per payload value, one tensor (`Z_L`; `k_0D`; fast profile).
pub const H_MSB_OUT_TIMES: u16 = 0x0215;
/// Helper shares for DMP: the one-hot vector (`Z_L`; `k_0D`).
pub const H_DMP_E: u16 = 0x0221;
/// The helper's private randomness (its own seed, never shared), as in the reference
/// simulation.
pub const HELPER_PRIVATE: u16 = 0x0F00;
