//! GraphQL surface of the medication catalog (seeded by a migration from
//! CLINICAL.md): every opioid of the CDC 2022 MME table with its factor and
//! dispensable strengths, plus buprenorphine (MOUD), the sedatives CDC 2022
//! warns against combining with opioids, and naloxone, which have none. Its SQL is in `catalog_store`.

use async_graphql::{Context, Object};
use uuid::Uuid;

use entity::medications;

use super::{
    catalog_store::{self, strengths},
    mme::MedicationKind,
};
use crate::caller::ContextExt;

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
    /// What the medication is: an opioid, a medication for opioid use
    /// disorder, a sedative or a reversal agent.
    async fn kind(&self) -> async_graphql::Result<MedicationKind> {
        Ok(MedicationKind::from_row(&self.0.kind)?)
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
        let rows = catalog_store::all(ctx.db()?).await?;
        Ok(rows.into_iter().map(Medication).collect())
    }
}
