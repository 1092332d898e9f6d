//! The mixer functions in deterministic integer math (no floats).
//!
//! * geometric mean: `isqrt(stake * engagement)`; the product of two u64 fits a u128, the
//!   root fits a u64, so it is exact and never overflows.
//! * sigmoid: `max_points * (2 / (1 + exp(-x)) - 1)` with `x = s * (stake * engagement)^p`,
//!   computed as `max_points * (1 - e) / (1 + e)` with `e = exp(-x)` (the same value:
//!   tanh(x/2)). Fixed point: u128/i128 with 18 decimals (WAD = 1e18).
//!   - `ln` of an integer: `n = m * 2^k` with m in [sqrt(1/2), sqrt(2)), ln n = k ln2 +
//!     2 atanh((m-1)/(m+1)) (odd series, |z| < 0.172, ~12 terms); ln 2 is held to 27 decimals.
//!   - `exp`: `y = k ln2 + r`, |r| <= ln2/2, Taylor series of e^r to the last non-zero term,
//!     then a shift by k.
//!   - `x` is taken in the log domain: `ln x = ln s + p * ln(stake * engagement)`, so huge
//!     inputs never overflow: when ln x >= 4 (x >= 54.6) e^-x < 1e-23 and the result is
//!     exactly `max_points` (saturation); when x underflows 1e-18 the result is 0.
//!   Precision: ln and exp are within a few 1e-17 (absolute, resp. relative); the real-valued
//!   result is within ~1e-14 relative plus ~max_points * 1e-17 absolute before the final
//!   floor to an integer (unit tests compare with f64 references at 1e-9 relative).
//!
//! Parameters: `max_points` u64, `p` in (0, 1], `s` > 0, decimals with at most 18 places.

use crate::error::ContractError;

/// 1.0 in fixed point (18 decimals).
pub const WAD: u128 = 1_000_000_000_000_000_000;
const WAD_I: i128 = WAD as i128;
/// ln 2 * 1e27 (27 decimals, truncated).
const LN2_E27: i128 = 693_147_180_559_945_309_417_232_121;
/// ln 2 * 1e18 (truncated).
const LN2_WAD: i128 = 693_147_180_559_945_309;
/// ln(1e18) * 1e18: turns ln of a raw WAD integer into ln of the value.
const LN_WAD_SCALE: i128 = 41_446_531_673_892_822_312;
/// sqrt(2) * 2^62.
const SQRT2_Q62: u128 = 6_521_908_912_666_391_106;
/// Above this ln x (= ln 54.6) e^-x is below WAD's resolution: the sigmoid saturates.
const LN_X_SATURATE: i128 = 4 * WAD_I;
/// exp_wad returns 0 below this (e^-42 < 1e-18).
const EXP_MIN: i128 = -42 * WAD_I;
/// exp_wad is only asked for arguments up to this (callers keep below it).
const EXP_MAX: i128 = 60 * WAD_I;
/// Longest decimal string accepted for p and s.
pub const MAX_DECIMAL_LEN: usize = 40;

/// The integer square root, floor(sqrt(n)).
pub fn isqrt(n: u128) -> u128 {
    if n < 2 {
        return n;
    }
    let bits = 128 - n.leading_zeros();
    // 2^ceil(bits/2) >= sqrt(n); Newton's iteration decreases monotonically to the floor.
    let mut x: u128 = 1u128 << ((bits + 1) / 2);
    loop {
        let y = (x + n / x) / 2;
        if y >= x {
            return x;
        }
        x = y;
    }
}

/// ln(n) * 1e18 for an integer n >= 1 (ln 0 is taken as 0; callers never ask it).
pub fn ln_int(n: u128) -> i128 {
    if n <= 1 {
        return 0;
    }
    let mut k = (127 - n.leading_zeros()) as i128; // floor(log2 n)
    // mantissa in Q62, in [2^62, 2^63)
    let m_q = if k >= 62 { n >> (k - 62) } else { n << (62 - k) };
    let m = if m_q > SQRT2_Q62 {
        k += 1;
        (m_q * WAD) >> 63
    } else {
        (m_q * WAD) >> 62
    } as i128;
    // ln m = 2 atanh(z), z = (m - 1) / (m + 1)
    let z = (m - WAD_I) * WAD_I / (m + WAD_I);
    let z2 = z * z / WAD_I;
    let mut sum = z;
    let mut term = z;
    let mut n = 3i128;
    loop {
        term = term * z2 / WAD_I;
        if term == 0 {
            break;
        }
        sum += term / n;
        n += 2;
    }
    k * LN2_E27 / 1_000_000_000 + 2 * sum
}

/// ln(v) * 1e18 for a fixed-point v (= v_wad / 1e18) > 0.
pub fn ln_wad(v_wad: u128) -> i128 {
    ln_int(v_wad) - LN_WAD_SCALE
}

/// e^(y / 1e18) * 1e18, for y <= 60e18; 0 when the result is below 1e-18 * e^0.
pub fn exp_wad(y: i128) -> u128 {
    if y < EXP_MIN {
        return 0;
    }
    let y = y.min(EXP_MAX);
    // k = round(y / ln2)
    let half = LN2_WAD / 2;
    let k = if y >= 0 { (y + half) / LN2_WAD } else { (y - half) / LN2_WAD };
    let r = (y * 1_000_000_000 - k * LN2_E27) / 1_000_000_000;
    let mut sum = WAD_I;
    let mut term = WAD_I;
    let mut n = 1i128;
    loop {
        term = term * r / (WAD_I * n);
        if term == 0 {
            break;
        }
        sum += term;
        n += 1;
    }
    let sum = sum as u128;
    if k >= 0 {
        sum << k
    } else if k > -127 {
        sum >> (-k)
    } else {
        0
    }
}

/// The mixer function with its parameters parsed into integers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PoeFunction {
    GeometricMean,
    /// `p_wad` and `s_wad` are p and s times 1e18.
    Sigmoid { max_points: u64, p_wad: u128, s_wad: u128 },
}

impl PoeFunction {
    /// The mixed points of an address with these stake and engagement points.
    pub fn points(&self, stake: u64, engagement: u64) -> u64 {
        match *self {
            PoeFunction::GeometricMean => geometric_mean(stake, engagement),
            PoeFunction::Sigmoid { max_points, p_wad, s_wad } => sigmoid(stake, engagement, max_points, p_wad, s_wad),
        }
    }
}

/// isqrt(stake * engagement), exact.
pub fn geometric_mean(stake: u64, engagement: u64) -> u64 {
    isqrt(stake as u128 * engagement as u128) as u64
}

/// floor(max_points * (2 / (1 + exp(-s * (stake * engagement)^p)) - 1)), see the module doc.
pub fn sigmoid(stake: u64, engagement: u64, max_points: u64, p_wad: u128, s_wad: u128) -> u64 {
    let product = stake as u128 * engagement as u128;
    if product == 0 || max_points == 0 || s_wad == 0 {
        return 0;
    }
    // p <= 1 and ln(product) < 89: the product p * ln stays below 9e37 (i128 holds 1.7e38).
    let ln_x = ln_wad(s_wad) + (p_wad.min(WAD) as i128) * ln_int(product) / WAD_I;
    let e = if ln_x >= LN_X_SATURATE {
        0
    } else {
        let x = exp_wad(ln_x); // < 54.6e18
        exp_wad(-(x as i128))
    }
    .min(WAD);
    let t = (WAD - e) * WAD / (WAD + e); // tanh(x / 2), in [0, 1e18]
    (max_points as u128 * t / WAD) as u64
}

/// Parses a non-negative decimal string ("0.62", "1", "0.00001") with at most 18 decimal
/// places into an integer number of 1e-18 units.
pub fn parse_decimal_wad(field: &str, text: &str) -> Result<u128, ContractError> {
    let bad = || ContractError::InvalidDecimal { field: field.to_string(), value: truncate(text) };
    if text.is_empty() || text.len() > MAX_DECIMAL_LEN {
        return Err(bad());
    }
    let (whole, frac) = match text.find('.') {
        Some(dot) => (&text[..dot], &text[dot + 1..]),
        None => (text, ""),
    };
    if whole.is_empty() || frac.len() > 18 || (text.contains('.') && frac.is_empty()) {
        return Err(bad());
    }
    if !whole.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let whole: u128 = whole.parse().map_err(|_| bad())?;
    let mut frac_value: u128 = if frac.is_empty() { 0 } else { frac.parse().map_err(|_| bad())? };
    for _ in frac.len()..18 {
        frac_value *= 10;
    }
    whole.checked_mul(WAD).and_then(|w| w.checked_add(frac_value)).ok_or_else(bad)
}

fn truncate(text: &str) -> String {
    text.chars().take(MAX_DECIMAL_LEN).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rel_close(got: f64, want: f64, tol: f64) -> bool {
        if want == 0.0 {
            return got.abs() <= tol;
        }
        ((got - want) / want).abs() <= tol
    }

    #[test]
    fn isqrt_is_exact() {
        for n in [0u128, 1, 2, 3, 4, 15, 16, 17, 99, 100, 1 << 64, (1 << 64) + 1, u64::MAX as u128] {
            let r = isqrt(n);
            assert!(r * r <= n && (r + 1) * (r + 1) > n, "isqrt({})", n);
        }
        let max = u128::MAX;
        let r = isqrt(max);
        assert_eq!(r, u64::MAX as u128);
        assert_eq!(geometric_mean(u64::MAX, u64::MAX), u64::MAX);
        assert_eq!(geometric_mean(0, 100), 0);
        assert_eq!(geometric_mean(9, 4), 6);
        assert_eq!(geometric_mean(10, 10), 10);
        assert_eq!(geometric_mean(2, 1), 1);
    }

    #[test]
    fn ln_matches_f64() {
        let values: [u128; 12] = [2, 3, 10, 1000, 123_456_789, 1 << 40, 999_999_999_999, WAD, 3 * WAD / 2,
            u64::MAX as u128, u128::MAX / 3, u128::MAX];
        for &v in &values {
            let got = ln_int(v) as f64 / 1e18;
            let want = (v as f64).ln();
            assert!(rel_close(got, want, 1e-14), "ln {}: {} vs {}", v, got, want);
        }
        assert_eq!(ln_int(1), 0);
        assert!(ln_wad(WAD).abs() < 100, "ln 1 = {}", ln_wad(WAD));
        let got = ln_wad(10_000_000_000_000) as f64 / 1e18; // ln 0.00001
        assert!(rel_close(got, (0.00001f64).ln(), 1e-14));
    }

    #[test]
    fn exp_matches_f64() {
        for &y in &[-41.0f64, -20.5, -3.0, -1.0, -0.5, -1e-9, 0.0, 1e-9, 0.3, 1.0, 2.5, 10.0, 30.0, 40.0] {
            let got = exp_wad((y * 1e18) as i128) as f64 / 1e18;
            let want = y.exp();
            // tiny values are exact to ~1e-18 absolute, others to ~1e-16 relative
            let ok = rel_close(got, want, 1e-13) || (got - want).abs() <= 2e-18;
            assert!(ok, "exp {}: {} vs {}", y, got, want);
        }
        assert_eq!(exp_wad(0), WAD);
        assert_eq!(exp_wad(-43 * WAD_I), 0);
    }

    fn reference(stake: u64, engagement: u64, max_points: f64, p: f64, s: f64) -> f64 {
        let x = s * ((stake as f64) * (engagement as f64)).powf(p);
        max_points * (x / 2.0).tanh()
    }

    #[test]
    fn sigmoid_matches_f64_reference() {
        let tgrade = (1_000_000u64, 620_000_000_000_000_000u128, 10_000_000_000_000u128);
        let cases: [(u64, u64, u64, u128, u128); 14] = [
            (1, 1, tgrade.0, tgrade.1, tgrade.2),
            (1000, 1000, tgrade.0, tgrade.1, tgrade.2),
            (5, 20_000, tgrade.0, tgrade.1, tgrade.2),
            (100_000, 100_000, tgrade.0, tgrade.1, tgrade.2),
            (1_000_000, 7_000_000, tgrade.0, tgrade.1, tgrade.2),
            (10_000_000, 10_000_000, tgrade.0, tgrade.1, tgrade.2),
            (300_000_000, 1_000_000, tgrade.0, tgrade.1, tgrade.2),
            (1_000, 3, tgrade.0, tgrade.1, tgrade.2),
            (77, 88, u64::MAX, tgrade.1, tgrade.2),
            (1000, 1000, 1_000_000_000, WAD, 1_000_000_000_000), // p = 1, s = 1e-6
            (1000, 1000, 1_000_000_000, WAD / 2, WAD / 100),    // p = 0.5, s = 0.01
            (123_456, 654_321, 1_000_000_000, 330_000_000_000_000_000, 1_000_000_000_000_000),
            (2, 3, 1_000_000_000_000, 900_000_000_000_000_000, 1_000_000_000),
            (40, 50, 500, 750_000_000_000_000_000, 20_000_000_000_000_000),
        ];
        for &(stake, eng, max_points, p_wad, s_wad) in &cases {
            let got = sigmoid(stake, eng, max_points, p_wad, s_wad);
            let want = reference(stake, eng, max_points as f64, p_wad as f64 / 1e18, s_wad as f64 / 1e18);
            let err = (got as f64 - want).abs();
            assert!(err <= (want * 1e-9).max(1.0), "sigmoid({}, {}) = {} vs {}", stake, eng, got, want);
            assert!(got as f64 <= want + 1.0, "never above the real value");
        }
    }

    #[test]
    fn sigmoid_edges_saturate_and_never_panic() {
        let (mp, p, s) = (1_000_000u64, 620_000_000_000_000_000u128, 10_000_000_000_000u128);
        assert_eq!(sigmoid(0, 1_000_000, mp, p, s), 0);
        assert_eq!(sigmoid(1_000_000, 0, mp, p, s), 0);
        assert_eq!(sigmoid(u64::MAX, u64::MAX, mp, p, s), mp);
        assert_eq!(sigmoid(u64::MAX, u64::MAX, u64::MAX, WAD, u128::MAX), u64::MAX);
        assert_eq!(sigmoid(u64::MAX, 1, u64::MAX, 1, 1), sigmoid(u64::MAX, 1, u64::MAX, 1, 1));
        assert_eq!(sigmoid(1, 1, u64::MAX, 1, 1), 0); // x = 1e-18: below resolution
        // monotone in the product
        let mut last = 0;
        for k in 0..40u32 {
            let v = sigmoid(1u64 << k, 1u64 << k, mp, p, s);
            assert!(v >= last);
            last = v;
        }
        assert_eq!(last, mp);
    }

    #[test]
    fn decimals_parse() {
        assert_eq!(parse_decimal_wad("p", "0.62").unwrap(), 620_000_000_000_000_000);
        assert_eq!(parse_decimal_wad("s", "0.00001").unwrap(), 10_000_000_000_000);
        assert_eq!(parse_decimal_wad("s", "3").unwrap(), 3 * WAD);
        assert_eq!(parse_decimal_wad("s", "0.000000000000000001").unwrap(), 1);
        for bad in ["", ".5", "5.", "-1", "1e5", "0.0000000000000000001", "1.2.3", " 1", "abc",
            "999999999999999999999999999999999999999"] {
            assert!(parse_decimal_wad("s", bad).is_err(), "{}", bad);
        }
    }
}
