//! Uint128 and Uint64: integers serialised as decimal strings, as cosmwasm-std does
//! (JSON numbers lose precision above 2^53 in many clients).

use std::fmt;
use std::ops::{Add, AddAssign, Sub, SubAssign};
use std::str::FromStr;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use crate::errors::{StdError, StdResult};

macro_rules! decimal_string_uint {
    ($name:ident, $inner:ty, $label:expr) => {
        #[doc = concat!("A ", $label, " serialised as a decimal string.")]
        #[derive(Copy, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub $inner);

        impl $name {
            pub const MAX: $name = $name(<$inner>::MAX);

            pub const fn new(value: $inner) -> Self {
                $name(value)
            }

            pub const fn zero() -> Self {
                $name(0)
            }

            pub fn is_zero(&self) -> bool {
                self.0 == 0
            }

            pub fn checked_add(self, other: Self) -> StdResult<Self> {
                self.0
                    .checked_add(other.0)
                    .map($name)
                    .ok_or_else(|| StdError::overflow(format!("{} + {}", self, other)))
            }

            pub fn checked_sub(self, other: Self) -> StdResult<Self> {
                self.0
                    .checked_sub(other.0)
                    .map($name)
                    .ok_or_else(|| StdError::overflow(format!("{} - {}", self, other)))
            }

            pub fn checked_mul(self, other: Self) -> StdResult<Self> {
                self.0
                    .checked_mul(other.0)
                    .map($name)
                    .ok_or_else(|| StdError::overflow(format!("{} * {}", self, other)))
            }

            pub fn saturating_sub(self, other: Self) -> Self {
                $name(self.0.saturating_sub(other.0))
            }
        }

        impl From<$inner> for $name {
            fn from(value: $inner) -> Self {
                $name(value)
            }
        }

        impl From<$name> for $inner {
            fn from(value: $name) -> $inner {
                value.0
            }
        }

        impl FromStr for $name {
            type Err = StdError;
            fn from_str(s: &str) -> StdResult<Self> {
                s.parse::<$inner>()
                    .map($name)
                    .map_err(|e| StdError::generic_err(format!("Parsing {}: {}", $label, e)))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }

        /// Panics on overflow, like the integer it wraps in a build with overflow checks.
        impl Add for $name {
            type Output = Self;
            fn add(self, other: Self) -> Self {
                self.checked_add(other).expect("attempt to add with overflow")
            }
        }

        impl AddAssign for $name {
            fn add_assign(&mut self, other: Self) {
                *self = *self + other;
            }
        }

        /// Panics on underflow.
        impl Sub for $name {
            type Output = Self;
            fn sub(self, other: Self) -> Self {
                self.checked_sub(other).expect("attempt to subtract with overflow")
            }
        }

        impl SubAssign for $name {
            fn sub_assign(&mut self, other: Self) {
                *self = *self - other;
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.0.to_string())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct DecimalVisitor;
                impl<'de> Visitor<'de> for DecimalVisitor {
                    type Value = $name;
                    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                        write!(f, "a string-encoded {}", $label)
                    }
                    fn visit_str<E: de::Error>(self, v: &str) -> Result<$name, E> {
                        v.parse::<$inner>()
                            .map($name)
                            .map_err(|e| E::custom(format!("invalid {} '{}': {}", $label, v, e)))
                    }
                }
                deserializer.deserialize_str(DecimalVisitor)
            }
        }
    };
}

decimal_string_uint!(Uint128, u128, "Uint128");
decimal_string_uint!(Uint64, u64, "Uint64");

impl Uint128 {
    pub const fn u128(&self) -> u128 {
        self.0
    }
}

impl Uint64 {
    pub const fn u64(&self) -> u64 {
        self.0
    }
}
