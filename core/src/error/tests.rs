//! The error type and its envelope.
use super::*;

#[test]
fn fields_round_trip_through_their_names_and_nothing_else() {
    for field in [
        Field::Username,
        Field::Password,
        Field::CurrentPassword,
        Field::NewPassword,
        Field::Role,
    ] {
        let json = serde_json::to_string(&field).unwrap_or_default();
        assert_eq!(json, format!("\"{}\"", field.as_str()));
        assert_eq!(serde_json::from_str::<Field>(&json).ok(), Some(field));
    }
    assert!(serde_json::from_str::<Field>("\"email\"").is_err());
    assert!(serde_json::from_str::<Field>("7").is_err());
}

#[test]
fn every_error_round_trips_through_its_json_envelope() {
    let all = [
        AuthError::InvalidCredentials,
        AuthError::UsernameTaken,
        AuthError::invalid(Field::Password, "too short"),
        AuthError::BadRequest("bad".into()),
        AuthError::TooLarge,
        AuthError::TokenMissing,
        AuthError::TokenExpired,
        AuthError::TokenInvalid,
        AuthError::SessionRevoked,
        AuthError::SessionExpired,
        AuthError::RefreshReused,
        AuthError::Forbidden,
        AuthError::NotFound,
        AuthError::LastAdmin,
        AuthError::CrossSite,
        AuthError::RateLimited { retry_after: 7 },
        AuthError::Busy,
        AuthError::Unavailable { retry_after: 2 },
        AuthError::Internal,
    ];
    for err in all {
        let json = serde_json::to_string(&err).expect("serialises");
        let back: AuthError = serde_json::from_str(&json).expect("deserialises");
        assert_eq!(back, err, "{json}");
    }
}

#[test]
fn the_envelope_has_a_code_and_a_message() {
    let json = serde_json::to_value(AuthError::UsernameTaken).expect("serialises");
    assert_eq!(json["error"], "username_taken");
    assert_eq!(json["message"], "That username is already taken.");
    assert_eq!(json["field"], "username");
}

#[test]
fn a_redirect_query_names_the_error_but_never_carries_its_text() {
    for err in [
        AuthError::InvalidCredentials,
        AuthError::UsernameTaken,
        AuthError::RateLimited { retry_after: 42 },
        AuthError::invalid(Field::NewPassword, "zxcvbn said something long"),
    ] {
        let query = err.to_query();
        let pairs: Vec<(String, String)> = query
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        let get = |k: &str| {
            pairs
                .iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.as_str())
        };
        let back = AuthError::from_query(
            get("error").expect("code"),
            get("field"),
            get("retry_after").and_then(|v| v.parse().ok()),
        )
        .expect("known code");
        assert_eq!(back.code(), err.code());
        assert_eq!(back.field(), err.field());
        assert!(!query.contains("zxcvbn"), "{query}");
    }
    assert_eq!(AuthError::from_query("made_up", None, None), None);
    assert_eq!(
        AuthError::from_query("validation_failed", Some("nope"), None),
        None
    );
    assert_eq!(
        AuthError::from_query("rate_limited", None, Some(99_999)),
        Some(AuthError::RateLimited { retry_after: 3600 })
    );
}
