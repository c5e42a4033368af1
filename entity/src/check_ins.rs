use sea_orm::entity::prelude::*;

/// A check-in from the patient's phone (several a day are fine).
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "check_ins")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    pub patient_id: Uuid,
    pub pain_score: Option<i32>,
    pub peg_pain: Option<i32>,
    pub peg_enjoyment: Option<i32>,
    pub peg_activity: Option<i32>,
    pub peg_score: Option<f64>,
    pub craving_score: Option<i32>,
    pub mood: Option<i32>,
    pub sleep_hours: Option<f64>,
    pub exercise_minutes: Option<i32>,
    pub mindfulness_minutes: Option<i32>,
    pub meals: Option<i32>,
    /// JSON array of strings.
    pub triggers: String,
    /// JSON array of strings.
    pub coping_strategies: String,
    /// JSON array of strings.
    pub helpful_coping_strategies: String,
    pub note: Option<String>,
    pub submitted_at: DateTimeUtc,
    /// The day, in the patient's time zone.
    pub local_date: Date,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
