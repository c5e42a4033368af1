//! The medication catalog, seeded by a migration from CLINICAL.md: every
//! opioid of the CDC 2022 MME table with its factor and dispensable
//! strengths, plus buprenorphine (MOUD) and naloxone, which have none.

use async_graphql::{Context, Object};
use sea_orm::{EntityTrait, QueryOrder};
use uuid::Uuid;

use entity::medications;

use crate::{
    caller::ContextExt,
    error::{ApiError, ApiResult},
};

/// Strengths as stored ("5,10,15"), ascending.
pub fn strengths(model: &medications::Model) -> Vec<f64> {
    let mut values: Vec<f64> = model
        .strengths
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    values.sort_by(f64::total_cmp);
    values
}

/// One unit of a medication: its smallest strength.
pub fn unit(model: &medications::Model) -> Option<f64> {
    strengths(model).first().copied()
}

pub async fn load(db: &impl sea_orm::ConnectionTrait, id: Uuid) -> ApiResult<medications::Model> {
    medications::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| ApiError::bad_input("medicationId", "no such medication"))
}

pub struct Medication(pub medications::Model);

#[Object]
impl Medication {
    async fn id(&self) -> Uuid {
        self.0.id
    }
    /// Lower-case generic name, e.g. "oxycodone", "fentanyl transdermal".
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// "mg", or "mcg/hr" for patches.
    async fn unit(&self) -> &str {
        &self.0.unit
    }
    /// Daily MME = daily dose × this factor. Null where none applies
    /// (buprenorphine, naloxone).
    async fn mme_factor(&self) -> Option<f64> {
        self.0.mme_factor
    }
    /// The table the factor comes from: "CDC_2022".
    async fn conversion_table(&self) -> Option<&str> {
        self.0.conversion_table.as_deref()
    }
    /// Dispensable unit strengths, ascending.
    async fn strengths(&self) -> Vec<f64> {
        strengths(&self.0)
    }
    /// `OPIOID`, `MOUD` (medication for opioid use disorder) or `REVERSAL`.
    async fn kind(&self) -> &str {
        &self.0.kind
    }
    /// RxNorm ingredient code, where CLINICAL.md lists one.
    async fn rxnorm(&self) -> Option<&str> {
        self.0.rxnorm.as_deref()
    }
}

#[derive(Default)]
pub struct CatalogQuery;

#[Object]
impl CatalogQuery {
    /// The medication catalog (signed-in users).
    async fn medications(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Medication>> {
        ctx.principal().await?;
        let rows = medications::Entity::find()
            .order_by_asc(medications::Column::Name)
            .all(ctx.db()?)
            .await
            .map_err(ApiError::from)?;
        Ok(rows.into_iter().map(Medication).collect())
    }
}
