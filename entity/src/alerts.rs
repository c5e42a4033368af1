use sea_orm::entity::prelude::*;

/// An alert to the care team: kind, cause, evidence, suggested action.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "alerts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    pub patient_id: Uuid,
    pub kind: String,
    pub cause: String,
    pub summary: String,
    pub suggested_action: String,
    /// JSON array of `{resource, id, reading}`.
    pub evidence: String,
    pub status: String,
    pub created_at: DateTimeUtc,
    pub acknowledged_at: Option<DateTimeUtc>,
    pub acknowledged_by_user_id: Option<Uuid>,
    pub resolved_at: Option<DateTimeUtc>,
    pub resolved_by_user_id: Option<Uuid>,
    pub resolution_note: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
