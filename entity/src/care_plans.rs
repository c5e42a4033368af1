use sea_orm::entity::prelude::*;

/// A patient's recovery plan as it stands (one per patient).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "care_plans")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    pub patient_id: Uuid,
    /// The four lists are JSON arrays of strings.
    pub triggers: String,
    pub coping_strategies: String,
    pub warning_signs: String,
    pub support_contacts: String,
    pub version: i32,
    pub updated_by_user_id: Uuid,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
