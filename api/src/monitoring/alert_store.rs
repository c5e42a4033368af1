//! Alerts in the database. Raising them: the rules in `rules` are evaluated
//! inside the transaction of the write that triggers them (a check-in, an
//! assessment, a dose, a regimen or plan change, or the daily check); an
//! alert is stored once per cause per 24 hours (withdrawal: per instrument
//! and band, a worse band at once; standing conditions: once while one is
//! unresolved), with a notification for each care-team clinician
//! (and, where it concerns them, for the patient). The returned events are
//! published to live subscribers after the transaction commits.
//!
//! Also the care team's list of alerts and their acknowledgement and
//! resolution.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use entity::{alerts, check_ins, patients, users, withdrawal_assessments};

use super::{
    overview_store::care_team_patients,
    rules::{self, AlertKind, AlertStatus, PlanWindow, Raised},
    scales::Instrument,
};
use crate::{
    audit::Kind,
    auth::Principal,
    authz::policy::care_teams,
    error::ApiResult,
    graphql::pagination::Page,
    notifications::{
        LiveEvent,
        notification_store::{self, NewNotification},
    },
    patients::patient_store,
    tapering::{
        lifecycle,
        plan_store::{self as plans, PlanRecord},
    },
};

/// An alert, in the audit trail and in `NOT_FOUND`.
pub const ALERT: Kind = Kind::new("Alert", "alert");

/// Named in a notification when the patient's account is missing.
const UNNAMED_PATIENT: &str = "A patient";

/// Which alerts a list shows.
#[derive(Debug, Clone, Copy, Default)]
pub struct AlertFilter {
    pub patient_id: Option<Uuid>,
    /// Only OPEN ones.
    pub unacknowledged_only: bool,
    /// Not RESOLVED ones.
    pub unresolved_only: bool,
}

/// One page of the alerts for patients on `clinician`'s care teams, newest
/// first (`page.fetch()` rows).
pub async fn page(
    db: &impl ConnectionTrait,
    clinician: &Principal,
    filter: AlertFilter,
    page: Page,
) -> ApiResult<Vec<alerts::Model>> {
    let mut query = alerts::Entity::find()
        .filter(alerts::Column::OrganizationId.eq(clinician.organization_id))
        .filter(alerts::Column::PatientId.in_subquery(care_team_patients(clinician.user_id)));
    if let Some(patient) = filter.patient_id {
        query = query.filter(alerts::Column::PatientId.eq(patient));
    }
    if filter.unacknowledged_only {
        query = query.filter(alerts::Column::Status.eq(AlertStatus::Open.as_str()));
    }
    if filter.unresolved_only {
        query = query.filter(alerts::Column::Status.ne(AlertStatus::Resolved.as_str()));
    }
    if let Some(after) = page.after {
        query = query.filter(alerts::Column::Id.lt(after));
    }
    Ok(query
        .order_by_desc(alerts::Column::Id)
        .limit(page.fetch())
        .all(db)
        .await?)
}

pub async fn find(db: &impl ConnectionTrait, id: Uuid) -> ApiResult<Option<alerts::Model>> {
    Ok(alerts::Entity::find_by_id(id).one(db).await?)
}

/// Marks an OPEN alert acknowledged by `user`; any other alert is returned
/// as it is.
pub async fn acknowledge(
    db: &impl ConnectionTrait,
    alert: alerts::Model,
    user: Uuid,
    now: DateTime<Utc>,
) -> ApiResult<alerts::Model> {
    if alert.status != AlertStatus::Open.as_str() {
        return Ok(alert);
    }
    let mut active = alert.into_active_model();
    active.status = Set(AlertStatus::Acknowledged.as_str().to_owned());
    active.acknowledged_at = Set(Some(now));
    active.acknowledged_by_user_id = Set(Some(user));
    Ok(active.update(db).await?)
}

/// Resolves an alert (not already resolved) with `note`; one never
/// acknowledged counts as acknowledged by the resolver.
pub async fn resolve(
    db: &impl ConnectionTrait,
    alert: alerts::Model,
    user: Uuid,
    note: String,
    now: DateTime<Utc>,
) -> ApiResult<alerts::Model> {
    let unacknowledged = alert.acknowledged_at.is_none();
    let mut active = alert.into_active_model();
    active.status = Set(AlertStatus::Resolved.as_str().to_owned());
    active.resolved_at = Set(Some(now));
    active.resolved_by_user_id = Set(Some(user));
    active.resolution_note = Set(Some(note));
    if unacknowledged {
        active.acknowledged_at = Set(Some(now));
        active.acknowledged_by_user_id = Set(Some(user));
    }
    Ok(active.update(db).await?)
}

/// Stores `raised` unless an alert for the same cause (or one it names in
/// `also_duplicates`) is open or acknowledged: from the last 24 hours, or at
/// any age for a standing condition (`AlertKind::standing`). Notifies the
/// care team (and the patient where it concerns them).
pub async fn raise(
    db: &impl ConnectionTrait,
    patient: &patients::Model,
    raised: Raised,
    now: DateTime<Utc>,
) -> ApiResult<Vec<LiveEvent>> {
    let causes = std::iter::once(raised.cause.clone()).chain(raised.also_duplicates.clone());
    let mut duplicate = alerts::Entity::find()
        .filter(alerts::Column::PatientId.eq(patient.id))
        .filter(alerts::Column::Cause.is_in(causes))
        .filter(alerts::Column::Status.ne(AlertStatus::Resolved.as_str()));
    if !raised.kind.standing() {
        duplicate = duplicate.filter(
            alerts::Column::CreatedAt.gt(now - Duration::hours(rules::DUPLICATE_WINDOW_HOURS)),
        );
    }
    if duplicate.one(db).await?.is_some() {
        return Ok(Vec::new());
    }
    let alert = insert(db, patient, &raised, now).await?;
    let team: Vec<Uuid> = care_teams(db, &[patient.id])
        .await?
        .into_iter()
        .map(|(_, clinician)| clinician)
        .collect();
    let name = users::Entity::find_by_id(patient.user_id)
        .one(db)
        .await?
        .map_or_else(|| UNNAMED_PATIENT.to_owned(), |u| u.display_name);
    let mut events = Vec::new();
    let team_body = rules::team_message(&name, &raised);
    for clinician in &team {
        let text = (raised.kind.title(), team_body.as_str());
        let note = notify(db, *clinician, raised.kind, text, &alert, now).await?;
        events.push(LiveEvent::Notification(note));
    }
    if raised.kind.tells_patient() && !team.is_empty() {
        let body = rules::patient_message(&raised);
        let text = (rules::PATIENT_TITLE, body.as_str());
        let note = notify(db, patient.user_id, raised.kind, text, &alert, now).await?;
        events.push(LiveEvent::Notification(note));
    }
    events.push(LiveEvent::Alert {
        alert,
        recipients: team,
    });
    Ok(events)
}

async fn insert(
    db: &impl ConnectionTrait,
    patient: &patients::Model,
    raised: &Raised,
    now: DateTime<Utc>,
) -> ApiResult<alerts::Model> {
    Ok(alerts::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(patient.organization_id),
        patient_id: Set(patient.id),
        kind: Set(raised.kind.as_str().to_owned()),
        cause: Set(raised.cause.clone()),
        summary: Set(raised.summary.clone()),
        suggested_action: Set(raised.suggested_action.clone()),
        evidence: Set(serde_json::to_string(&raised.evidence).unwrap_or_else(|_| "[]".into())),
        status: Set(AlertStatus::Open.as_str().to_owned()),
        created_at: Set(now),
        acknowledged_at: Set(None),
        acknowledged_by_user_id: Set(None),
        resolved_at: Set(None),
        resolved_by_user_id: Set(None),
        resolution_note: Set(None),
    }
    .insert(db)
    .await?)
}

/// The notification of `alert` (of `kind`) for `user`.
async fn notify(
    db: &impl ConnectionTrait,
    user: Uuid,
    kind: AlertKind,
    (title, body): (&str, &str),
    alert: &alerts::Model,
    now: DateTime<Utc>,
) -> ApiResult<entity::notifications::Model> {
    let new = NewNotification {
        user_id: user,
        kind: kind.notification_kind(),
        title,
        body,
        alert_id: Some(alert.id),
        patient_id: Some(alert.patient_id),
    };
    notification_store::create(db, new, now).await
}

/// Raises each of `candidates` that is an alert (see `raise`).
pub async fn raise_all(
    db: &impl ConnectionTrait,
    patient: &patients::Model,
    candidates: Vec<Option<Raised>>,
    now: DateTime<Utc>,
) -> ApiResult<Vec<LiveEvent>> {
    let mut events = Vec::new();
    for raised in candidates.into_iter().flatten() {
        events.extend(raise(db, patient, raised, now).await?);
    }
    Ok(events)
}

/// The live plan and "today" for the patient.
async fn live_plan(
    db: &impl ConnectionTrait,
    patient: &patients::Model,
    now: DateTime<Utc>,
) -> ApiResult<(Option<PlanRecord>, NaiveDate)> {
    let timezone = patient_store::timezone(db, patient).await?;
    let today = lifecycle::today_in(&timezone, now);
    Ok((plans::current_for_patient(db, patient.id).await?, today))
}

/// After a check-in: high craving, a rising craving trend, pain and
/// function worse than at the taper's start.
pub async fn after_check_in(
    db: &impl ConnectionTrait,
    patient: &patients::Model,
    check_in: &check_ins::Model,
    now: DateTime<Utc>,
) -> ApiResult<Vec<LiveEvent>> {
    let mut candidates = Vec::new();
    if let Some(craving) = check_in.craving_score {
        candidates.push(rules::high_craving(check_in.id, craving));
        let latest = latest_cravings(db, patient.id).await?;
        candidates.push(rules::worsening_trend("craving", &latest, "CheckIn"));
    }
    if let Some(peg) = check_in.peg_score {
        let (plan, _) = live_plan(db, patient, now).await?;
        if let Some(plan) = plan {
            let start = plan
                .steps
                .first()
                .map_or(plan.plan.starts_on, |s| s.starts_on);
            let baseline = baseline_peg(db, patient.id, start, check_in.id).await?;
            candidates.push(rules::pain_function_worse((check_in.id, peg), baseline));
        }
    }
    raise_all(db, patient, candidates, now).await
}

/// The patient's latest three craving scores, oldest first.
async fn latest_cravings(db: &impl ConnectionTrait, patient: Uuid) -> ApiResult<Vec<(Uuid, i32)>> {
    let mut latest: Vec<(Uuid, i32)> = check_ins::Entity::find()
        .select_only()
        .column(check_ins::Column::Id)
        .column(check_ins::Column::CravingScore)
        .filter(check_ins::Column::PatientId.eq(patient))
        .filter(check_ins::Column::CravingScore.is_not_null())
        .order_by_desc(check_ins::Column::SubmittedAt)
        .order_by_desc(check_ins::Column::Id)
        .limit(3)
        .into_tuple()
        .all(db)
        .await?;
    latest.reverse();
    Ok(latest)
}

/// The latest PEG on or before the plan's start; if none, the first after.
async fn baseline_peg(
    db: &impl ConnectionTrait,
    patient: Uuid,
    start: NaiveDate,
    exclude: Uuid,
) -> ApiResult<Option<(Uuid, f64)>> {
    let base = || {
        check_ins::Entity::find()
            .select_only()
            .column(check_ins::Column::Id)
            .column(check_ins::Column::PegScore)
            .filter(check_ins::Column::PatientId.eq(patient))
            .filter(check_ins::Column::PegScore.is_not_null())
            .filter(check_ins::Column::Id.ne(exclude))
    };
    let before: Option<(Uuid, Option<f64>)> = base()
        .filter(check_ins::Column::LocalDate.lte(start))
        .order_by_desc(check_ins::Column::SubmittedAt)
        .into_tuple()
        .one(db)
        .await?;
    let found = match before {
        Some(row) => Some(row),
        None => {
            base()
                .filter(check_ins::Column::LocalDate.gt(start))
                .order_by_asc(check_ins::Column::SubmittedAt)
                .into_tuple()
                .one(db)
                .await?
        }
    };
    Ok(found.and_then(|(id, peg)| peg.map(|p| (id, p))))
}

/// Whether the patient's withdrawal scores raise alerts today: a plan ACTIVE
/// or PAUSED since its start, or COMPLETED within 90 days (`rules`).
async fn withdrawal_watched(
    db: &impl ConnectionTrait,
    patient: &patients::Model,
    now: DateTime<Utc>,
) -> ApiResult<bool> {
    let timezone = patient_store::timezone(db, patient).await?;
    let today = lifecycle::today_in(&timezone, now);
    let windows: Vec<PlanWindow> = plans::for_patient(db, patient.id)
        .await?
        .iter()
        .map(|p| PlanWindow {
            status: p.status_on(today),
            first_step_starts: p.steps.first().map(|s| s.starts_on),
            last_step_ends: p.steps.last().map(|s| s.ends_on),
        })
        .collect();
    Ok(rules::withdrawal_watched(&windows, today))
}

/// After a withdrawal assessment: moderate or worse while the taper is
/// watched (deduplicated per band), and a rising SOWS trend.
pub async fn after_assessment(
    db: &impl ConnectionTrait,
    patient: &patients::Model,
    assessment: &withdrawal_assessments::Model,
    now: DateTime<Utc>,
) -> ApiResult<Vec<LiveEvent>> {
    let Some(instrument) = Instrument::parse(&assessment.instrument) else {
        return Ok(Vec::new());
    };
    let watched = withdrawal_watched(db, patient, now).await?;
    let mut candidates = vec![rules::withdrawal(
        instrument,
        assessment.total,
        assessment.id,
        watched,
    )];
    if instrument == Instrument::Sows {
        let latest = latest_totals(db, patient.id, instrument).await?;
        candidates.push(rules::worsening_trend(
            instrument.as_str(),
            &latest,
            "WithdrawalAssessment",
        ));
    }
    raise_all(db, patient, candidates, now).await
}

/// The patient's latest three totals on `instrument`, oldest first.
async fn latest_totals(
    db: &impl ConnectionTrait,
    patient: Uuid,
    instrument: Instrument,
) -> ApiResult<Vec<(Uuid, i32)>> {
    let mut latest: Vec<(Uuid, i32)> = withdrawal_assessments::Entity::find()
        .select_only()
        .column(withdrawal_assessments::Column::Id)
        .column(withdrawal_assessments::Column::Total)
        .filter(withdrawal_assessments::Column::PatientId.eq(patient))
        .filter(withdrawal_assessments::Column::Instrument.eq(instrument.as_str()))
        .order_by_desc(withdrawal_assessments::Column::AssessedAt)
        .order_by_desc(withdrawal_assessments::Column::Id)
        .limit(3)
        .into_tuple()
        .all(db)
        .await?;
    latest.reverse();
    Ok(latest)
}

/// After a dose log: the day's doses above its scheduled dose.
pub async fn after_dose(
    db: &impl ConnectionTrait,
    patient: &patients::Model,
    day: NaiveDate,
    taken: f64,
    scheduled: Option<f64>,
    log: Uuid,
    now: DateTime<Utc>,
) -> ApiResult<Vec<LiveEvent>> {
    raise_all(
        db,
        patient,
        vec![rules::dose_above_schedule(day, taken, scheduled, log)],
        now,
    )
    .await
}

/// After a patch is logged: the patches on at one moment (`peak_rate`)
/// above the scheduled rate.
pub async fn after_patch(
    db: &impl ConnectionTrait,
    patient: &patients::Model,
    day: NaiveDate,
    peak_rate: f64,
    scheduled: Option<f64>,
    log: Uuid,
    now: DateTime<Utc>,
) -> ApiResult<Vec<LiveEvent>> {
    raise_all(
        db,
        patient,
        vec![rules::patch_above_schedule(day, peak_rate, scheduled, log)],
        now,
    )
    .await
}
