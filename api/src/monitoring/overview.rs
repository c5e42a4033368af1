//! GraphQL surface of the clinician's overview (`careTeamOverview`): every
//! patient on the caller's care teams with last check-in, latest withdrawal
//! severity, open alerts, taper progress, 7-day adherence and a risk order
//! (`risk`), loaded by `overview_store`.

use async_graphql::{
    Context, Object, OutputType,
    connection::{Connection, ConnectionNameType, EdgeNameType, EmptyFields},
};
use chrono::{DateTime, Utc};

use super::{
    assessments::WithdrawalSeverity,
    overview_store::{self, PanelRow},
    risk::{self, CareTeamOverviewSort},
};
use crate::{
    audit::{Action, PATIENT},
    auth::Role,
    authz::Relationship,
    caller::{Caller, ContextExt},
    error::ApiResult,
    graphql::pagination,
    patients::Patient,
};

/// Each patient row shown (the row's patient is the record read).
pub const OVERVIEW_READ: Action = PATIENT.action("careTeamOverview.read");

/// Names the connection as the contract does (`CareTeamOverviewConnection`).
pub struct OverviewConnectionName;

impl ConnectionNameType for OverviewConnectionName {
    fn type_name<T: OutputType>() -> String {
        "CareTeamOverviewConnection".into()
    }
}

pub struct OverviewEdgeName;

impl EdgeNameType for OverviewEdgeName {
    fn type_name<T: OutputType>() -> String {
        "CareTeamOverviewEdge".into()
    }
}

pub type CareTeamOverviewConnection = Connection<
    String,
    CareTeamOverviewRow,
    EmptyFields,
    EmptyFields,
    OverviewConnectionName,
    OverviewEdgeName,
>;

pub struct CareTeamOverviewRow(PanelRow);

#[Object]
impl CareTeamOverviewRow {
    async fn patient(&self) -> Patient {
        Patient {
            model: self.0.patient.clone(),
            relationship: Relationship {
                care_team: true,
                ..Relationship::default()
            },
        }
    }
    async fn last_check_in_at(&self) -> Option<DateTime<Utc>> {
        self.0.figures.last_check_in_at
    }
    async fn latest_withdrawal_severity(&self) -> Option<WithdrawalSeverity> {
        self.0.figures.severity.map(Into::into)
    }
    /// Alerts not yet resolved.
    async fn open_alerts(&self) -> i32 {
        self.0.figures.open_alerts as i32
    }
    async fn current_step_index(&self) -> Option<i32> {
        self.0.current_step_index
    }
    /// From the active plan's starting MME to today's step's.
    async fn mme_reduction_percent(&self) -> Option<f64> {
        self.0.mme_reduction_percent
    }
    /// 0..1, taken versus scheduled doses over the last 7 days.
    #[graphql(name = "adherence7d")]
    async fn adherence_7d(&self) -> Option<f64> {
        self.0.figures.adherence_7d
    }
    /// Higher is more urgent: 3 per open alert, 0–4 for the latest
    /// withdrawal band, 1 for adherence under 80%, 1 for no check-in in 3 days.
    async fn risk_score(&self) -> i32 {
        self.0.risk
    }
    async fn display_name(&self) -> &str {
        &self.0.name
    }
}

#[derive(Default)]
pub struct OverviewQuery;

#[Object]
impl OverviewQuery {
    /// Every patient on the caller's care teams with what needs attention
    /// (clinicians).
    #[graphql(complexity = "first.unwrap_or(20).max(0) as usize * child_complexity")]
    async fn care_team_overview(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        sort_by: Option<CareTeamOverviewSort>,
    ) -> async_graphql::Result<CareTeamOverviewConnection> {
        let caller = ctx.caller().await?;
        Ok(overview(&caller, first, after, sort_by.unwrap_or_default()).await?)
    }
}

/// The caller's panel, ordered by `sort`, one page of it; each row shown is
/// recorded as read.
pub async fn overview(
    caller: &Caller,
    first: Option<i32>,
    after: Option<String>,
    sort: CareTeamOverviewSort,
) -> ApiResult<CareTeamOverviewConnection> {
    // The role can never see a panel: refused naming no record.
    caller.require(&[Role::Clinician], OVERVIEW_READ)?;
    let (first, offset) = pagination::offset_page(
        first,
        after.as_deref(),
        caller.app().config.limits.max_page_size,
    )?;
    let mut rows = overview_store::panel(caller.db(), caller.principal(), Utc::now()).await?;
    risk::sort(&mut rows, sort);
    caller.record_all(
        rows.iter()
            .skip(offset as usize)
            .take(first as usize)
            .map(|r| {
                caller
                    .event(OVERVIEW_READ)
                    .resource(r.patient.id)
                    .patient(r.patient.id)
            }),
    );
    let rows = rows.into_iter().map(CareTeamOverviewRow).collect();
    Ok(pagination::offset_connection(rows, first, offset))
}
