use sea_orm::entity::prelude::*;

/// A catalog medication (CDC 2022 MME factor where one applies).
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "medications")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub name: String,
    /// `OPIOID`, `MOUD`, `SEDATIVE` or `REVERSAL`.
    pub kind: String,
    pub unit: String,
    pub mme_factor: Option<f64>,
    pub conversion_table: Option<String>,
    /// Comma-separated, ascending.
    pub strengths: String,
    pub rxnorm: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
