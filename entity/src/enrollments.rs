use sea_orm::entity::prelude::*;

/// A patient's enrollment in a program, and the phase it is in.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "enrollments")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    pub patient_id: Uuid,
    pub program_id: Uuid,
    pub phase: String,
    pub starts_on: Date,
    pub expected_end_on: Date,
    pub aftercare_plan: Option<String>,
    pub discharge_reason: Option<String>,
    pub discharged_at: Option<DateTimeUtc>,
    pub enrolled_by_user_id: Uuid,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
