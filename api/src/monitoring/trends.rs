//! GraphQL surface of trends for charts (`Patient.trends`): checks the
//! range, loads the rows (`trend_store`) and builds one `TrendDay` per day
//! (`trend_series`).

use async_graphql::Context;
use chrono::{NaiveDate, Utc};

use super::{
    trend_series::{self, TrendDay},
    trend_store,
};
use crate::{caller::ContextExt, error::ApiResult};

/// The patient's days from `from` to `to` (at most 366), for a caller
/// already allowed to read the patient's record.
pub async fn for_patient(
    ctx: &Context<'_>,
    patient: &entity::patients::Model,
    from: NaiveDate,
    to: NaiveDate,
) -> ApiResult<Vec<TrendDay>> {
    trend_series::check_range(from, to, Utc::now().date_naive())?;
    let rows = trend_store::rows(ctx.db()?, patient.id, from, to).await?;
    Ok(trend_series::build(from, to, &rows))
}
