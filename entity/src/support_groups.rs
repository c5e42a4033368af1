use sea_orm::entity::prelude::*;

/// A support group of an organization, led by its facilitators.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "support_groups")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    pub name: String,
    /// `PEER_SUPPORT`, `TAPERING_COHORT`, `FAMILY`, `THERAPY_GROUP`, `MUTUAL_HELP`.
    pub kind: String,
    pub description: String,
    /// `IN_PERSON`, `VIRTUAL`, `HYBRID`.
    pub format: String,
    pub location: Option<String>,
    pub meeting_url: Option<String>,
    /// Members (not facilitators) at most; none when null.
    pub capacity: Option<i32>,
    /// `OPEN`, `APPROVAL`, `INVITE_ONLY`.
    pub join_policy: String,
    pub ground_rules: Option<String>,
    pub archived_at: Option<DateTimeUtc>,
    pub created_by_user_id: Uuid,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
