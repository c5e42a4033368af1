//! Trends for charts: one row per day (patient's time zone) of pain, PEG,
//! craving, mood, sleep (daily means), SOWS and COWS (the day's worst),
//! scheduled versus taken MME, and whether the patient checked in. A fixed
//! handful of queries whatever the range.

use std::collections::BTreeMap;

use async_graphql::{Context, SimpleObject};
use chrono::{Duration, NaiveDate};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use entity::{check_ins, dose_logs, medication_orders, medications, withdrawal_assessments};

use crate::{
    caller::ContextExt,
    error::{ApiError, ApiResult},
    graphql::scalars::Date,
    tapering::{
        self,
        lifecycle::{self, Status},
    },
};

#[derive(SimpleObject, Debug, Clone, PartialEq)]
pub struct TrendDay {
    pub date: Date,
    pub pain_score: Option<f64>,
    pub peg_score: Option<f64>,
    pub craving_score: Option<f64>,
    pub mood: Option<f64>,
    pub sleep_hours: Option<f64>,
    /// The day's highest SOWS total.
    pub sows_total: Option<i32>,
    /// The day's highest COWS total.
    pub cows_total: Option<i32>,
    /// From the plan in effect that day, else the regimen.
    pub scheduled_mme: Option<f64>,
    pub taken_mme: Option<f64>,
    pub checked_in: bool,
}

/// Running means of one day's check-ins.
#[derive(Default)]
struct Means {
    sums: [f64; 5],
    counts: [u32; 5],
}

impl Means {
    fn add(&mut self, index: usize, value: Option<f64>) {
        if let Some(v) = value {
            self.sums[index] += v;
            self.counts[index] += 1;
        }
    }
    fn mean(&self, index: usize) -> Option<f64> {
        (self.counts[index] > 0).then(|| self.sums[index] / f64::from(self.counts[index]))
    }
}

pub async fn for_patient(
    ctx: &Context<'_>,
    patient: &entity::patients::Model,
    from: NaiveDate,
    to: NaiveDate,
) -> ApiResult<Vec<TrendDay>> {
    if to < from {
        return Err(ApiError::bad_input("to", "to must not be before from"));
    }
    if (to - from).num_days() > 366 {
        return Err(ApiError::bad_input("to", "at most 366 days at a time"));
    }
    let db = ctx.db()?;
    let id = patient.id;
    let checks = check_ins::Entity::find()
        .filter(check_ins::Column::PatientId.eq(id))
        .filter(check_ins::Column::LocalDate.between(from, to))
        .all(db)
        .await?;
    let assessments = withdrawal_assessments::Entity::find()
        .filter(withdrawal_assessments::Column::PatientId.eq(id))
        .filter(withdrawal_assessments::Column::LocalDate.between(from, to))
        .all(db)
        .await?;
    let logs = dose_logs::Entity::find()
        .filter(dose_logs::Column::PatientId.eq(id))
        .filter(dose_logs::Column::TakenOn.between(from, to))
        .all(db)
        .await?;
    let orders = medication_orders::Entity::find()
        .filter(medication_orders::Column::PatientId.eq(id))
        .all(db)
        .await?;
    let factors: BTreeMap<Uuid, Option<f64>> = medications::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|m| (m.id, m.mme_factor))
        .collect();
    let plans: Vec<_> = tapering::plan_store::for_patient(db, id)
        .await?
        .into_iter()
        .filter(|r| {
            matches!(
                r.status(),
                Status::Active | Status::Paused | Status::Completed
            )
        })
        .collect();

    let mut means: BTreeMap<NaiveDate, Means> = BTreeMap::new();
    for c in &checks {
        let m = means.entry(c.local_date).or_default();
        m.add(0, c.pain_score.map(f64::from));
        m.add(1, c.peg_score);
        m.add(2, c.craving_score.map(f64::from));
        m.add(3, c.mood.map(f64::from));
        m.add(4, c.sleep_hours);
    }
    let mut worst: BTreeMap<(NaiveDate, bool), i32> = BTreeMap::new();
    for a in &assessments {
        let entry = worst
            .entry((a.local_date, a.instrument == "COWS"))
            .or_insert(a.total);
        *entry = (*entry).max(a.total);
    }
    let mut taken: BTreeMap<NaiveDate, f64> = BTreeMap::new();
    for log in &logs {
        if let Some(Some(factor)) = factors.get(&log.medication_id) {
            *taken.entry(log.taken_on).or_default() += log.amount * factor;
        }
    }

    let mut days = Vec::new();
    let mut day = from;
    while day <= to {
        let m = means.get(&day);
        let mut scheduled = None;
        for record in &plans {
            let effective = lifecycle::effective_day(record.status(), record.plan.paused_on, day);
            if let Some(dose) = lifecycle::dose_on(&record.steps, effective)
                && let Some(Some(factor)) = factors.get(&record.plan.medication_id)
            {
                *scheduled.get_or_insert(0.0) += dose * factor;
            }
        }
        if scheduled.is_none() {
            for order in orders
                .iter()
                .filter(|o| crate::tapering::regimen_store::in_effect(o, day))
            {
                if let Some(Some(factor)) = factors.get(&order.medication_id) {
                    *scheduled.get_or_insert(0.0) +=
                        order.dose * f64::from(order.doses_per_day) * factor;
                }
            }
        }
        days.push(TrendDay {
            date: day.into(),
            pain_score: m.and_then(|m| m.mean(0)),
            peg_score: m.and_then(|m| m.mean(1)),
            craving_score: m.and_then(|m| m.mean(2)),
            mood: m.and_then(|m| m.mean(3)),
            sleep_hours: m.and_then(|m| m.mean(4)),
            sows_total: worst.get(&(day, false)).copied(),
            cows_total: worst.get(&(day, true)).copied(),
            scheduled_mme: scheduled,
            taken_mme: taken.get(&day).copied().or(scheduled.map(|_| 0.0)),
            checked_in: m.is_some(),
        });
        day += Duration::days(1);
    }
    Ok(days)
}
