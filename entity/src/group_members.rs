use sea_orm::entity::prelude::*;

/// A user's place in a support group: facilitator or member, and status.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "group_members")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub group_id: Uuid,
    pub organization_id: Uuid,
    pub user_id: Uuid,
    /// `FACILITATOR` or `MEMBER`.
    pub role: String,
    /// `PENDING`, `ACTIVE`, `LEFT`, `REMOVED`.
    pub status: String,
    /// The name shown to the group.
    pub alias: Option<String>,
    /// Why a member was removed.
    pub status_reason: Option<String>,
    /// Who approved, added or removed them.
    pub decided_by_user_id: Option<Uuid>,
    /// When they became active.
    pub joined_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
