use sea_orm::entity::prelude::*;

/// A change to an appointment (scheduled, rescheduled, a status): who,
/// when, why, and for a reschedule the previous times.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "appointment_events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub appointment_id: Uuid,
    pub kind: String,
    pub reason: Option<String>,
    pub previous_starts_at: Option<DateTimeUtc>,
    pub previous_ends_at: Option<DateTimeUtc>,
    pub actor_user_id: Uuid,
    pub at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
