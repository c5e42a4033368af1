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
    authz::{self, Relationship},
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
    // Refused without a record, as the role can never see a panel.
    authz::require_role(caller.principal(), &[Role::Clinician])?;
    let (first, offset) = pagination::offset_page(
        first,
        after.as_deref(),
        caller.app().config.limits.max_page_size,
    )?;
<<<<<<< HEAD
    let now = Utc::now();

    // 1. The panel.
    let panel = patients::Entity::find()
        .filter(patients::Column::OrganizationId.eq(principal.organization_id))
        .filter(
            patients::Column::Id.in_subquery(
                Query::select()
                    .column(care_team_members::Column::PatientId)
                    .from(care_team_members::Entity)
                    .and_where(
                        Expr::col(care_team_members::Column::ClinicianUserId).eq(principal.user_id),
                    )
                    .to_owned(),
            ),
        )
        .all(db)
        .await?;
    let ids: Vec<Uuid> = panel.iter().map(|p| p.id).collect();
    if ids.is_empty() {
        return Ok(pagination::offset_connection(Vec::new(), first, offset));
    }

    // 2. Names and time zones.
    let people: HashMap<Uuid, users::Model> = users::Entity::find()
        .filter(users::Column::Id.is_in(panel.iter().map(|p| p.user_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.id, u))
        .collect();

    // 3. Last check-in per patient.
    let last_check_in: HashMap<Uuid, DateTime<Utc>> = check_ins::Entity::find()
        .select_only()
        .column(check_ins::Column::PatientId)
        .column_as(check_ins::Column::SubmittedAt.max(), "last")
        .filter(check_ins::Column::PatientId.is_in(ids.iter().copied()))
        .group_by(check_ins::Column::PatientId)
        .into_tuple::<(Uuid, DateTime<Utc>)>()
        .all(db)
        .await?
        .into_iter()
        .collect();

    // 4–5. Latest withdrawal assessment per patient: the newest times, then
    // the rows at those times.
    let latest_at: HashMap<Uuid, DateTime<Utc>> = withdrawal_assessments::Entity::find()
        .select_only()
        .column(withdrawal_assessments::Column::PatientId)
        .column_as(withdrawal_assessments::Column::AssessedAt.max(), "last")
        .filter(withdrawal_assessments::Column::PatientId.is_in(ids.iter().copied()))
        .group_by(withdrawal_assessments::Column::PatientId)
        .into_tuple::<(Uuid, DateTime<Utc>)>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    let mut severity: HashMap<Uuid, Severity> = HashMap::new();
    if !latest_at.is_empty() {
        let times: HashSet<DateTime<Utc>> = latest_at.values().copied().collect();
        let rows: Vec<(Uuid, DateTime<Utc>, String)> = withdrawal_assessments::Entity::find()
            .select_only()
            .column(withdrawal_assessments::Column::PatientId)
            .column(withdrawal_assessments::Column::AssessedAt)
            .column(withdrawal_assessments::Column::Severity)
            .filter(withdrawal_assessments::Column::PatientId.is_in(latest_at.keys().copied()))
            .filter(withdrawal_assessments::Column::AssessedAt.is_in(times))
            .into_tuple()
            .all(db)
            .await?;
        for (patient, at, band) in rows {
            if latest_at.get(&patient) == Some(&at)
                && let Some(band) = Severity::parse(&band)
            {
                severity.insert(patient, band);
            }
        }
    }

    // 6. Open alerts per patient.
    let open: HashMap<Uuid, i64> = alert_rows::Entity::find()
        .select_only()
        .column(alert_rows::Column::PatientId)
        .column_as(alert_rows::Column::Id.count(), "open")
        .filter(alert_rows::Column::PatientId.is_in(ids.iter().copied()))
        .filter(alert_rows::Column::Status.ne(alerts::RESOLVED))
        .group_by(alert_rows::Column::PatientId)
        .into_tuple::<(Uuid, i64)>()
        .all(db)
        .await?
        .into_iter()
        .collect();

    // 7–8. Live plans with their steps.
    let live = taper_plans::Entity::find()
        .filter(taper_plans::Column::PatientId.is_in(ids.iter().copied()))
        .filter(
            taper_plans::Column::Status.is_in([Status::Active.as_str(), Status::Paused.as_str()]),
        )
        .all(db)
        .await?;
    let mut plan_of: HashMap<Uuid, plan_store::PlanRecord> = HashMap::new();
    for record in plan_store::with_steps(db, live).await? {
        plan_of.entry(record.plan.patient_id).or_insert(record);
    }

    // 9. The last 8 days of doses (covers every time zone's 7 days).
    let since = (now - Duration::days(8)).date_naive();
    let taken: Vec<(Uuid, Uuid, NaiveDate, f64)> = dose_logs::Entity::find()
        .select_only()
        .column(dose_logs::Column::PatientId)
        .column(dose_logs::Column::MedicationId)
        .column(dose_logs::Column::TakenOn)
        .column_as(dose_logs::Column::Amount.sum(), "taken")
        .filter(dose_logs::Column::PatientId.is_in(ids.iter().copied()))
        .filter(dose_logs::Column::TakenOn.gte(since))
        .group_by(dose_logs::Column::PatientId)
        .group_by(dose_logs::Column::MedicationId)
        .group_by(dose_logs::Column::TakenOn)
        .into_tuple()
        .all(db)
        .await?;
    let mut taken_by: HashMap<(Uuid, Uuid, NaiveDate), f64> = HashMap::new();
    for (patient, medication, day, amount) in taken {
        taken_by.insert((patient, medication, day), amount);
    }

    let mut rows: Vec<CareTeamOverviewRow> = panel
        .into_iter()
        .map(|patient| {
            let person = people.get(&patient.user_id);
            let today = lifecycle::today_in(person.map_or("UTC", |u| u.timezone.as_str()), now);
            let plan = plan_of.get(&patient.id);
            let (current_step_index, mme_reduction_percent, adherence_7d) = match plan {
                Some(record) => {
                    let day =
                        lifecycle::effective_day(record.status(), record.plan.paused_on, today);
                    let step = lifecycle::step_on(&record.steps, day);
                    let start_mme = record.steps.first().and_then(|s| s.daily_mme);
                    let reduction = match (start_mme, step.and_then(|s| s.daily_mme)) {
                        (Some(start), Some(now)) if start > 0.0 => {
                            Some((start - now) / start * 100.0)
                        }
                        _ => None,
                    };
                    let days: Vec<_> = (0..7)
                        .map(|back| {
                            let d = today - Duration::days(back);
                            let scheduled = lifecycle::dose_on(
                                &record.steps,
                                lifecycle::effective_day(record.status(), record.plan.paused_on, d),
                            );
                            let amount = taken_by
                                .get(&(patient.id, record.plan.medication_id, d))
                                .copied()
                                .unwrap_or(0.0);
                            adherence::day(scheduled, amount)
                        })
                        .collect();
                    (
                        step.map(|s| s.index as i32),
                        reduction,
                        adherence::mean(&days),
                    )
                }
                None => (None, None, None),
            };
            let last = last_check_in.get(&patient.id).copied();
            let band = severity.get(&patient.id).copied();
            let open_alerts = open.get(&patient.id).copied().unwrap_or(0);
            let quiet = last.is_none_or(|at| now - at > Duration::days(3));
            let risk = 3 * open_alerts as i32
                + severity_weight(band)
                + i32::from(adherence_7d.is_some_and(|a| a < 0.8))
                + i32::from(quiet);
            CareTeamOverviewRow {
                name: person.map_or_else(String::new, |u| u.display_name.clone()),
                patient,
                last_check_in_at: last,
                severity: band,
                open_alerts,
                current_step_index,
                mme_reduction_percent,
                adherence_7d,
                risk,
            }
        })
        .collect();
    match sort {
        CareTeamOverviewSort::Risk => rows.sort_by(|a, b| {
            b.risk
                .cmp(&a.risk)
                .then_with(|| a.name.cmp(&b.name))
                .then(a.patient.id.cmp(&b.patient.id))
        }),
        CareTeamOverviewSort::LastCheckIn => rows.sort_by(|a, b| {
            a.last_check_in_at
                .cmp(&b.last_check_in_at)
                .then(a.patient.id.cmp(&b.patient.id))
        }),
        CareTeamOverviewSort::Name => {
            rows.sort_by(|a, b| a.name.cmp(&b.name).then(a.patient.id.cmp(&b.patient.id)))
        }
    }
    let shown: Vec<Uuid> = rows
        .iter()
        .skip(offset as usize)
        .take(first as usize)
        .map(|r| r.patient.id)
        .collect();
    audit::record_many(
        db,
        ctx.request_id(),
        shown.iter().map(|id| {
            AuditEvent::by(
                principal,
                "careTeamOverview.read",
                "Patient",
                Some(*id),
                Some(*id),
                true,
            )
        }),
    )
    .await?;
=======
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
>>>>>>> wt-monitoring
    Ok(pagination::offset_connection(rows, first, offset))
}
