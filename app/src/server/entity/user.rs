use sea_orm::entity::prelude::*;

use crate::policy::Role;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub username: String,
    #[sea_orm(unique)]
    pub username_key: String,
    pub password_hash: String,
    pub role: StoredRole,
    pub disabled: bool,
    pub created_at: DateTimeUtc,
    /// When `role` or `disabled` last changed (live tokens must follow).
    pub authz_changed_at: Option<DateTimeUtc>,
}

/// Sessions point at their user (`session::Relation::User`); the reverse
/// relation is left out: nothing walks it, and it would tie the two files in a loop.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// `users.role` as stored: the one place a role name is read from the
/// database. A name the code does not know fails the row read (an error,
/// logged) instead of quietly becoming a default role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
pub enum StoredRole {
    #[sea_orm(string_value = "user")]
    User,
    #[sea_orm(string_value = "admin")]
    Admin,
}

/// A user row as the UI and the JSON API see it.
impl From<&Model> for crate::auth::User {
    fn from(model: &Model) -> Self {
        Self {
            id: model.id,
            username: model.username.clone(),
            role: model.role.into(),
        }
    }
}

/// A user row as an admin sees it.
impl From<&Model> for crate::admin::AdminUser {
    fn from(model: &Model) -> Self {
        Self {
            id: model.id,
            username: model.username.clone(),
            role: model.role.into(),
            disabled: model.disabled,
            created_at: model.created_at.to_rfc3339(),
        }
    }
}

// Both conversions match exhaustively: a new `Role` does not compile until it
// has a stored name here.
impl From<StoredRole> for Role {
    fn from(stored: StoredRole) -> Self {
        match stored {
            StoredRole::User => Role::User,
            StoredRole::Admin => Role::Admin,
        }
    }
}

impl From<Role> for StoredRole {
    fn from(role: Role) -> Self {
        match role {
            Role::User => StoredRole::User,
            Role::Admin => StoredRole::Admin,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::ActiveEnum;

    #[test]
    fn every_role_is_stored_under_its_policy_name() {
        for role in Role::ALL {
            let stored = StoredRole::from(role);
            assert_eq!(Role::from(stored), role);
            assert_eq!(stored.to_value(), role.as_str());
        }
    }
}
