use sea_orm::entity::prelude::*;

/// A dose the patient logged.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "dose_logs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    pub patient_id: Uuid,
    pub medication_id: Uuid,
    pub amount: f64,
    pub taken_at: DateTimeUtc,
    /// The day it counts for, in the patient's time zone.
    pub taken_on: Date,
    pub note: Option<String>,
    pub over_schedule: bool,
    /// Transdermal: this patch replaces one that fell off.
    pub replaces_patch: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
