//! Regions: how bytes cross the wasm boundary. A Region is a 12-byte struct in guest
//! memory describing a buffer; every pointer passed to or from the host is the address
//! of a Region. Only meaningful on wasm32, where pointers are 32 bits.

/// `#[repr(C)] {offset, capacity, length}`, little-endian u32s, as cosmwasm-vm reads it.
#[repr(C)]
#[derive(Debug)]
pub struct Region {
    /// Address of the first byte of the buffer.
    pub offset: u32,
    /// Bytes the buffer can hold.
    pub capacity: u32,
    /// Bytes in use.
    pub length: u32,
}

#[cfg(target_arch = "wasm32")]
mod wasm {
    use super::Region;
    use std::mem;

    /// A fresh region with `size` bytes of capacity and length 0 (what `allocate` returns).
    pub fn alloc_region(size: usize) -> *mut Region {
        let buffer: Vec<u8> = Vec::with_capacity(size);
        release_buffer(buffer)
    }

    /// Hands a Vec to the host as a region. The host (or `consume_region`) frees it.
    pub fn release_buffer(buffer: Vec<u8>) -> *mut Region {
        let mut buffer = mem::ManuallyDrop::new(buffer);
        let region = Box::new(Region {
            offset: buffer.as_mut_ptr() as u32,
            capacity: buffer.capacity() as u32,
            length: buffer.len() as u32,
        });
        Box::into_raw(region)
    }

    /// Takes back ownership of a region and its buffer, returning the bytes in use.
    ///
    /// # Safety
    /// `ptr` must come from `release_buffer`/`allocate` (directly or via the host) and
    /// must not be used afterwards.
    pub unsafe fn consume_region(ptr: *mut Region) -> Vec<u8> {
        assert!(!ptr.is_null(), "Region pointer is null");
        let region = Box::from_raw(ptr);
        let offset = region.offset as *mut u8;
        assert!(!offset.is_null(), "Region starts at null pointer");
        assert!(region.length <= region.capacity, "Region length exceeds capacity");
        Vec::from_raw_parts(offset, region.length as usize, region.capacity as usize)
    }

    /// A region viewing `data` without owning it, for arguments the host only reads.
    /// Keep the Box (and `data`) alive until the import returns.
    pub fn build_region(data: &[u8]) -> Box<Region> {
        Box::new(Region {
            offset: data.as_ptr() as u32,
            capacity: data.len() as u32,
            length: data.len() as u32,
        })
    }

    /// The address to pass for a Box<Region>.
    pub fn region_ptr(region: &Region) -> u32 {
        region as *const Region as u32
    }
}

#[cfg(target_arch = "wasm32")]
pub use wasm::{alloc_region, build_region, consume_region, region_ptr, release_buffer};

/// `section₁ ‖ u32be(len₁) ‖ section₂ ‖ u32be(len₂) …`: how lists of byte strings cross
/// the boundary (ed25519_batch_verify arguments, db_next answers).
pub fn encode_sections(sections: &[&[u8]]) -> Vec<u8> {
    let total: usize = sections.iter().map(|s| s.len() + 4).sum();
    let mut out = Vec::with_capacity(total);
    for section in sections {
        out.extend_from_slice(section);
        out.extend_from_slice(&(section.len() as u32).to_be_bytes());
    }
    out
}

/// Splits section-encoded bytes back into their sections (reading from the end).
/// Returns None when the lengths do not add up.
pub fn decode_sections(data: &[u8]) -> Option<Vec<Vec<u8>>> {
    let mut sections = Vec::new();
    let mut end = data.len();
    while end > 0 {
        if end < 4 {
            return None;
        }
        let mut len_bytes = [0u8; 4];
        len_bytes.copy_from_slice(&data[end - 4..end]);
        let len = u32::from_be_bytes(len_bytes) as usize;
        let body_end = end - 4;
        if len > body_end {
            return None;
        }
        sections.push(data[body_end - len..body_end].to_vec());
        end = body_end - len;
    }
    sections.reverse();
    Some(sections)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_round_trip() {
        let encoded = encode_sections(&[b"key", b"", b"value"]);
        assert_eq!(encoded, b"key\0\0\0\x03\0\0\0\0value\0\0\0\x05".to_vec());
        assert_eq!(
            decode_sections(&encoded).unwrap(),
            vec![b"key".to_vec(), vec![], b"value".to_vec()]
        );
        assert_eq!(decode_sections(b"").unwrap(), Vec::<Vec<u8>>::new());
        assert!(decode_sections(b"\0\0\0\x09ab").is_none());
    }
}
