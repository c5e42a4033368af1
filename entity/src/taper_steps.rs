use sea_orm::entity::prelude::*;

/// One step of a taper plan: a daily dose over a span of days.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "taper_steps")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub plan_id: Uuid,
    pub step_index: i32,
    pub starts_on: Date,
    pub ends_on: Date,
    pub daily_dose: f64,
    pub daily_mme: Option<f64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
