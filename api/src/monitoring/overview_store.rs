//! The clinician's panel in the database: every patient on their care teams
//! with the figures the overview shows. Set-based: the same number of SQL
//! statements for a page of 5 as for a page of 100 (or the whole panel),
//! since risk ordering needs every row's figures before paging.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect,
    sea_query::{Expr, ExprTrait, Query, SelectStatement},
};
use uuid::Uuid;

use entity::{
    alerts, care_team_members, check_ins, dose_logs, patients, taper_plans, users,
    withdrawal_assessments,
};

use super::{
    risk::{self, Figures, Ranked},
    rules::AlertStatus,
    scales::Severity,
};
use crate::{
    auth::Principal,
    error::ApiResult,
    tapering::{
        adherence,
        lifecycle::{self, Status},
        plan_store::{self as plans, PlanRecord},
    },
};

/// Days of doses loaded for 7-day adherence: one more covers every time
/// zone's last 7 days.
const DOSE_DAYS_LOADED: i64 = 8;
/// Days adherence is measured over.
const ADHERENCE_DAYS: i64 = 7;

/// Patients whose care team `clinician` is on (as a subquery).
pub fn care_team_patients(clinician: Uuid) -> SelectStatement {
    Query::select()
        .column(care_team_members::Column::PatientId)
        .from(care_team_members::Entity)
        .and_where(Expr::col(care_team_members::Column::ClinicianUserId).eq(clinician))
        .to_owned()
}

/// One patient of the panel with their figures.
#[derive(Debug, Clone)]
pub struct PanelRow {
    pub patient: patients::Model,
    pub name: String,
    pub figures: Figures,
    pub current_step_index: Option<i32>,
    /// From the active plan's starting MME to today's step's.
    pub mme_reduction_percent: Option<f64>,
    pub risk: i32,
}

impl Ranked for PanelRow {
    fn risk(&self) -> i32 {
        self.risk
    }
    fn name(&self) -> &str {
        &self.name
    }
    fn patient_id(&self) -> Uuid {
        self.patient.id
    }
    fn last_check_in_at(&self) -> Option<DateTime<Utc>> {
        self.figures.last_check_in_at
    }
}

/// Every patient on `clinician`'s care teams (in their organization), with
/// figures as of `now`, unordered.
pub async fn panel(
    db: &impl ConnectionTrait,
    clinician: &Principal,
    now: DateTime<Utc>,
) -> ApiResult<Vec<PanelRow>> {
    let panel = patients::Entity::find()
        .filter(patients::Column::OrganizationId.eq(clinician.organization_id))
        .filter(patients::Column::Id.in_subquery(care_team_patients(clinician.user_id)))
        .all(db)
        .await?;
    let ids: Vec<Uuid> = panel.iter().map(|p| p.id).collect();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let people: HashMap<Uuid, users::Model> = users::Entity::find()
        .filter(users::Column::Id.is_in(panel.iter().map(|p| p.user_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.id, u))
        .collect();
    let facts = Facts {
        last_check_in: last_check_ins(db, &ids).await?,
        severity: latest_severities(db, &ids).await?,
        open: open_alerts(db, &ids).await?,
        plan_of: live_plans(db, &ids).await?,
        taken: recent_doses(db, &ids, now).await?,
    };
    Ok(panel
        .into_iter()
        .map(|patient| {
            let person = people.get(&patient.user_id);
            let today = lifecycle::today_in(person.map_or("UTC", |u| u.timezone.as_str()), now);
            let name = person.map_or_else(String::new, |u| u.display_name.clone());
            facts.row(patient, name, today, now)
        })
        .collect())
}

/// The panel's figures, loaded once for every patient.
struct Facts {
    last_check_in: HashMap<Uuid, DateTime<Utc>>,
    severity: HashMap<Uuid, Severity>,
    open: HashMap<Uuid, i64>,
    plan_of: HashMap<Uuid, PlanRecord>,
    /// Amount taken per (patient, medication, day).
    taken: HashMap<(Uuid, Uuid, NaiveDate), f64>,
}

impl Facts {
    fn row(
        &self,
        patient: patients::Model,
        name: String,
        today: NaiveDate,
        now: DateTime<Utc>,
    ) -> PanelRow {
        let (current_step_index, mme_reduction_percent, adherence_7d) =
            match self.plan_of.get(&patient.id) {
                Some(record) => self.progress(patient.id, record, today),
                None => (None, None, None),
            };
        let figures = Figures {
            open_alerts: self.open.get(&patient.id).copied().unwrap_or(0),
            severity: self.severity.get(&patient.id).copied(),
            adherence_7d,
            last_check_in_at: self.last_check_in.get(&patient.id).copied(),
        };
        PanelRow {
            patient,
            name,
            risk: risk::score(&figures, now),
            figures,
            current_step_index,
            mme_reduction_percent,
        }
    }

    /// Today's step, the MME reduction since the plan's first step, and
    /// adherence over the last 7 days.
    fn progress(
        &self,
        patient: Uuid,
        record: &PlanRecord,
        today: NaiveDate,
    ) -> (Option<i32>, Option<f64>, Option<f64>) {
        let on = |d| lifecycle::effective_day(record.status(), record.plan.paused_on, d);
        let step = lifecycle::step_on(&record.steps, on(today));
        let start_mme = record.steps.first().and_then(|s| s.daily_mme);
        let reduction = match (start_mme, step.and_then(|s| s.daily_mme)) {
            (Some(start), Some(now)) if start > 0.0 => Some((start - now) / start * 100.0),
            _ => None,
        };
        let days: Vec<_> = (0..ADHERENCE_DAYS)
            .map(|back| {
                let d = today - Duration::days(back);
                let scheduled = lifecycle::dose_on(&record.steps, on(d));
                let amount = self
                    .taken
                    .get(&(patient, record.plan.medication_id, d))
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
}

/// Last check-in per patient.
async fn last_check_ins(
    db: &impl ConnectionTrait,
    ids: &[Uuid],
) -> ApiResult<HashMap<Uuid, DateTime<Utc>>> {
    Ok(check_ins::Entity::find()
        .select_only()
        .column(check_ins::Column::PatientId)
        .column_as(check_ins::Column::SubmittedAt.max(), "last")
        .filter(check_ins::Column::PatientId.is_in(ids.iter().copied()))
        .group_by(check_ins::Column::PatientId)
        .into_tuple::<(Uuid, DateTime<Utc>)>()
        .all(db)
        .await?
        .into_iter()
        .collect())
}

/// Latest withdrawal band per patient: the newest times, then the rows at
/// those times (two statements).
async fn latest_severities(
    db: &impl ConnectionTrait,
    ids: &[Uuid],
) -> ApiResult<HashMap<Uuid, Severity>> {
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
    let mut severity = HashMap::new();
    if latest_at.is_empty() {
        return Ok(severity);
    }
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
    Ok(severity)
}

/// Unresolved alerts per patient.
async fn open_alerts(db: &impl ConnectionTrait, ids: &[Uuid]) -> ApiResult<HashMap<Uuid, i64>> {
    Ok(alerts::Entity::find()
        .select_only()
        .column(alerts::Column::PatientId)
        .column_as(alerts::Column::Id.count(), "open")
        .filter(alerts::Column::PatientId.is_in(ids.iter().copied()))
        .filter(alerts::Column::Status.ne(AlertStatus::Resolved.as_str()))
        .group_by(alerts::Column::PatientId)
        .into_tuple::<(Uuid, i64)>()
        .all(db)
        .await?
        .into_iter()
        .collect())
}

/// Each patient's live (active or paused) plan with its steps.
async fn live_plans(
    db: &impl ConnectionTrait,
    ids: &[Uuid],
) -> ApiResult<HashMap<Uuid, PlanRecord>> {
    let live = taper_plans::Entity::find()
        .filter(taper_plans::Column::PatientId.is_in(ids.iter().copied()))
        .filter(
            taper_plans::Column::Status.is_in([Status::Active.as_str(), Status::Paused.as_str()]),
        )
        .all(db)
        .await?;
    let mut plan_of = HashMap::new();
    for record in plans::with_steps(db, live).await? {
        plan_of.entry(record.plan.patient_id).or_insert(record);
    }
    Ok(plan_of)
}

/// The amounts taken per patient, medication and day, recently.
async fn recent_doses(
    db: &impl ConnectionTrait,
    ids: &[Uuid],
    now: DateTime<Utc>,
) -> ApiResult<HashMap<(Uuid, Uuid, NaiveDate), f64>> {
    let since = (now - Duration::days(DOSE_DAYS_LOADED)).date_naive();
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
    Ok(taken
        .into_iter()
        .map(|(patient, medication, day, amount)| ((patient, medication, day), amount))
        .collect())
}
