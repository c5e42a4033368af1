//! Raising alerts: the rules in `rules` are evaluated inside the transaction
//! of the write that triggers them; an alert is stored once per cause per
//! 24 hours, with a notification for each care-team clinician (and, where it
//! concerns them, for the patient). The returned events are published to
//! live subscribers after the transaction commits.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use uuid::Uuid;

use entity::{alerts, check_ins, notifications, patients, users, withdrawal_assessments};

use super::{
    rules::{self, Raised},
    scales::Instrument,
};
use crate::{
    authz::policy::care_teams,
    error::ApiResult,
    notifications::LiveEvent,
    tapering::{self, lifecycle::Status},
};

pub const OPEN: &str = "OPEN";
pub const ACKNOWLEDGED: &str = "ACKNOWLEDGED";
pub const RESOLVED: &str = "RESOLVED";

fn title(kind: rules::AlertKind) -> &'static str {
    use rules::AlertKind::*;
    match kind {
        WithdrawalModerateOrWorse => "Moderate or worse withdrawal during the taper",
        WorseningTrend => "Symptoms worsening over three reports",
        PainFunctionWorse => "Pain and function worse than at the taper's start",
        DoseAboveSchedule => "Doses above the schedule",
        NaloxoneOfferDue => "Naloxone offer due",
        HighCraving => "High craving reported",
    }
}

/// Stores `raised` unless the same cause is already open from the last 24
/// hours; notifies the care team (and the patient where it concerns them).
pub async fn raise(
    db: &impl ConnectionTrait,
    patient: &patients::Model,
    raised: Raised,
    now: DateTime<Utc>,
) -> ApiResult<Vec<LiveEvent>> {
    let duplicate = alerts::Entity::find()
        .filter(alerts::Column::PatientId.eq(patient.id))
        .filter(alerts::Column::Cause.eq(raised.cause.as_str()))
        .filter(alerts::Column::Status.ne(RESOLVED))
        .filter(alerts::Column::CreatedAt.gt(now - Duration::hours(24)))
        .one(db)
        .await?;
    if duplicate.is_some() {
        return Ok(Vec::new());
    }
    let alert = alerts::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(patient.organization_id),
        patient_id: Set(patient.id),
        kind: Set(raised.kind.as_str().to_owned()),
        cause: Set(raised.cause.clone()),
        summary: Set(raised.summary.clone()),
        suggested_action: Set(raised.suggested_action.clone()),
        evidence: Set(serde_json::to_string(&raised.evidence).unwrap_or_else(|_| "[]".into())),
        status: Set(OPEN.to_owned()),
        created_at: Set(now),
        acknowledged_at: Set(None),
        acknowledged_by_user_id: Set(None),
        resolved_at: Set(None),
        resolved_by_user_id: Set(None),
        resolution_note: Set(None),
    }
    .insert(db)
    .await?;

    let team: Vec<Uuid> = care_teams(db, &[patient.id])
        .await?
        .into_iter()
        .map(|(_, clinician)| clinician)
        .collect();
    let name = users::Entity::find_by_id(patient.user_id)
        .one(db)
        .await?
        .map_or_else(|| "A patient".to_owned(), |u| u.display_name);
    let mut events = Vec::new();
    for clinician in &team {
        let note = notify(
            db,
            *clinician,
            title(raised.kind),
            &format!("{name}: {}. {}", raised.summary, raised.suggested_action),
            &alert,
            now,
        )
        .await?;
        events.push(LiveEvent::Notification(note));
    }
    if raised.kind.tells_patient() && !team.is_empty() {
        let note = notify(
            db,
            patient.user_id,
            "Your care team was notified",
            &format!(
                "{}. Your care team will review it; nothing about your dose changes by itself.",
                raised.summary
            ),
            &alert,
            now,
        )
        .await?;
        events.push(LiveEvent::Notification(note));
    }
    events.push(LiveEvent::Alert {
        alert,
        recipients: team,
    });
    Ok(events)
}

async fn notify(
    db: &impl ConnectionTrait,
    user: Uuid,
    title: &str,
    body: &str,
    alert: &alerts::Model,
    now: DateTime<Utc>,
) -> ApiResult<notifications::Model> {
    Ok(notifications::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user),
        kind: Set(format!("ALERT_{}", alert.kind)),
        title: Set(title.chars().take(200).collect()),
        body: Set(body.chars().take(1000).collect()),
        alert_id: Set(Some(alert.id)),
        patient_id: Set(Some(alert.patient_id)),
        created_at: Set(now),
        read_at: Set(None),
    }
    .insert(db)
    .await?)
}

async fn raise_all(
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
) -> ApiResult<(Option<tapering::plan_store::PlanRecord>, NaiveDate)> {
    let timezone = crate::patients::patient_store::timezone(db, patient).await?;
    let today = tapering::lifecycle::today_in(&timezone, now);
    Ok((
        tapering::plan_store::current_for_patient(db, patient.id).await?,
        today,
    ))
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
        let mut latest: Vec<(Uuid, i32)> = check_ins::Entity::find()
            .select_only()
            .column(check_ins::Column::Id)
            .column(check_ins::Column::CravingScore)
            .filter(check_ins::Column::PatientId.eq(patient.id))
            .filter(check_ins::Column::CravingScore.is_not_null())
            .order_by_desc(check_ins::Column::SubmittedAt)
            .order_by_desc(check_ins::Column::Id)
            .limit(3)
            .into_tuple()
            .all(db)
            .await?;
        latest.reverse();
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

/// After a withdrawal assessment: moderate or worse during an active taper,
/// and a rising SOWS trend.
pub async fn after_assessment(
    db: &impl ConnectionTrait,
    patient: &patients::Model,
    assessment: &withdrawal_assessments::Model,
    now: DateTime<Utc>,
) -> ApiResult<Vec<LiveEvent>> {
    let Some(instrument) = Instrument::parse(&assessment.instrument) else {
        return Ok(Vec::new());
    };
    let (plan, today) = live_plan(db, patient, now).await?;
    let taper_active = plan.is_some_and(|p| {
        p.status() == Status::Active && p.steps.first().is_some_and(|s| today >= s.starts_on)
    });
    let mut candidates = vec![rules::withdrawal(
        instrument,
        assessment.total,
        assessment.id,
        taper_active,
    )];
    if instrument == Instrument::Sows {
        let mut latest: Vec<(Uuid, i32)> = withdrawal_assessments::Entity::find()
            .select_only()
            .column(withdrawal_assessments::Column::Id)
            .column(withdrawal_assessments::Column::Total)
            .filter(withdrawal_assessments::Column::PatientId.eq(patient.id))
            .filter(withdrawal_assessments::Column::Instrument.eq("SOWS"))
            .order_by_desc(withdrawal_assessments::Column::AssessedAt)
            .order_by_desc(withdrawal_assessments::Column::Id)
            .limit(3)
            .into_tuple()
            .all(db)
            .await?;
        latest.reverse();
        candidates.push(rules::worsening_trend(
            "SOWS",
            &latest,
            "WithdrawalAssessment",
        ));
    }
    raise_all(db, patient, candidates, now).await
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

/// After the regimen or the plan changes: ≥ 50 MME/day (regimen or the
/// active step) without a naloxone offer on record.
pub async fn check_naloxone(
    db: &impl ConnectionTrait,
    patient: &patients::Model,
    now: DateTime<Utc>,
) -> ApiResult<Vec<LiveEvent>> {
    let (plan, today) = live_plan(db, patient, now).await?;
    let regimen = crate::tapering::regimen_store::regimen_daily_mme(db, patient.id, today).await?;
    let step = plan.as_ref().and_then(|p| {
        let day = tapering::lifecycle::effective_day(p.status(), p.plan.paused_on, today);
        tapering::lifecycle::step_on(&p.steps, day).and_then(|s| s.daily_mme)
    });
    let mme = match (regimen, step) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    };
    let offered = crate::tapering::regimen_store::last_naloxone_offer(db, patient.id)
        .await?
        .is_some();
    raise_all(
        db,
        patient,
        vec![rules::naloxone_offer_due(patient.id, mme, offered)],
        now,
    )
    .await
}
