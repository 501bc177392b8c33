//! The Ed25519 signing key: loaded from the configuration, or generated once for
//! development and kept under `data/` with owner-only permissions.

use std::{fs, io::Write, path::Path};

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use ed25519_dalek::{
    pkcs8::{spki::der::pem::LineEnding, DecodePrivateKey, DecodePublicKey, EncodePrivateKey},
    SigningKey, VerifyingKey,
};
use jsonwebtoken::{DecodingKey, EncodingKey};
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};

use crate::server::platform::config::KeySource;

/// One key pair as the token code needs it.
pub struct SigningKeyPair {
    /// Key id: the first 16 hex digits of SHA-256 of the public key.
    pub kid: String,
    pub encoding: EncodingKey,
    pub decoding: DecodingKey,
    /// The public key, base64url (the JWK `x` member).
    pub public_x: String,
    /// A secret derived from the private key for what only the instances sign
    /// (device cookies): every instance holding the key derives the same one.
    pub derived_secret: [u8; 32],
}

/// Loads (or in development creates) the signing key.
///
/// # Errors
/// A readable message when the key file cannot be read, written or parsed.
pub fn load(source: &KeySource) -> Result<SigningKeyPair, String> {
    let key = match source {
        KeySource::Pem(pem) => parse(pem.expose_secret(), "JWT_PRIVATE_KEY")?,
        KeySource::File(path) => parse(&read(path)?, &path.display().to_string())?,
        KeySource::Generated(path) if path.exists() => {
            parse(&read(path)?, &path.display().to_string())?
        }
        KeySource::Generated(path) => generate_into(path)?,
    };
    pair(&key)
}

/// A key that only verifies: a previous signing key kept during a rotation.
pub struct VerifyingKeyEntry {
    pub kid: String,
    pub decoding: DecodingKey,
    pub public_x: String,
}

impl SigningKeyPair {
    /// The same key as a verify-only entry.
    ///
    /// # Errors
    /// Only if the public key cannot be re-encoded (never for a loaded key).
    pub fn verifier(&self) -> Result<VerifyingKeyEntry, String> {
        verify_only(&self.public_x)
    }
}

/// Loads the keys that still verify tokens after a rotation (`JWT_PREVIOUS_KEY_FILES`):
/// each file holds a PEM public key (`BEGIN PUBLIC KEY`) or a retired private key.
///
/// # Errors
/// A readable message naming a file that cannot be read or parsed.
pub fn load_previous(paths: &[std::path::PathBuf]) -> Result<Vec<VerifyingKeyEntry>, String> {
    paths
        .iter()
        .map(|path| {
            let pem = read(path)?;
            let public = match VerifyingKey::from_public_key_pem(pem.trim()) {
                Ok(public) => public,
                Err(_) => parse(&pem, &path.display().to_string())?.verifying_key(),
            };
            verify_only(&URL_SAFE_NO_PAD.encode(public.to_bytes()))
        })
        .collect()
}

fn verify_only(public_x: &str) -> Result<VerifyingKeyEntry, String> {
    let raw = URL_SAFE_NO_PAD
        .decode(public_x)
        .map_err(|e| format!("public key: {e}"))?;
    Ok(VerifyingKeyEntry {
        kid: kid_of(&raw),
        decoding: DecodingKey::from_ed_components(public_x)
            .map_err(|e| format!("public key: {e}"))?,
        public_x: public_x.to_owned(),
    })
}

fn kid_of(public: &[u8]) -> String {
    Sha256::digest(public)[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn read(path: &Path) -> Result<String, String> {
    fs::read_to_string(path).map_err(|e| format!("cannot read signing key {}: {e}", path.display()))
}

fn parse(pem: &str, origin: &str) -> Result<SigningKey, String> {
    SigningKey::from_pkcs8_pem(pem.trim())
        .map_err(|e| format!("{origin} is not a PKCS#8 PEM Ed25519 private key: {e}"))
}

fn generate_into(path: &Path) -> Result<SigningKey, String> {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| format!("no randomness for a key: {e}"))?;
    let key = SigningKey::from_bytes(&seed);
    let pem = key
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|e| format!("cannot encode the generated key: {e}"))?;
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .map_err(|e| format!("cannot create signing key {}: {e}", path.display()))?;
    file.write_all(pem.as_bytes())
        .map_err(|e| format!("cannot write signing key {}: {e}", path.display()))?;
    tracing::info!(path = %path.display(), "generated a development signing key");
    Ok(key)
}

fn pair(key: &SigningKey) -> Result<SigningKeyPair, String> {
    let pem = key
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|e| format!("cannot encode the signing key: {e}"))?;
    let encoding =
        EncodingKey::from_ed_pem(pem.as_bytes()).map_err(|e| format!("signing key: {e}"))?;
    let public = key.verifying_key().to_bytes();
    let public_x = URL_SAFE_NO_PAD.encode(public);
    let decoding =
        DecodingKey::from_ed_components(&public_x).map_err(|e| format!("public key: {e}"))?;
    let kid = kid_of(&public);
    let derived_secret = Sha256::new()
        .chain_update(b"portcullis derived secret v1\0")
        .chain_update(key.to_bytes())
        .finalize()
        .into();
    Ok(SigningKeyPair {
        kid,
        encoding,
        decoding,
        public_x,
        derived_secret,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_key_is_kept_owner_only_and_reloaded_unchanged() {
        let dir = std::env::temp_dir().join(format!("portcullis-key-{}", uuid::Uuid::new_v4()));
        let path = dir.join("jwt.pem");
        let first = load(&KeySource::Generated(path.clone())).expect("generates");
        let second = load(&KeySource::Generated(path.clone())).expect("reloads");
        assert_eq!(first.kid, second.kid);
        assert_eq!(first.public_x, second.public_x);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).expect("exists").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let _ = fs::remove_dir_all(dir);
    }

    #[test]
    fn a_previous_key_loads_from_its_private_or_public_pem_with_the_same_kid() {
        use ed25519_dalek::pkcs8::EncodePublicKey;
        let dir = std::env::temp_dir().join(format!("portcullis-key-{}", uuid::Uuid::new_v4()));
        let private = dir.join("old.pem");
        let old = load(&KeySource::Generated(private.clone())).expect("generates");
        let signing = SigningKey::from_pkcs8_pem(&read(&private).expect("reads")).expect("parses");
        let public = dir.join("old.pub.pem");
        fs::write(
            &public,
            signing
                .verifying_key()
                .to_public_key_pem(LineEnding::LF)
                .expect("encodes"),
        )
        .expect("writes");
        let keys = load_previous(&[private, public]).expect("loads");
        assert!(keys
            .iter()
            .all(|k| k.kid == old.kid && k.public_x == old.public_x));
        assert!(load_previous(&[dir.join("missing.pem")]).is_err());
        let _ = fs::remove_dir_all(dir);
    }

    #[test]
    fn garbage_key_material_is_refused_with_its_origin() {
        let err = load(&KeySource::Pem("not a key".to_owned().into()))
            .err()
            .expect("refused");
        assert!(err.contains("JWT_PRIVATE_KEY"), "{err}");
    }
}
