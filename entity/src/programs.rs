use sea_orm::entity::prelude::*;

/// A treatment program an organization runs (outpatient, intensive
/// outpatient, inpatient) and what it includes.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "programs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    pub name: String,
    pub modality: String,
    pub duration_weeks: i32,
    pub description: String,
    /// Comma-separated appointment kinds.
    pub therapy_kinds: String,
    pub group_sessions_per_week: Option<i32>,
    pub follow_up_every_days: Option<i32>,
    pub created_by_user_id: Uuid,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
