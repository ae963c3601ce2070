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

/// The SecureNN session configuration. The default is the fast profile with compressed
/// helper accounting.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Config {
    /// The DReLU profile.
    pub profile: Profile,
    /// The helper accounting.
    pub accounting: Accounting,
}

impl Config {
    /// The fast profile with compressed accounting (the default).
    #[must_use]
    pub const fn fast() -> Self {
        Self { profile: Profile::Fast, accounting: Accounting::Compressed }
    }

    /// The paper profile with compressed accounting.
    #[must_use]
    pub const fn paper() -> Self {
        Self { profile: Profile::Paper, accounting: Accounting::Compressed }
    }

    /// This configuration with `accounting`.
    #[must_use]
    pub const fn with_accounting(self, accounting: Accounting) -> Self {
        Self { profile: self.profile, accounting }
    }
}
