//! Is 32 bytes a usable ed25519 public key? The encoding must be canonical (y < p), decode to
//! a point on the curve (x^2 = (y^2 - 1) / (d y^2 + 1) has a root; x = 0 only with the sign bit
//! clear) and not be one of the 8 small-order points. Field arithmetic mod p = 2^255 - 19 in
//! five 51-bit limbs; the root test is Euler's criterion (u v)^((p-1)/2) == 1.

const MASK: u64 = (1 << 51) - 1;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Fe([u64; 5]);

/// d = -121665/121666 mod p.
const D: Fe = Fe([929_955_233_495_203, 466_365_720_129_213, 1_662_059_464_998_953, 2_033_849_074_728_123, 1_442_794_654_840_575]);
const ONE: Fe = Fe([1, 0, 0, 0, 0]);
/// (p - 1) / 2, little-endian.
const HALF_P_MINUS_1: [u8; 32] = [
    0xf6, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x3f,
];

/// The y encodings (sign bit cleared) of the small-order points: 0, 1, p - 1, and ±y of the
/// order-8 points.
const SMALL_ORDER_Y: [[u8; 32]; 5] = [
    [0; 32],
    [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    [
        0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f,
    ],
    [
        0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10, 0x67, 0x0f,
        0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac, 0x03, 0x7a,
    ],
    [
        0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4, 0x89, 0xf2, 0xef, 0x98, 0xf0,
        0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6, 0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53, 0xfc, 0x05,
    ],
];

fn load8(b: &[u8]) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[..8]);
    u64::from_le_bytes(w)
}

impl Fe {
    /// The low 255 bits of `b` (little-endian).
    fn from_bytes(b: &[u8; 32]) -> Fe {
        let (w0, w1, w2) = (load8(&b[0..]), load8(&b[8..]), load8(&b[16..]));
        let w3 = load8(&b[24..]) & 0x7fff_ffff_ffff_ffff;
        Fe([
            w0 & MASK,
            ((w0 >> 51) | (w1 << 13)) & MASK,
            ((w1 >> 38) | (w2 << 26)) & MASK,
            ((w2 >> 25) | (w3 << 39)) & MASK,
            (w3 >> 12) & MASK,
        ])
    }

    fn carry(mut l: [u128; 5]) -> Fe {
        for i in 0..4 {
            l[i + 1] += l[i] >> 51;
            l[i] &= MASK as u128;
        }
        l[0] += 19 * (l[4] >> 51);
        l[4] &= MASK as u128;
        l[1] += l[0] >> 51;
        l[0] &= MASK as u128;
        Fe([l[0] as u64, l[1] as u64, l[2] as u64, l[3] as u64, l[4] as u64])
    }

    fn add(&self, o: &Fe) -> Fe {
        let mut l = [0u128; 5];
        for (i, limb) in l.iter_mut().enumerate() {
            *limb = (self.0[i] + o.0[i]) as u128;
        }
        Fe::carry(l)
    }

    /// self - o, computed as self + 2p - o (limbs of o are below 2^52).
    fn sub(&self, o: &Fe) -> Fe {
        let two_p = [0xf_ffff_ffff_ffdau64, 0xf_ffff_ffff_fffe, 0xf_ffff_ffff_fffe, 0xf_ffff_ffff_fffe, 0xf_ffff_ffff_fffe];
        let mut l = [0u128; 5];
        for (i, limb) in l.iter_mut().enumerate() {
            *limb = (self.0[i] + two_p[i] - o.0[i]) as u128;
        }
        Fe::carry(l)
    }

    fn mul(&self, o: &Fe) -> Fe {
        let a = self.0.map(|x| x as u128);
        let b = o.0.map(|x| x as u128);
        let r0 = a[0] * b[0] + 19 * (a[1] * b[4] + a[2] * b[3] + a[3] * b[2] + a[4] * b[1]);
        let r1 = a[0] * b[1] + a[1] * b[0] + 19 * (a[2] * b[4] + a[3] * b[3] + a[4] * b[2]);
        let r2 = a[0] * b[2] + a[1] * b[1] + a[2] * b[0] + 19 * (a[3] * b[4] + a[4] * b[3]);
        let r3 = a[0] * b[3] + a[1] * b[2] + a[2] * b[1] + a[3] * b[0] + 19 * (a[4] * b[4]);
        let r4 = a[0] * b[4] + a[1] * b[3] + a[2] * b[2] + a[3] * b[1] + a[4] * b[0];
        Fe::carry([r0, r1, r2, r3, r4])
    }

    /// self^e for a little-endian exponent.
    fn pow(&self, e: &[u8; 32]) -> Fe {
        let mut result = ONE;
        for byte in e.iter().rev() {
            for bit in (0..8).rev() {
                result = result.mul(&result);
                if (byte >> bit) & 1 == 1 {
                    result = result.mul(self);
                }
            }
        }
        result
    }

    /// The unique representative in [0, p).
    fn reduced(&self) -> [u64; 5] {
        let mut l = Fe::carry(self.0.map(|x| x as u128)).0;
        // q = 1 iff l >= p
        let mut q = (l[0] + 19) >> 51;
        for limb in l.iter().skip(1) {
            q = (limb + q) >> 51;
        }
        l[0] += 19 * q;
        for i in 0..4 {
            l[i + 1] += l[i] >> 51;
            l[i] &= MASK;
        }
        l[4] &= MASK;
        l
    }

    fn is_zero(&self) -> bool {
        self.reduced() == [0; 5]
    }
}

/// Why a key was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyProblem {
    WrongLength(usize),
    NotCanonical,
    NotOnCurve,
    SmallOrder,
}

/// Accepts the 32-byte encoding of an ed25519 point of large order.
pub fn check_public_key(bytes: &[u8]) -> Result<(), KeyProblem> {
    if bytes.len() != 32 {
        return Err(KeyProblem::WrongLength(bytes.len()));
    }
    let mut key = [0u8; 32];
    key.copy_from_slice(bytes);
    let sign = key[31] >> 7;
    let mut y_bytes = key;
    y_bytes[31] &= 0x7f;
    // y >= p only for 2^255 - 19 ..= 2^255 - 1: ed ff .. ff 7f and above
    if y_bytes[31] == 0x7f && y_bytes[1..31].iter().all(|b| *b == 0xff) && y_bytes[0] >= 0xed {
        return Err(KeyProblem::NotCanonical);
    }
    if SMALL_ORDER_Y.contains(&y_bytes) {
        return Err(KeyProblem::SmallOrder);
    }
    let y = Fe::from_bytes(&y_bytes);
    let y2 = y.mul(&y);
    let u = y2.sub(&ONE);
    let v = D.mul(&y2).add(&ONE);
    if u.is_zero() {
        // x = 0 (y = ±1, both of small order and refused above); the sign must be clear
        return if sign == 0 { Ok(()) } else { Err(KeyProblem::NotOnCurve) };
    }
    let chi = u.mul(&v).pow(&HALF_P_MINUS_1);
    if chi.reduced() == ONE.0 {
        Ok(())
    } else {
        Err(KeyProblem::NotOnCurve)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
    }

    #[test]
    fn accepts_real_keys() {
        // RFC 8032 test vectors 1-3 and the base point
        for key in [
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
            "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
            "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
            "5866666666666666666666666666666666666666666666666666666666666666",
        ] {
            assert_eq!(check_public_key(&hex(key)), Ok(()), "{}", key);
        }
    }

    #[test]
    fn refuses_garbage() {
        assert_eq!(check_public_key(&[1; 31]), Err(KeyProblem::WrongLength(31)));
        assert_eq!(check_public_key(&[1; 33]), Err(KeyProblem::WrongLength(33)));
        let off_curve = hex("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d");
        assert_eq!(check_public_key(&off_curve), Err(KeyProblem::NotOnCurve));
        assert_eq!(check_public_key(&[0xff; 32]), Err(KeyProblem::NotCanonical));
        assert_eq!(check_public_key(&[0; 32]), Err(KeyProblem::SmallOrder));
        let mut identity = [0u8; 32];
        identity[0] = 1;
        assert_eq!(check_public_key(&identity), Err(KeyProblem::SmallOrder));
    }

    #[test]
    fn field_arithmetic() {
        let two = ONE.add(&ONE);
        assert!(two.sub(&two).is_zero());
        assert!(!two.is_zero());
        // p - 1 = -1 squares to 1
        let minus_one = Fe([0; 5]).sub(&ONE);
        assert_eq!(minus_one.mul(&minus_one).reduced(), ONE.0);
        // Fermat: a^(p-1) = 1, via (a^((p-1)/2))^2
        let a = Fe([12345, 6789, 1, 0, 99]);
        let half = a.pow(&HALF_P_MINUS_1);
        assert_eq!(half.mul(&half).reduced(), ONE.0);
    }
}
