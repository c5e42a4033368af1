//! Finding patient records: one by id (`patient`), and the page of those
//! the caller may see (`patients`). Also the domain's schema roots.

use async_graphql::{Context, MergedObject, Object, connection::Connection};
use uuid::Uuid;

use super::{
    Patient,
    care_team::CareTeamMutation,
    consents::{ConsentsMutation, ConsentsQuery},
    patient_store,
};
use crate::{
    audit::{Action, PATIENT},
    authz::{self, ConsentCategory, Need},
    caller::{Caller, ContextExt},
    error::ApiResult,
    graphql::pagination,
};

const READ: Action = PATIENT.action("patient.read");
/// One event per patient on the page returned.
const LIST: Action = PATIENT.action("patient.list");

/// The domain's part of the schema roots (merged in `graphql`).
#[derive(MergedObject, Default)]
pub struct PatientsQueries(PatientsQuery, ConsentsQuery);

#[derive(MergedObject, Default)]
pub struct PatientsMutations(CareTeamMutation, ConsentsMutation);

#[derive(Default)]
pub struct PatientsQuery;

#[Object]
impl PatientsQuery {
    /// One patient, if the caller may see them (else `NOT_FOUND`).
    async fn patient(&self, ctx: &Context<'_>, id: Uuid) -> async_graphql::Result<Option<Patient>> {
        let caller = ctx.caller().await?;
        let access = caller.patient(id, Need::Identity, READ).await?;
        Ok(Some(Patient {
            model: access.patient,
            relationship: access.relationship,
        }))
    }

    /// The patients the caller may see: their own record, their care team's
    /// patients, those who consented to them, or (admins) the organization's.
    #[graphql(complexity = "first.unwrap_or(20).max(0) as usize * child_complexity")]
    async fn patients(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Connection<String, Patient>> {
        Ok(list_patients(&ctx.caller().await?, first, after).await?)
    }
}

async fn list_patients(
    caller: &Caller,
    first: Option<i32>,
    after: Option<String>,
) -> ApiResult<Connection<String, Patient>> {
    let page = pagination::page(
        first,
        after.as_deref(),
        caller.app().config.limits.max_page_size,
    )?;
    let rows = patient_store::visible_page(caller.db(), caller.principal(), &page).await?;

    // The page came with each patient's account and the caller's standing:
    // the accounts serve `Patient.user` without another query.
    let items: Vec<(Uuid, Patient)> = rows
        .into_iter()
        .map(|row| {
            let relationship = authz::policy::standing(
                caller.principal(),
                &row.patient,
                row.on_team,
                row.consented
                    .as_deref()
                    .map(ConsentCategory::decode)
                    .unwrap_or_default(),
            );
            caller.loaders().remember_user(row.user);
            (
                row.patient.id,
                Patient {
                    model: row.patient,
                    relationship,
                },
            )
        })
        .collect();

    let shown = items.iter().take(page.first as usize);
    caller.record_all(shown.map(|(id, _)| caller.event(LIST).resource(*id).patient(*id)));
    Ok(pagination::connection(items, page))
}
