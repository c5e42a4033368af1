use sea_orm::entity::prelude::*;

/// The full content of a recovery plan as one edit left it.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "care_plan_revisions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub patient_id: Uuid,
    pub version: i32,
    /// JSON arrays of strings, as in `care_plans`.
    pub triggers: String,
    pub coping_strategies: String,
    pub warning_signs: String,
    pub support_contacts: String,
    pub edited_by_user_id: Uuid,
    pub edited_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
