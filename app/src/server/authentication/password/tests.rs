//! The hasher: PHC strings both ways, rehash detection, the bounded queue.
use super::*;
use argon2::password_hash::SaltString;

fn cheap() -> PasswordHasher {
    PasswordHasher::new(
        Argon2Params {
            m_cost_kib: 256,
            t_cost: 1,
            p_cost: 1,
        },
        2,
        8,
    )
    .expect("params")
}

#[tokio::test]
async fn a_hash_verifies_its_password_and_nothing_else() {
    let h = cheap();
    let phc = h
        .hash(SecretString::from("correct horse"))
        .await
        .expect("hash");
    assert!(phc.starts_with("$argon2id$v=19$m=256,t=1,p=1$"), "{phc}");
    assert!(h
        .verify(SecretString::from("correct horse"), Some(phc.clone()))
        .await
        .expect("verify"));
    assert!(!h
        .verify(SecretString::from("wrong horse"), Some(phc))
        .await
        .expect("verify"));
}

/// Polls `check` until it holds, for at most 5 s.
async fn eventually(check: impl Fn() -> bool) -> bool {
    for _ in 0..1_000 {
        if check() {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    false
}

/// Holds the only hashing thread until the returned sender is dropped.
fn hold_the_thread(
    h: &PasswordHasher,
) -> (std::sync::mpsc::Sender<()>, tokio::task::JoinHandle<()>) {
    let (release, held) = std::sync::mpsc::channel::<()>();
    let h = h.clone();
    let job = tokio::spawn(async move {
        let _ = h
            .run(move |_| {
                let _ = held.recv();
            })
            .await;
    });
    (release, job)
}

/// Issue #18: callers that went away must not free their place while
/// their job still waits, and their jobs must not be hashed.
#[tokio::test]
async fn abandoned_jobs_keep_their_place_until_skipped_and_are_never_hashed() {
    let h = PasswordHasher::new(
        Argon2Params {
            m_cost_kib: 256,
            t_cost: 1,
            p_cost: 1,
        },
        1,
        8,
    )
    .expect("params");
    let (release, holder) = hold_the_thread(&h);
    assert!(eventually(|| h.load() == 1).await);
    let hashed = Arc::new(AtomicUsize::new(0));
    let mut abandoned = Vec::new();
    for _ in 0..8 {
        let (h, hashed) = (h.clone(), Arc::clone(&hashed));
        abandoned.push(tokio::spawn(async move {
            let _ = h.run(move |_| hashed.fetch_add(1, Ordering::SeqCst)).await;
        }));
    }
    assert!(eventually(|| h.load() == 9).await);
    for job in &abandoned {
        job.abort();
    }
    for job in abandoned {
        let _ = job.await;
    }
    // Their callers are gone, but their jobs still wait: the queue is full.
    assert_eq!(h.load(), 9);
    assert_eq!(
        h.verify("x".to_owned().into(), None).await,
        Err(AuthError::Busy),
        "an abandoned job gave its place back before it left the queue"
    );
    drop(release);
    holder.await.expect("holder");
    // The abandoned jobs leave the queue, skipped, and a real one runs.
    assert!(eventually(|| h.load() == 0).await, "load {}", h.load());
    let phc = h
        .hash("correct horse".to_owned().into())
        .await
        .expect("hash");
    assert!(phc.starts_with("$argon2id$"));
    assert_eq!(
        hashed.load(Ordering::SeqCst),
        0,
        "an abandoned job was hashed"
    );
    assert_eq!(h.load(), 0);
}

#[tokio::test]
async fn an_unknown_user_never_verifies_even_with_the_dummy_password() {
    let h = cheap();
    assert!(!h
        .verify(SecretString::from("anything"), None)
        .await
        .expect("verify"));
}

#[test]
fn hashes_are_standard_phc_strings_both_ways() {
    use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
    let argon = Argon2::new(
        Algorithm::Argon2id,
        Version::V0x13,
        Params::new(256, 1, 1, None).expect("params"),
    );
    let mut memory = Memory::default();
    // Ours verifies with the argon2 crate's own verifier...
    let ours = hash_with(&argon, "correct horse", &mut memory).expect("hash");
    let parsed = PasswordHash::new(&ours).expect("PHC");
    assert!(argon.verify_password(b"correct horse", &parsed).is_ok());
    assert!(argon.verify_password(b"correct horsf", &parsed).is_err());
    // ...and a hash the crate made (as stored before) verifies with ours,
    // even with other parameters than today's.
    let salt = SaltString::encode_b64(b"sixteen byte slt").expect("salt");
    let older = Argon2::new(
        Algorithm::Argon2id,
        Version::V0x13,
        Params::new(512, 2, 1, None).expect("params"),
    );
    let theirs = older
        .hash_password(b"battery staple", &salt)
        .expect("hash")
        .to_string();
    assert!(verify_with(&theirs, "battery staple", &mut memory));
    assert!(!verify_with(&theirs, "battery stapl", &mut memory));
    assert!(!verify_with(
        "not a phc string",
        "battery staple",
        &mut memory
    ));
}

#[tokio::test]
async fn hashes_made_with_other_parameters_need_a_rehash() {
    let h = cheap();
    let today = h
        .hash("correct horse".to_owned().into())
        .await
        .expect("hash");
    assert!(!h.needs_rehash(&today));
    let older = PasswordHasher::new(
        Argon2Params {
            m_cost_kib: 512,
            t_cost: 2,
            p_cost: 1,
        },
        1,
        1,
    )
    .expect("params");
    let old = older
        .hash("correct horse".to_owned().into())
        .await
        .expect("hash");
    assert!(h.needs_rehash(&old));
    assert!(h.needs_rehash("garbage"));
    assert!(h
        .verify("correct horse".to_owned().into(), Some(old))
        .await
        .expect("verify"));
}

#[test]
fn the_default_parameters_are_owasps_argon2id() {
    let h = PasswordHasher::new(
        Argon2Params {
            m_cost_kib: 9_216,
            t_cost: 4,
            p_cost: 1,
        },
        1,
        1,
    )
    .expect("params");
    assert!(
        h.dummy_hash.starts_with("$argon2id$v=19$m=9216,t=4,p=1$"),
        "{}",
        h.dummy_hash
    );
}
