use sea_orm::entity::prelude::*;

/// A COWS or SOWS assessment with its items.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "withdrawal_assessments")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    pub patient_id: Uuid,
    pub instrument: String,
    /// JSON array of item scores.
    pub items: String,
    pub total: i32,
    pub severity: String,
    pub assessed_by_user_id: Uuid,
    pub assessed_at: DateTimeUtc,
    pub local_date: Date,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
