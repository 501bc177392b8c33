//! The live password-strength estimate on the register and account forms.
//!
//! The server's check (zxcvbn, with its full dictionaries) decides; shipping
//! those dictionaries to the browser would triple the WASM bundle. This
//! estimate is a small cousin: it counts the guesses a pattern-aware attacker
//! would need, knowing the most common passwords, keyboard runs, repeats and
//! the username, so what it calls "Good" the server accepts in practice.

use leptos::prelude::*;

/// Passwords people pick first; a password that is one of these (ignoring case
/// and trailing digits or symbols) is too weak whatever its length.
const COMMON: &[&str] = &[
    "password",
    "passwort",
    "motdepasse",
    "qwerty",
    "qwertyuiop",
    "azerty",
    "letmein",
    "welcome",
    "iloveyou",
    "admin",
    "administrator",
    "monkey",
    "dragon",
    "football",
    "baseball",
    "princess",
    "sunshine",
    "master",
    "shadow",
    "superman",
    "trustno",
    "whatever",
    "starwars",
    "freedom",
    "secret",
    "changeme",
    "default",
    "login",
    "abc",
    "abcdef",
    "abcdefg",
    "abcdefgh",
    "asdf",
    "asdfgh",
    "asdfghjkl",
    "zxcvbn",
    "zxcvbnm",
    "qazwsx",
    "passw0rd",
    "p@ssword",
    "p@ssw0rd",
    "hello",
    "charlie",
    "michael",
    "jordan",
    "hunter",
    "ranger",
    "buster",
    "soccer",
    "hockey",
    "killer",
    "pepper",
    "ginger",
    "summer",
    "winter",
    "spring",
    "autumn",
    "computer",
    "internet",
    "portcullis",
];

/// Keyboard and alphabet runs that add almost nothing to a password.
const RUNS: &[&str] = &[
    "abcdefghijklmnopqrstuvwxyz",
    "qwertyuiopasdfghjklzxcvbnm",
    "01234567890",
    "98765432109",
    "zyxwvutsrqponmlkjihgfedcba",
];

/// A 0–4 score like zxcvbn's: 0 too weak, 1 weak, 2 fair (the server's
/// minimum), 3 good, 4 strong.
#[must_use]
pub fn score(password: &str, username: &str) -> u8 {
    if password.chars().count() < 8 {
        return 0;
    }
    // ASCII case folding: Unicode's tables would cost the bundle more than they
    // add to an estimate.
    let lower = password.to_ascii_lowercase();
    let name = username.trim().to_ascii_lowercase();
    if name.chars().count() >= 3 && lower.contains(&name) && lower.len() < name.len() + 6 {
        return 0;
    }
    let core = lower.trim_end_matches(|c: char| !c.is_alphabetic());
    if COMMON.contains(&core) || COMMON.contains(&lower.as_str()) {
        return 0;
    }
    match guesses_log2(&lower, password) {
        b if b < 27.0 => 0,
        b if b < 34.0 => 1,
        b if b < 50.0 => 2,
        b if b < 70.0 => 3,
        _ => 4,
    }
}

/// The label of a score.
#[must_use]
pub fn label(score: u8) -> &'static str {
    match score {
        0 => "Too weak",
        1 => "Weak",
        2 => "Fair",
        3 => "Good",
        _ => "Strong",
    }
}

/// log2 of the guesses: each character adds the bits of its alphabet, except
/// characters that repeat or continue a run of the one before, which add one bit.
fn guesses_log2(lower: &str, original: &str) -> f64 {
    let pool = alphabet_size(original);
    let per_char = pool.log2();
    let chars: Vec<char> = lower.chars().collect();
    let mut bits = 0.0;
    for (i, c) in chars.iter().enumerate() {
        let predictable = i > 0 && {
            let prev = chars[i - 1];
            prev == *c || RUNS.iter().any(|run| run.contains(&format!("{prev}{c}")))
        };
        bits += if predictable { 1.0 } else { per_char };
    }
    bits
}

fn alphabet_size(password: &str) -> f64 {
    let has = |f: fn(&char) -> bool| password.chars().any(|c| f(&c));
    let mut size = 0.0;
    if has(char::is_ascii_lowercase) {
        size += 26.0;
    }
    if has(char::is_ascii_uppercase) {
        size += 26.0;
    }
    if has(char::is_ascii_digit) {
        size += 10.0;
    }
    if has(|c| c.is_ascii_punctuation() || *c == ' ') {
        size += 33.0;
    }
    if has(|c| !c.is_ascii()) {
        size += 100.0;
    }
    f64::max(size, 2.0)
}

/// The meter under a new-password field: four bars and a spoken label. It
/// keeps its height when empty, so typing never moves the form.
#[component]
pub fn StrengthMeter(
    #[prop(into)] password: Signal<String>,
    #[prop(into)] username: Signal<String>,
) -> impl IntoView {
    let value = Memo::new(move |_| {
        let pw = password.get();
        (!pw.is_empty()).then(|| score(&pw, &username.get()))
    });
    view! {
        <div class="strength" data-testid="strength"
            data-score=move || value.get().map(|s| s.to_string()).unwrap_or_default()>
            <div class="bars" aria-hidden="true">
                <span></span><span></span><span></span><span></span>
            </div>
            <p class="strength-label" aria-live="polite">
                {move || value.get().map(|s| format!("Strength: {}", label(s)))}
            </p>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_short_and_patterned_passwords_score_low() {
        for weak in [
            "password",
            "Password1!",
            "qwertyuiop",
            "12345678",
            "abcdefgh123",
            "aaaaaaaaaaaa",
            "short",
        ] {
            assert!(score(weak, "") <= 1, "{weak} scored {}", score(weak, ""));
        }
        assert_eq!(score("alice2024!", "alice"), 0, "the username");
    }

    #[test]
    fn the_passphrases_the_server_accepts_score_fair_or_better() {
        for good in [
            "correct horse battery",
            "kx7-Qm2v",
            "Tr0ub4dor&3-horse",
            "mauve tractor lagoon",
        ] {
            assert!(
                score(good, "alice") >= 2,
                "{good} scored {}",
                score(good, "alice")
            );
        }
        assert_eq!(score("correct horse battery staple orbit", "alice"), 4);
    }

    #[test]
    fn every_score_has_a_label() {
        let labels: Vec<_> = (0..=4).map(label).collect();
        assert_eq!(labels, ["Too weak", "Weak", "Fair", "Good", "Strong"]);
    }
}
