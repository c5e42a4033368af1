use sea_orm::entity::prelude::*;

/// One version of a patient's taper plan for one medication.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "taper_plans")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    pub patient_id: Uuid,
    pub medication_id: Uuid,
    pub status: String,
    pub preset: String,
    pub version: i32,
    pub starting_daily_dose: f64,
    pub target_daily_dose: f64,
    pub reduction_percent: Option<f64>,
    pub step_days: Option<i32>,
    pub follow_up_every_days: i32,
    pub starts_on: Date,
    /// JSON array of `{code, message}`.
    pub warnings: String,
    pub patient_agreed_at: Option<DateTimeUtc>,
    pub paused_on: Option<Date>,
    pub supersedes_plan_id: Option<Uuid>,
    pub superseded_by_plan_id: Option<Uuid>,
    pub superseded_reason: Option<String>,
    /// The clinician's reason for the plan (required for a MOUD plan).
    pub reason: Option<String>,
    pub created_by_user_id: Uuid,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
