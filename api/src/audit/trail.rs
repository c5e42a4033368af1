//! Reading the trail: `auditEvents` for admins (their organization), and
//! `myAccessLog` for patients — who accessed their record and when, the
//! accounting of disclosures patients are entitled to.

use async_graphql::{Context, MergedObject, Object, connection::Connection};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use entity::audit_events;

use super::{
    Action, Kind,
    trail_store::{self, Reader, TrailFilter},
};
use crate::{
    auth::Role,
    caller::{Caller, ContextExt},
    error::{ApiError, ApiResult},
    graphql::pagination::{self, Page},
    patients::patient_store,
};

/// The domain's part of the schema roots (merged in `graphql`).
#[derive(MergedObject, Default)]
pub struct AuditQueries(AuditQuery);

pub struct AuditEvent(pub audit_events::Model);

#[Object]
impl AuditEvent {
    async fn id(&self) -> Uuid {
        self.0.id
    }
    async fn at(&self) -> DateTime<Utc> {
        self.0.at
    }
    async fn actor_user_id(&self) -> Option<Uuid> {
        self.0.actor_user_id
    }
    /// What was done, e.g. `patient.read`, `consent.grant`.
    async fn action(&self) -> &str {
        &self.0.action
    }
    async fn patient_id(&self) -> Option<Uuid> {
        self.0.patient_id
    }
    async fn resource_type(&self) -> &str {
        &self.0.resource_type
    }
    async fn resource_id(&self) -> Option<Uuid> {
        self.0.resource_id
    }
    /// False for a refused attempt.
    async fn allowed(&self) -> bool {
        self.0.allowed
    }
    /// The request it happened in (matches the server's logs).
    async fn request_id(&self) -> &str {
        &self.0.request_id
    }
    /// The client's own `x-request-id` for that request, when it sent a
    /// well-formed one (the trail's `requestId` is always the server's).
    async fn correlation_id(&self) -> Option<&str> {
        self.0.correlation_id.as_deref()
    }
}

#[derive(Default)]
pub struct AuditQuery;

#[Object]
impl AuditQuery {
    /// The organization's audit trail, newest first (admins and auditors;
    /// for admins, patients' support-group activity comes without its
    /// actor and record, and actor or patient filters never find it).
    #[graphql(complexity = "first.unwrap_or(20).max(0) as usize * child_complexity")]
    #[allow(clippy::too_many_arguments)]
    async fn audit_events(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        patient_id: Option<Uuid>,
        actor_user_id: Option<Uuid>,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
    ) -> async_graphql::Result<Connection<String, AuditEvent>> {
        crate::graphql::scalars::check_window(from, to, chrono::Utc::now())
            .map_err(crate::error::ApiError::from)?;
        let filter = TrailFilter {
            patient_id,
            actor_user_id,
            from,
            to,
        };
        Ok(organization_trail(&ctx.caller().await?, &filter, first, after).await?)
    }

    /// Who accessed the caller's patient record, newest first (patients).
    #[graphql(complexity = "first.unwrap_or(20).max(0) as usize * child_complexity")]
    async fn my_access_log(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Connection<String, AuditEvent>> {
        Ok(access_log(&ctx.caller().await?, first, after).await?)
    }
}

/// The trail of a whole organization (`AuditEvent` rows).
pub const AUDIT_EVENT: Kind = Kind::new("AuditEvent", "audit event");
/// Reading it: only a refusal is recorded.
pub const TRAIL_READ: Action = AUDIT_EVENT.action("auditEvents.read");

/// Admins and auditors. Reading the trail is not itself audited; a refusal
/// is. Admins get patients' group activity redacted; auditors all of it.
async fn organization_trail(
    caller: &Caller,
    filter: &TrailFilter,
    first: Option<i32>,
    after: Option<String>,
) -> ApiResult<Connection<String, AuditEvent>> {
    caller.require(&[Role::Admin, Role::Auditor], TRAIL_READ)?;
    let reader = if caller.has_role(Role::Auditor) {
        Reader::Auditor
    } else {
        Reader::Admin
    };
    let page = page(caller, first, after)?;
    let rows = trail_store::organization_events(
        caller.db(),
        caller.organization_id(),
        reader,
        filter,
        &page,
    )
    .await?;
    Ok(connection(rows, page))
}

/// Anyone with a patient record: the others' allowed accesses to it.
async fn access_log(
    caller: &Caller,
    first: Option<i32>,
    after: Option<String>,
) -> ApiResult<Connection<String, AuditEvent>> {
    let patient = patient_store::of_user(caller.db(), caller.user_id())
        .await?
        .ok_or_else(|| ApiError::forbidden("only a patient has an access log"))?;
    let page = page(caller, first, after)?;
    let rows = trail_store::access_log(caller.db(), patient.id, caller.user_id(), &page).await?;
    Ok(connection(rows, page))
}

fn page(caller: &Caller, first: Option<i32>, after: Option<String>) -> ApiResult<Page> {
    pagination::page(
        first,
        after.as_deref(),
        caller.app().config.limits.max_page_size,
    )
}

fn connection(rows: Vec<audit_events::Model>, page: Page) -> Connection<String, AuditEvent> {
    pagination::connection(
        rows.into_iter().map(|e| (e.id, AuditEvent(e))).collect(),
        page,
    )
}

#[cfg(test)]
mod tests {
    use super::trail_store::GROUP_ACTIVITY;
    use crate::{authz, groups};

    #[test]
    fn every_kind_of_group_record_is_group_activity() {
        for kind in [
            authz::groups::GROUP,
            groups::posts::POST,
            groups::membership::MEMBERSHIP,
            groups::meetings::MEETING,
            groups::goals::GOAL,
        ] {
            assert!(GROUP_ACTIVITY.contains(&kind.name), "{}", kind.name);
        }
    }
}
