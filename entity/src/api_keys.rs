use sea_orm::entity::prelude::*;

/// An API key: a secret another system sends as a bearer token, acting as
/// its service account (`service_user_id`, role `INTEGRATION`).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "api_keys")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    pub service_user_id: Uuid,
    pub name: String,
    /// The non-secret start of the key, for recognising it.
    pub prefix: String,
    /// Hex SHA-256 of the whole secret.
    pub secret_sha256: String,
    /// Comma-separated `ApiKeyScope` names.
    pub scopes: String,
    pub created_by_user_id: Uuid,
    pub created_at: DateTimeUtc,
    pub expires_at: Option<DateTimeUtc>,
    pub revoked_at: Option<DateTimeUtc>,
    pub last_used_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
