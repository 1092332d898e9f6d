//! The host functions of module "env" (CosmWasm 2.x signatures; every u32 argument is a
//! Region pointer unless named otherwise) and the Storage/Api/Querier implementations
//! that call them. Only compiled for wasm32; natively use `testing`.

#[cfg(target_arch = "wasm32")]
pub use self::wasm::*;

#[cfg(target_arch = "wasm32")]
mod wasm {
    use serde_json::json;

    use crate::binary::Binary;
    use crate::deps::{Api, Order, Querier, Record, Storage};
    use crate::errors::{StdError, StdResult, VerificationError};
    use crate::memory::{
        alloc_region, build_region, consume_region, decode_sections, encode_sections, region_ptr,
        Region,
    };
    use crate::query::{SystemError, SystemResult};
    use crate::results::ContractResult;
    use crate::types::Addr;

    /// Longest human address the host accepts (bytes).
    const MAX_LENGTH_HUMAN_ADDRESS: usize = 256;
    /// Buffer the host writes a canonical address into.
    const CANONICAL_ADDRESS_BUFFER_LENGTH: usize = 64;
    /// Buffer the host writes a human address into.
    const HUMAN_ADDRESS_BUFFER_LENGTH: usize = 90;

    #[link(wasm_import_module = "env")]
    extern "C" {
        /// Returns 0 when the key is missing, else a region (allocated via `allocate`).
        pub fn db_read(key: u32) -> u32;
        pub fn db_write(key: u32, value: u32);
        pub fn db_remove(key: u32);
        /// start/end may be 0 (unbounded); end is exclusive; order 1 = ascending,
        /// 2 = descending. Returns an iterator id.
        pub fn db_scan(start_ptr: u32, end_ptr: u32, order: i32) -> u32;
        /// Region holding `key ‖ u32be(len) ‖ value ‖ u32be(len)`; an empty key means done.
        pub fn db_next(iterator_id: u32) -> u32;
        /// Region with the next key, 0 when done.
        pub fn db_next_key(iterator_id: u32) -> u32;
        /// Region with the next value, 0 when done.
        pub fn db_next_value(iterator_id: u32) -> u32;

        /// 0 when valid, else a region with the error message.
        pub fn addr_validate(source_ptr: u32) -> u32;
        /// Writes into `destination_ptr`; 0 on success, else an error region.
        pub fn addr_canonicalize(source_ptr: u32, destination_ptr: u32) -> u32;
        pub fn addr_humanize(source_ptr: u32, destination_ptr: u32) -> u32;

        pub fn bls12_381_aggregate_g1(g1s_ptr: u32, out_ptr: u32) -> u32;
        pub fn bls12_381_aggregate_g2(g2s_ptr: u32, out_ptr: u32) -> u32;
        pub fn bls12_381_pairing_equality(ps_ptr: u32, qs_ptr: u32, r_ptr: u32, s_ptr: u32) -> u32;
        pub fn bls12_381_hash_to_g1(hash_function: u32, msg_ptr: u32, dst_ptr: u32, out_ptr: u32) -> u32;
        pub fn bls12_381_hash_to_g2(hash_function: u32, msg_ptr: u32, dst_ptr: u32, out_ptr: u32) -> u32;

        /// 0 = valid, 1 = invalid, anything else an error code.
        pub fn secp256k1_verify(message_hash_ptr: u32, signature_ptr: u32, public_key_ptr: u32) -> u32;
        /// Low 32 bits: region of the public key; high 32 bits: error code (0 = ok).
        pub fn secp256k1_recover_pubkey(message_hash_ptr: u32, signature_ptr: u32, recovery_param: u32) -> u64;
        pub fn secp256r1_verify(message_hash_ptr: u32, signature_ptr: u32, public_key_ptr: u32) -> u32;
        pub fn secp256r1_recover_pubkey(message_hash_ptr: u32, signature_ptr: u32, recovery_param: u32) -> u64;
        pub fn ed25519_verify(message_ptr: u32, signature_ptr: u32, public_key_ptr: u32) -> u32;
        /// Each argument is a section-encoded list.
        pub fn ed25519_batch_verify(messages_ptr: u32, signatures_ptr: u32, public_keys_ptr: u32) -> u32;

        pub fn debug(source_ptr: u32);
        /// Ends the call with "aborted: <message>".
        pub fn abort(source_ptr: u32);

        /// JSON QueryRequest in, JSON SystemResult<ContractResult<Binary>> out.
        pub fn query_chain(request: u32) -> u32;
    }

    /// Storage backed by db_read/db_write/db_remove/db_scan.
    #[derive(Default)]
    pub struct ExternalStorage;

    impl Storage for ExternalStorage {
        fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
            let key_region = build_region(key);
            let result = unsafe { db_read(region_ptr(&key_region)) };
            if result == 0 {
                return None;
            }
            Some(unsafe { consume_region(result as *mut Region) })
        }

        fn set(&mut self, key: &[u8], value: &[u8]) {
            let key_region = build_region(key);
            let value_region = build_region(value);
            unsafe { db_write(region_ptr(&key_region), region_ptr(&value_region)) };
        }

        fn remove(&mut self, key: &[u8]) {
            let key_region = build_region(key);
            unsafe { db_remove(region_ptr(&key_region)) };
        }

        fn range<'a>(
            &'a self,
            start: Option<&[u8]>,
            end: Option<&[u8]>,
            order: Order,
        ) -> Box<dyn Iterator<Item = Record> + 'a> {
            Box::new(ExternalRecords { iterator_id: scan(start, end, order) })
        }

        fn range_keys<'a>(
            &'a self,
            start: Option<&[u8]>,
            end: Option<&[u8]>,
            order: Order,
        ) -> Box<dyn Iterator<Item = Vec<u8>> + 'a> {
            Box::new(ExternalHalves { iterator_id: scan(start, end, order), next: db_next_key })
        }

        fn range_values<'a>(
            &'a self,
            start: Option<&[u8]>,
            end: Option<&[u8]>,
            order: Order,
        ) -> Box<dyn Iterator<Item = Vec<u8>> + 'a> {
            Box::new(ExternalHalves { iterator_id: scan(start, end, order), next: db_next_value })
        }
    }

    /// Opens a host iterator and returns its id.
    pub fn scan(start: Option<&[u8]>, end: Option<&[u8]>, order: Order) -> u32 {
        let start_region = start.map(build_region);
        let end_region = end.map(build_region);
        let start_ptr = start_region.as_ref().map(|r| region_ptr(r)).unwrap_or(0);
        let end_ptr = end_region.as_ref().map(|r| region_ptr(r)).unwrap_or(0);
        unsafe { db_scan(start_ptr, end_ptr, order as i32) }
    }

    /// Key/value pairs from db_next.
    pub struct ExternalRecords {
        pub iterator_id: u32,
    }

    impl Iterator for ExternalRecords {
        type Item = Record;

        fn next(&mut self) -> Option<Record> {
            let result = unsafe { db_next(self.iterator_id) };
            if result == 0 {
                return None;
            }
            let data = unsafe { consume_region(result as *mut Region) };
            let mut sections = decode_sections(&data).expect("db_next returned malformed sections");
            if sections.len() != 2 {
                panic!("db_next returned {} sections instead of 2", sections.len());
            }
            let value = sections.pop().unwrap_or_default();
            let key = sections.pop().unwrap_or_default();
            if key.is_empty() {
                None
            } else {
                Some((key, value))
            }
        }
    }

    /// Keys or values alone, from db_next_key / db_next_value.
    struct ExternalHalves {
        iterator_id: u32,
        next: unsafe extern "C" fn(u32) -> u32,
    }

    impl Iterator for ExternalHalves {
        type Item = Vec<u8>;

        fn next(&mut self) -> Option<Vec<u8>> {
            let result = unsafe { (self.next)(self.iterator_id) };
            if result == 0 {
                return None;
            }
            Some(unsafe { consume_region(result as *mut Region) })
        }
    }

    /// Api backed by the address and crypto imports.
    #[derive(Default)]
    pub struct ExternalApi;

    fn verification_result(code: u32) -> Result<bool, VerificationError> {
        match code {
            0 => Ok(true),
            1 => Ok(false),
            other => Err(VerificationError::from_code(other)),
        }
    }

    fn recovery_result(result: u64) -> Result<Vec<u8>, VerificationError> {
        let error_code = (result >> 32) as u32;
        let pubkey_ptr = (result & 0xFFFF_FFFF) as u32;
        if error_code != 0 {
            return Err(VerificationError::from_code(error_code));
        }
        Ok(unsafe { consume_region(pubkey_ptr as *mut Region) })
    }

    /// Reads an error message the host wrote into a region it allocated.
    fn consume_error_message(ptr: u32) -> String {
        let bytes = unsafe { consume_region(ptr as *mut Region) };
        String::from_utf8_lossy(&bytes).into_owned()
    }

    impl Api for ExternalApi {
        fn addr_validate(&self, human: &str) -> StdResult<Addr> {
            if human.len() > MAX_LENGTH_HUMAN_ADDRESS {
                return Err(StdError::generic_err("input too long for addr_validate"));
            }
            let source = build_region(human.as_bytes());
            let result = unsafe { addr_validate(region_ptr(&source)) };
            if result != 0 {
                let error = consume_error_message(result);
                return Err(StdError::generic_err(format!("addr_validate errored: {}", error)));
            }
            Ok(Addr::unchecked(human))
        }

        fn addr_canonicalize(&self, human: &str) -> StdResult<Binary> {
            if human.len() > MAX_LENGTH_HUMAN_ADDRESS {
                return Err(StdError::generic_err("input too long for addr_canonicalize"));
            }
            let source = build_region(human.as_bytes());
            let destination = alloc_region(CANONICAL_ADDRESS_BUFFER_LENGTH);
            let result = unsafe { addr_canonicalize(region_ptr(&source), destination as u32) };
            if result != 0 {
                unsafe { drop(consume_region(destination)) };
                let error = consume_error_message(result);
                return Err(StdError::generic_err(format!("addr_canonicalize errored: {}", error)));
            }
            Ok(Binary(unsafe { consume_region(destination) }))
        }

        fn addr_humanize(&self, canonical: &[u8]) -> StdResult<Addr> {
            let source = build_region(canonical);
            let destination = alloc_region(HUMAN_ADDRESS_BUFFER_LENGTH);
            let result = unsafe { addr_humanize(region_ptr(&source), destination as u32) };
            if result != 0 {
                unsafe { drop(consume_region(destination)) };
                let error = consume_error_message(result);
                return Err(StdError::generic_err(format!("addr_humanize errored: {}", error)));
            }
            let bytes = unsafe { consume_region(destination) };
            Ok(Addr::unchecked(String::from_utf8(bytes)?))
        }

        fn secp256k1_verify(&self, message_hash: &[u8], signature: &[u8], public_key: &[u8])
            -> Result<bool, VerificationError> {
            let (h, s, p) = (build_region(message_hash), build_region(signature), build_region(public_key));
            verification_result(unsafe { secp256k1_verify(region_ptr(&h), region_ptr(&s), region_ptr(&p)) })
        }

        fn secp256k1_recover_pubkey(&self, message_hash: &[u8], signature: &[u8], recovery_param: u8)
            -> Result<Vec<u8>, VerificationError> {
            let (h, s) = (build_region(message_hash), build_region(signature));
            recovery_result(unsafe {
                secp256k1_recover_pubkey(region_ptr(&h), region_ptr(&s), recovery_param as u32)
            })
        }

        fn secp256r1_verify(&self, message_hash: &[u8], signature: &[u8], public_key: &[u8])
            -> Result<bool, VerificationError> {
            let (h, s, p) = (build_region(message_hash), build_region(signature), build_region(public_key));
            verification_result(unsafe { secp256r1_verify(region_ptr(&h), region_ptr(&s), region_ptr(&p)) })
        }

        fn secp256r1_recover_pubkey(&self, message_hash: &[u8], signature: &[u8], recovery_param: u8)
            -> Result<Vec<u8>, VerificationError> {
            let (h, s) = (build_region(message_hash), build_region(signature));
            recovery_result(unsafe {
                secp256r1_recover_pubkey(region_ptr(&h), region_ptr(&s), recovery_param as u32)
            })
        }

        fn ed25519_verify(&self, message: &[u8], signature: &[u8], public_key: &[u8])
            -> Result<bool, VerificationError> {
            let (m, s, p) = (build_region(message), build_region(signature), build_region(public_key));
            verification_result(unsafe { ed25519_verify(region_ptr(&m), region_ptr(&s), region_ptr(&p)) })
        }

        fn ed25519_batch_verify(&self, messages: &[&[u8]], signatures: &[&[u8]], public_keys: &[&[u8]])
            -> Result<bool, VerificationError> {
            let messages = encode_sections(messages);
            let signatures = encode_sections(signatures);
            let public_keys = encode_sections(public_keys);
            let (m, s, p) = (build_region(&messages), build_region(&signatures), build_region(&public_keys));
            verification_result(unsafe {
                ed25519_batch_verify(region_ptr(&m), region_ptr(&s), region_ptr(&p))
            })
        }

        fn debug(&self, message: &str) {
            let region = build_region(message.as_bytes());
            unsafe { debug(region_ptr(&region)) };
        }
    }

    /// Querier backed by query_chain.
    #[derive(Default)]
    pub struct ExternalQuerier;

    impl Querier for ExternalQuerier {
        fn raw_query(&self, request: &[u8]) -> SystemResult<ContractResult<Binary>> {
            let response = query_chain_bytes(request);
            serde_json::from_slice(&response).unwrap_or_else(|err| {
                SystemResult::Err(SystemError(json!({
                    "invalid_response": {
                        "error": format!("Parsing the query response: {}", err),
                        "response": Binary(response).to_base64(),
                    }
                })))
            })
        }
    }

    /// Calls query_chain with raw request bytes and returns the raw answer bytes.
    pub fn query_chain_bytes(request: &[u8]) -> Vec<u8> {
        let region = build_region(request);
        let response = unsafe { query_chain(region_ptr(&region)) };
        unsafe { consume_region(response as *mut Region) }
    }

    /// Calls the abort import: the call fails with "aborted: <message>".
    pub fn abort_with(message: &str) {
        let region = build_region(message.as_bytes());
        unsafe { abort(region_ptr(&region)) };
    }
}
