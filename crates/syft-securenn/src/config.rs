//! Session configuration: which DReLU profile to run and how helper-dealt values travel.
//!
//! Both computing parties and the helper must use the same [`Config`]; it is part of the
//! session agreement, like the shapes of every call.

/// How DReLU (and everything built on it) computes the most significant bit
/// (docs/PROTOCOLS.md §6.1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Profile {
    /// docs/PROTOCOLS.md §6.4–6.5: no ShareConvert (the doubled `Z_2^64` shares are already
    /// canonical shares over `Z_(2^64-1)`, F1) and ComputeMSB without its multiplication
    /// (the helper shares `β' ⊕ x[0]`, F2). DReLU: 3 rounds, 224 bytes per element
    /// (compressed).
    #[default]
    Fast,
    /// The paper's Algorithms 4–6 with the corrections of docs/PROTOCOLS.md §6.10:
    /// ShareConvert, then ComputeMSB with one Beaver multiplication. DReLU: 8 rounds, 496
    /// bytes per element (compressed), 664 under paper accounting — the paper's
    /// `8ℓ log p + 19ℓ` bits.
    Paper,
}

/// Who receives a helper-dealt value (docs/PROTOCOLS.md §0.3, §3.6).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Accounting {
    /// Party 0 expands its share from the seed it shares with the helper; only party 1
    /// receives a message.
    #[default]
    Compressed,
    /// The helper sends both shares, reproducing the paper's Tables 1–2 byte for byte.
    Paper,
}

/// How ReLU, max, argmax, max pooling and division multiply values by the bits DReLU
/// just computed (docs/PROTOCOLS.md §6.6).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BitProducts {
    /// Through the helper, in DReLU's own rounds (fast profile only): each party opens the
    /// value masked by common randomness to the helper beside its PrivateCompare message,
    /// and the helper, who knows the bit's share-free part `g`, deals `g·(v + ρ)`. ReLU: 3
    /// rounds, 44 / 44 / 52 bytes per element at 32 bits.
    #[default]
    ThroughHelper,
    /// A Beaver product after DReLU, as in the paper and the reference simulation: one
    /// more round, 16 / 16 / 8 bytes per element. The paper profile always works this way.
    Beaver,
}

/// The SecureNN session configuration. The default is the fast profile with compressed
/// helper accounting and bit products through the helper.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Config {
    /// The DReLU profile.
    pub profile: Profile,
    /// The helper accounting.
    pub accounting: Accounting,
    /// How products with DReLU's bits are formed (fast profile; the paper profile always
    /// uses [`BitProducts::Beaver`]).
    pub bit_products: BitProducts,
}

impl Config {
    /// The fast profile with compressed accounting and bit products through the helper
    /// (the default).
    #[must_use]
    pub const fn fast() -> Self {
        Self { profile: Profile::Fast, accounting: Accounting::Compressed, bit_products: BitProducts::ThroughHelper }
    }

    /// The paper profile with compressed accounting.
    #[must_use]
    pub const fn paper() -> Self {
        Self { profile: Profile::Paper, accounting: Accounting::Compressed, bit_products: BitProducts::Beaver }
    }

    /// This configuration with `accounting`.
    #[must_use]
    pub const fn with_accounting(self, accounting: Accounting) -> Self {
        Self { accounting, ..self }
    }

    /// This configuration with `bit_products` (ignored by the paper profile).
    #[must_use]
    pub const fn with_bit_products(self, bit_products: BitProducts) -> Self {
        Self { bit_products, ..self }
    }

    /// Whether DReLU's bit products go through the helper in DReLU's rounds.
    pub(crate) fn fused_products(&self) -> bool {
        self.profile == Profile::Fast && self.bit_products == BitProducts::ThroughHelper
    }
}

/// The bit width `k` over which DReLU and everything built on it (comparisons, ReLU, max,
/// argmax, max pooling, division) work (docs/PROTOCOLS.md §6.5, §7).
///
/// Shares reduced modulo `2^k` are shares of the value modulo `2^k`, so a comparison of
/// values `v ∈ [−2^(k−2), 2^(k−2))` runs on the `k`-bit reductions of the shares:
/// PrivateCompare on `k` digits, ComputeMSB over `Z_(2^k−1)`, the helper dealing `k` bits
/// per element. Bytes shrink accordingly; rounds do not change. The output bits are still
/// shares over `Z_2^64`. **Outside the range the results are wrong, not clamped.**
///
/// The width is not part of [`Config`]: one session compares values of different
/// encodings, so it is set per call ([`SnnParty::set_width`](crate::SnnParty::set_width)
/// and [`Helper::set_width`](crate::Helper::set_width), like the shapes the helper is
/// given: all three must agree). [`Width::FULL`] (64 bits) is the default and reproduces
/// the full-range protocol exactly.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Width(u32);

impl Default for Width {
    fn default() -> Self {
        Self::FULL
    }
}

impl Width {
    /// The full ring: 64 bits, DReLU valid on `[−2^62, 2^62)`.
    pub const FULL: Self = Self(64);
    /// The width for fixed-point values: 32 bits, DReLU valid on `[−2^30, 2^30)` (raw
    /// ring values; `|v| < 2^30/s` at scale `s`). A value that comes out of a safe
    /// truncation has raw magnitude below `2^24` (`syft_fixed::FixedEncoder::safe_truncation_input(40)`),
    /// 64 times below the bound.
    pub const FIXED_POINT: Self = Self(32);
    /// The smallest width (DReLU then decides `v ∈ {−1, 0}`).
    pub const MIN_BITS: u32 = 2;

    /// The width of `bits` bits, `2 ≤ bits ≤ 64`.
    pub fn new(bits: u32) -> crate::Result<Self> {
        if (Self::MIN_BITS..=64).contains(&bits) {
            Ok(Self(bits))
        } else {
            Err(crate::error::invalid("width", format!("a comparison width must be 2 to 64 bits, got {bits}")))
        }
    }

    /// The width the workers use for values of `encoding` (docs/PROTOCOLS.md §7):
    /// [`FIXED_POINT`](Self::FIXED_POINT) for a fixed-point encoding with a fractional
    /// part (scale `s > 1`), [`FULL`](Self::FULL) for an integer encoding or none.
    #[must_use]
    pub fn for_encoding(encoding: Option<syft_fixed::FixedEncoder>) -> Self {
        match encoding {
            Some(enc) if enc.scale() > 1 => Self::FIXED_POINT,
            _ => Self::FULL,
        }
    }

    /// `k`.
    #[must_use]
    pub const fn bits(self) -> u32 {
        self.0
    }

    /// `2^(k−2)`: DReLU is valid for signed values `v ∈ [−2^(k−2), 2^(k−2))`.
    #[must_use]
    pub const fn drelu_limit(self) -> u64 {
        1 << (self.0 - 2)
    }

    /// `2^k − 1`: the mask of the low `k` bits, and the odd modulus of ComputeMSB.
    #[must_use]
    pub(crate) const fn mask(self) -> u64 {
        u64::MAX >> (64 - self.0)
    }

    /// `⌈k/8⌉`: bytes per element of a value mod `2^k` or `2^k − 1` on the wire.
    #[must_use]
    pub const fn bytes(self) -> usize {
        self.0.div_ceil(8) as usize
    }

    /// The digits of PrivateCompare per element (`k`).
    #[must_use]
    pub(crate) const fn digits(self) -> usize {
        self.0 as usize
    }

    /// Whether this is the full 64-bit width.
    #[must_use]
    pub(crate) const fn is_full(self) -> bool {
        self.0 == 64
    }
}
