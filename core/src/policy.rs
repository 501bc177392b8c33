//! The role and permission policy: written once, compiled into both the WASM
//! client and the server, with no `cfg` anywhere. The client route guard, the
//! server-side render of a page and every server function ask the same
//! functions below.

use serde::{Deserialize, Deserializer, Serialize};

/// What a signed-in user may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Permission {
    ViewDashboard,
    ManageOwnSessions,
    /// Change one's own password.
    ManageOwnAccount,
    ManageUsers,
    /// End other users' sessions.
    ManageSessions,
}

impl Permission {
    /// Every permission (a test checks each is granted and checked somewhere).
    pub const ALL: [Permission; 5] = [
        Permission::ViewDashboard,
        Permission::ManageOwnSessions,
        Permission::ManageOwnAccount,
        Permission::ManageUsers,
        Permission::ManageSessions,
    ];
}

/// A user's role. Adding a role means adding a variant and its row in [`Role::permissions`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    #[default]
    User,
    Admin,
}

impl Role {
    /// Every role, in display order.
    pub const ALL: [Role; 2] = [Role::User, Role::Admin];

    /// The permissions this role grants: the whole policy is this table.
    #[must_use]
    pub fn permissions(self) -> &'static [Permission] {
        use Permission::*;
        match self {
            Role::User => &[ViewDashboard, ManageOwnSessions, ManageOwnAccount],
            Role::Admin => &[
                ViewDashboard,
                ManageOwnSessions,
                ManageOwnAccount,
                ManageUsers,
                ManageSessions,
            ],
        }
    }

    /// Whether this role grants `permission`.
    #[must_use]
    pub fn allows(self, permission: Permission) -> bool {
        self.permissions().contains(&permission)
    }

    /// The name stored in the database and carried in tokens.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Admin => "admin",
        }
    }

    /// Parses a stored or submitted role name.
    #[must_use]
    pub fn parse(name: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == name)
    }
}

impl<'de> Deserialize<'de> for Role {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserialize_name(deserializer, Role::parse, &["user", "admin"])
    }
}

/// Deserializes a unit enum from its name through `parse`. serde's derived
/// enum access also accepts maps and sequences, which costs the WASM about a
/// kilobyte per enum; a name is all our wire formats ever carry.
///
/// # Errors
/// The deserializer's own error for a non-string, or an unknown variant.
pub fn deserialize_name<'de, D, T>(
    deserializer: D,
    parse: fn(&str) -> Option<T>,
    names: &'static [&'static str],
) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
{
    let name = String::deserialize(deserializer)?;
    parse(&name).ok_or_else(|| serde::de::Error::unknown_variant(&name, names))
}

/// What a page needs before it may be shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, signed in or not.
    Public,
    /// A signed-in user holding this permission.
    Requires(Permission),
}

/// The route table: which access each page path needs. Paths not listed are public.
pub const ROUTES: &[(&str, Access)] = &[
    ("/dashboard", Access::Requires(Permission::ViewDashboard)),
    ("/sessions", Access::Requires(Permission::ManageOwnSessions)),
    ("/account", Access::Requires(Permission::ManageOwnAccount)),
    ("/admin", Access::Requires(Permission::ManageUsers)),
];

/// The access a page path needs (a path matches a table entry or any sub-path of it).
#[must_use]
pub fn access_for(path: &str) -> Access {
    ROUTES
        .iter()
        .find(|(prefix, _)| {
            path == *prefix
                || path
                    .strip_prefix(prefix)
                    .is_some_and(|rest| rest.starts_with('/'))
        })
        .map_or(Access::Public, |(_, access)| *access)
}

/// The outcome of guarding a page for a visitor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow,
    /// Not signed in: send them to sign in, then back.
    SignIn,
    /// Signed in but not allowed.
    Forbidden,
}

/// Decides whether a visitor with `role` (`None` when anonymous) may see `path`.
#[must_use]
pub fn decide(path: &str, role: Option<Role>) -> Decision {
    match access_for(path) {
        Access::Public => Decision::Allow,
        Access::Requires(permission) => require(role, permission),
    }
}

/// The one rule behind pages, server functions and JSON endpoints: anonymous
/// callers must sign in (401), signed-in callers without `permission` are
/// forbidden (403).
#[must_use]
pub fn require(role: Option<Role>, permission: Permission) -> Decision {
    match role {
        None => Decision::SignIn,
        Some(role) if role.allows(permission) => Decision::Allow,
        Some(_) => Decision::Forbidden,
    }
}

/// The sign-in URL that returns to `path` afterwards.
#[must_use]
pub fn login_url(path: &str) -> String {
    format!("/login?next={}", encode_query_value(path))
}

/// The sign-in URL for a visitor whose session truly ended (revoked, expired,
/// replayed): it returns to `path` and shows a notice saying why.
#[must_use]
pub fn ended_login_url(path: &str) -> String {
    format!("/login?ended=1&next={}", encode_query_value(path))
}

/// A `next` target is honoured only when it is a path on this site:
/// it starts with one `/`, never `//` or `/\`, and holds no control characters.
#[must_use]
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.starts_with("/\\")
                && !n.chars().any(|c| c.is_control() || c == '\\') =>
        {
            n.to_owned()
        }
        _ => "/dashboard".to_owned(),
    }
}

/// Percent-encodes `value` for a query string (`/` is left as it is).
#[must_use]
pub fn encode_query_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(b as char);
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_role_gets_exactly_its_permissions() {
        use Permission::*;
        let table = [
            (Role::User, ViewDashboard, true),
            (Role::User, ManageOwnSessions, true),
            (Role::User, ManageOwnAccount, true),
            (Role::User, ManageUsers, false),
            (Role::User, ManageSessions, false),
            (Role::Admin, ViewDashboard, true),
            (Role::Admin, ManageOwnSessions, true),
            (Role::Admin, ManageOwnAccount, true),
            (Role::Admin, ManageUsers, true),
            (Role::Admin, ManageSessions, true),
        ];
        for (role, perm, expected) in table {
            assert_eq!(role.allows(perm), expected, "{role:?} {perm:?}");
        }
    }

    #[test]
    fn pages_are_guarded_by_the_route_table() {
        let table = [
            ("/", None, Decision::Allow),
            ("/login", None, Decision::Allow),
            ("/dashboard", None, Decision::SignIn),
            ("/dashboard", Some(Role::User), Decision::Allow),
            ("/dashboardx", None, Decision::Allow),
            ("/admin", None, Decision::SignIn),
            ("/admin", Some(Role::User), Decision::Forbidden),
            ("/admin/users", Some(Role::User), Decision::Forbidden),
            ("/admin", Some(Role::Admin), Decision::Allow),
            ("/sessions", Some(Role::User), Decision::Allow),
            ("/account", None, Decision::SignIn),
            ("/account", Some(Role::User), Decision::Allow),
        ];
        for (path, role, expected) in table {
            assert_eq!(decide(path, role), expected, "{path} {role:?}");
        }
    }

    #[test]
    fn operations_need_their_permission() {
        use Permission::*;
        let table = [
            (None, ManageUsers, Decision::SignIn),
            (None, ViewDashboard, Decision::SignIn),
            (Some(Role::User), ManageUsers, Decision::Forbidden),
            (Some(Role::User), ManageSessions, Decision::Forbidden),
            (Some(Role::User), ManageOwnSessions, Decision::Allow),
            (Some(Role::Admin), ManageUsers, Decision::Allow),
        ];
        for (role, permission, expected) in table {
            assert_eq!(
                require(role, permission),
                expected,
                "{role:?} {permission:?}"
            );
        }
    }

    #[test]
    fn roles_round_trip_through_their_names() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
            let json = serde_json::to_string(&role).unwrap_or_default();
            assert_eq!(serde_json::from_str::<Role>(&json).ok(), Some(role));
        }
        assert_eq!(Role::parse("root"), None);
        assert!(serde_json::from_str::<Role>("\"root\"").is_err());
        assert!(serde_json::from_str::<Role>("{\"admin\":null}").is_err());
    }

    #[test]
    fn only_same_site_paths_are_honoured_as_next() {
        assert_eq!(safe_next(Some("/dashboard")), "/dashboard");
        assert_eq!(safe_next(Some("/sessions?x=1")), "/sessions?x=1");
        for evil in [
            "//evil.example",
            "https://evil.example",
            "/\\evil.example",
            "javascript:alert(1)",
            "",
            "/a\nb",
        ] {
            assert_eq!(safe_next(Some(evil)), "/dashboard", "{evil:?}");
        }
        assert_eq!(safe_next(None), "/dashboard");
    }

    #[test]
    fn login_url_encodes_the_return_path() {
        assert_eq!(login_url("/dashboard"), "/login?next=/dashboard");
        assert_eq!(login_url("/a?b=c&d"), "/login?next=/a%3Fb%3Dc%26d");
        assert_eq!(ended_login_url("/a?b"), "/login?ended=1&next=/a%3Fb");
    }
}
