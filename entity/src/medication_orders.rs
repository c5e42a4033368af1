use sea_orm::entity::prelude::*;

/// A current or past opioid order of a patient (their regimen).
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "medication_orders")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    pub patient_id: Uuid,
    pub medication_id: Uuid,
    pub dose: f64,
    pub doses_per_day: i32,
    pub prescriber_user_id: Uuid,
    pub starts_on: Date,
    pub ends_on: Option<Date>,
    /// `PAIN` or `OUD` (buprenorphine is always `OUD`).
    pub indication: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
