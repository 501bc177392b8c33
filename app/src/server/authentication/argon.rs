//! The argon2id primitives the hashing pool runs: hashing into and verifying
//! with a thread's reused memory (see `password` for why it is reused).

use argon2::{
    password_hash::{Output, ParamsString, PasswordHash, SaltString},
    Algorithm, Argon2, Block, Params, Version,
};

/// A hashing thread's argon2 memory: allocated by its first hash, then reused.
#[derive(Default)]
pub struct Memory(Vec<Block>);

impl Memory {
    pub fn blocks(&mut self, count: usize) -> &mut [Block] {
        if self.0.len() != count {
            // Sized for today's parameters; a hash made with bigger ones (before
            // a change, until its user signs in again) borrows the size once.
            self.0 = vec![Block::default(); count];
        }
        &mut self.0[..count]
    }
}

/// Hashes `password` with a fresh salt into a PHC string, in `memory`.
pub fn hash_with(argon: &Argon2<'_>, password: &str, memory: &mut Memory) -> Result<String, ()> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|_| ())?;
    let salt_b64 = SaltString::encode_b64(&salt).map_err(|_| ())?;
    let params = argon.params();
    let output = Output::init_with(Params::DEFAULT_OUTPUT_LEN, |out| {
        argon
            .hash_password_into_with_memory(
                password.as_bytes(),
                &salt,
                out,
                memory.blocks(params.block_count()),
            )
            .map_err(|_| argon2::password_hash::Error::Crypto)
    })
    .map_err(|_| ())?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(params).map_err(|_| ())?,
        salt: Some(salt_b64.as_salt()),
        hash: Some(output),
    };
    Ok(phc.to_string())
}

/// Checks `password` against a stored PHC string (with the parameters it was
/// made with, which may be older than today's), in `memory`. The final
/// comparison is constant-time (`Output`'s equality).
pub fn verify_with(phc: &str, password: &str, memory: &mut Memory) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    let (Ok(algorithm), Ok(params), Some(salt), Some(expected)) = (
        Algorithm::try_from(parsed.algorithm),
        Params::try_from(&parsed),
        parsed.salt,
        parsed.hash,
    ) else {
        return false;
    };
    let version = match parsed.version.map(Version::try_from) {
        None => Version::V0x13,
        Some(Ok(v)) => v,
        Some(Err(_)) => return false,
    };
    let mut salt_buf = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_buf) else {
        return false;
    };
    let blocks = params.block_count();
    let argon = Argon2::new(algorithm, version, params);
    let mut out = vec![0u8; expected.len()];
    argon
        .hash_password_into_with_memory(password.as_bytes(), salt, &mut out, memory.blocks(blocks))
        .is_ok()
        && Output::new(&out).is_ok_and(|computed| computed == expected)
}

pub fn random_password() -> String {
    let mut bytes = [0u8; 24];
    // If the OS RNG fails the dummy still works: its only job is to cost the same time.
    let _ = getrandom::fill(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
