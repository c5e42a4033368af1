//! Trends for charts, as a pure rule: from a patient's rows over a range to
//! one `TrendDay` per day (patient's time zone) — pain, PEG, craving, mood,
//! sleep (daily means), SOWS and COWS (the day's worst), scheduled versus
//! taken MME, and whether the patient checked in. No database, no async.

use std::collections::BTreeMap;

use async_graphql::SimpleObject;
use chrono::{Duration, NaiveDate};
use uuid::Uuid;

use entity::{check_ins, dose_logs, medication_orders, medications, withdrawal_assessments};

use super::scales::Instrument;
use crate::{
    error::InputError,
    graphql::scalars::{self, Date},
    tapering::{
        mme::{self, MedicationIndication},
        plan_store::{self, PlanRecord},
        regimen_store,
    },
};

/// Days one request may span.
pub const MAX_DAYS: i64 = 366;

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
    /// The day's total daily MME (CLINICAL.md): each tapered medication's
    /// step from the plan version in effect that day (superseded versions
    /// included) in place of its orders, the orders of every other opioid;
    /// buprenorphine and OUD methadone excluded.
    pub scheduled_mme: Option<f64>,
    /// MME of the doses logged that day (OUD methadone excluded).
    pub taken_mme: Option<f64>,
    /// The table the day's MME figures come from ("CDC_2022"); null with
    /// no figure.
    pub conversion_table: Option<String>,
    pub checked_in: bool,
}

/// What a series is built from: the patient's rows in the range, their
/// orders, every plan version that was in effect (active, paused,
/// completed, or superseded after activation), and the catalog.
#[derive(Debug, Clone, Default)]
pub struct TrendRows {
    pub check_ins: Vec<check_ins::Model>,
    pub assessments: Vec<withdrawal_assessments::Model>,
    pub dose_logs: Vec<dose_logs::Model>,
    pub orders: Vec<medication_orders::Model>,
    pub plans: Vec<PlanRecord>,
    pub medications: Vec<medications::Model>,
}

impl TrendRows {
    fn factor(&self, medication: Uuid) -> Option<f64> {
        self.medications
            .iter()
            .find(|m| m.id == medication)
            .and_then(|m| m.mme_factor)
    }
}

/// `from`..=`to`: each within the shared date bounds, in order and at most
/// `MAX_DAYS` apart.
pub fn check_range(from: NaiveDate, to: NaiveDate, today: NaiveDate) -> Result<(), InputError> {
    scalars::check_day_range(from, to, MAX_DAYS, today)
}

/// The check-in figures averaged per day, in `TrendDay`'s order.
const PAIN: usize = 0;
const PEG: usize = 1;
const CRAVING: usize = 2;
const MOOD: usize = 3;
const SLEEP: usize = 4;

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

/// One `TrendDay` for each day from `from` to `to`, inclusive.
pub fn build(from: NaiveDate, to: NaiveDate, rows: &TrendRows) -> Vec<TrendDay> {
    let means = daily_means(&rows.check_ins);
    let worst = daily_worst(&rows.assessments);
    let taken = daily_taken(rows);
    let mut days = Vec::new();
    let mut day = from;
    while day <= to {
        let m = means.get(&day);
        let scheduled = scheduled_mme(rows, day);
        let taken_mme = taken.get(&day).copied().or(scheduled.map(|_| 0.0));
        days.push(TrendDay {
            date: day.into(),
            pain_score: m.and_then(|m| m.mean(PAIN)),
            peg_score: m.and_then(|m| m.mean(PEG)),
            craving_score: m.and_then(|m| m.mean(CRAVING)),
            mood: m.and_then(|m| m.mean(MOOD)),
            sleep_hours: m.and_then(|m| m.mean(SLEEP)),
            sows_total: worst.get(&(day, Instrument::Sows)).copied(),
            cows_total: worst.get(&(day, Instrument::Cows)).copied(),
            scheduled_mme: scheduled,
            // A scheduled day with nothing logged took 0.
            taken_mme,
            conversion_table: (scheduled.is_some() || taken_mme.is_some())
                .then(|| mme::CONVERSION_TABLE.to_owned()),
            checked_in: m.is_some(),
        });
        day += Duration::days(1);
    }
    days
}

fn daily_means(check_ins: &[check_ins::Model]) -> BTreeMap<NaiveDate, Means> {
    let mut means: BTreeMap<NaiveDate, Means> = BTreeMap::new();
    for c in check_ins {
        let m = means.entry(c.local_date).or_default();
        m.add(PAIN, c.pain_score.map(f64::from));
        m.add(PEG, c.peg_score);
        m.add(CRAVING, c.craving_score.map(f64::from));
        m.add(MOOD, c.mood.map(f64::from));
        m.add(SLEEP, c.sleep_hours);
    }
    means
}

/// The day's highest total per instrument (an instrument this build does
/// not know counts as SOWS, as before).
fn daily_worst(
    assessments: &[withdrawal_assessments::Model],
) -> BTreeMap<(NaiveDate, Instrument), i32> {
    let mut worst: BTreeMap<(NaiveDate, Instrument), i32> = BTreeMap::new();
    for a in assessments {
        let instrument = match Instrument::parse(&a.instrument) {
            Some(Instrument::Cows) => Instrument::Cows,
            _ => Instrument::Sows,
        };
        let entry = worst.entry((a.local_date, instrument)).or_insert(a.total);
        *entry = (*entry).max(a.total);
    }
    worst
}

/// MME taken per day (medications without a factor, and a medication
/// given for OUD that day, left out).
fn daily_taken(rows: &TrendRows) -> BTreeMap<NaiveDate, f64> {
    let mut taken: BTreeMap<NaiveDate, f64> = BTreeMap::new();
    for log in &rows.dose_logs {
        let oud = rows.orders.iter().any(|o| {
            o.medication_id == log.medication_id
                && regimen_store::in_effect(o, log.taken_on)
                && regimen_store::indication(o) == MedicationIndication::Oud
        });
        if let Some(factor) = rows.factor(log.medication_id).filter(|_| !oud) {
            *taken.entry(log.taken_on).or_default() += log.amount * factor;
        }
    }
    taken
}

/// The day's total daily MME: the plan version in effect that day for
/// each tapered medication replaces its orders (`mme::total`).
fn scheduled_mme(rows: &TrendRows, day: NaiveDate) -> Option<f64> {
    let mut tapered: Vec<Uuid> = rows.plans.iter().map(|r| r.plan.medication_id).collect();
    tapered.sort();
    tapered.dedup();
    let plan_doses: Vec<(Uuid, f64)> = tapered
        .into_iter()
        .filter_map(|m| Some((m, plan_store::version_dose_on(&rows.plans, m, day)?)))
        .collect();
    mme::total(&regimen_store::lines_on(
        day,
        &rows.orders,
        &plan_doses,
        &rows.medications,
    ))
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};

    use super::*;
    use crate::tapering::schedule::Step;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn at() -> DateTime<Utc> {
        "2026-03-01T12:00:00Z".parse().unwrap()
    }

    fn check_in(day: &str, pain: Option<i32>, sleep: Option<f64>) -> check_ins::Model {
        check_ins::Model {
            id: Uuid::now_v7(),
            organization_id: Uuid::nil(),
            patient_id: Uuid::nil(),
            pain_score: pain,
            peg_pain: None,
            peg_enjoyment: None,
            peg_activity: None,
            peg_score: None,
            craving_score: None,
            mood: None,
            sleep_hours: sleep,
            exercise_minutes: None,
            mindfulness_minutes: None,
            meals: None,
            triggers: "[]".into(),
            coping_strategies: "[]".into(),
            helpful_coping_strategies: "[]".into(),
            note: None,
            submitted_at: at(),
            local_date: d(day),
            created_at: at(),
            updated_at: at(),
        }
    }

    fn assessment(day: &str, instrument: Instrument, total: i32) -> withdrawal_assessments::Model {
        withdrawal_assessments::Model {
            id: Uuid::now_v7(),
            organization_id: Uuid::nil(),
            patient_id: Uuid::nil(),
            instrument: instrument.as_str().into(),
            items: "[]".into(),
            total,
            severity: "NONE".into(),
            assessed_by_user_id: Uuid::nil(),
            assessed_at: at(),
            local_date: d(day),
        }
    }

    fn dose(day: &str, medication: Uuid, amount: f64) -> dose_logs::Model {
        dose_logs::Model {
            id: Uuid::now_v7(),
            organization_id: Uuid::nil(),
            patient_id: Uuid::nil(),
            medication_id: medication,
            amount,
            taken_at: at(),
            taken_on: d(day),
            note: None,
            over_schedule: false,
            replaces_patch: false,
            created_at: at(),
            updated_at: at(),
        }
    }

    fn order(medication: Uuid, starts: &str, ends: Option<&str>) -> medication_orders::Model {
        medication_orders::Model {
            id: Uuid::now_v7(),
            organization_id: Uuid::nil(),
            patient_id: Uuid::nil(),
            medication_id: medication,
            dose: 10.0,
            doses_per_day: 2,
            prescriber_user_id: Uuid::nil(),
            starts_on: d(starts),
            ends_on: ends.map(d),
            indication: "PAIN".into(),
            created_at: at(),
            updated_at: at(),
        }
    }

    fn medication(id: Uuid, factor: Option<f64>) -> medications::Model {
        medications::Model {
            id,
            name: "m".into(),
            kind: "OPIOID".into(),
            unit: "mg".into(),
            mme_factor: factor,
            conversion_table: factor.map(|_| mme::CONVERSION_TABLE.into()),
            strengths: "5".into(),
            rxnorm: None,
        }
    }

    /// A plan version of `medication` with one step per (start, end, dose).
    fn version(
        medication: Uuid,
        version: i32,
        status: &str,
        steps: &[(&str, &str, f64)],
    ) -> PlanRecord {
        let steps: Vec<Step> = steps
            .iter()
            .enumerate()
            .map(|(i, (a, b, dose))| Step {
                index: i as u32,
                starts_on: d(a),
                ends_on: d(b),
                daily_dose: *dose,
                daily_mme: Some(dose * 1.5),
            })
            .collect();
        PlanRecord {
            plan: entity::taper_plans::Model {
                id: Uuid::now_v7(),
                organization_id: Uuid::nil(),
                patient_id: Uuid::nil(),
                medication_id: medication,
                status: status.into(),
                preset: "CUSTOM".into(),
                version,
                starting_daily_dose: steps[0].daily_dose,
                target_daily_dose: 0.0,
                reduction_percent: None,
                step_days: None,
                follow_up_every_days: 28,
                starts_on: steps[0].starts_on,
                warnings: "[]".into(),
                patient_agreed_at: None,
                paused_on: None,
                supersedes_plan_id: None,
                superseded_by_plan_id: None,
                superseded_reason: None,
                reason: None,
                created_by_user_id: Uuid::nil(),
                created_at: at(),
                updated_at: at(),
            },
            steps,
        }
    }

    #[test]
    fn each_day_uses_the_plan_version_in_effect_that_day() {
        // CLINICAL.md, "Regimens and indication": the plan's step replaces
        // its medication's orders; orders of other opioids count (CDC 2022
        // factors: oxycodone 1.5, hydromorphone 5).
        let oxycodone = Uuid::now_v7();
        let hydromorphone = Uuid::now_v7();
        let mut hydro_order = order(hydromorphone, "2026-01-01", None);
        hydro_order.dose = 2.0;
        hydro_order.doses_per_day = 2;
        let rows = TrendRows {
            orders: vec![order(oxycodone, "2026-01-01", None), hydro_order],
            plans: vec![
                // v1, superseded on 2026-03-05 by v2 (cancelled after it
                // was in effect).
                version(
                    oxycodone,
                    1,
                    "CANCELLED",
                    &[
                        ("2026-03-01", "2026-03-03", 20.0),
                        ("2026-03-04", "2026-03-31", 15.0),
                    ],
                ),
                version(
                    oxycodone,
                    2,
                    "ACTIVE",
                    &[("2026-03-05", "2026-04-30", 10.0)],
                ),
            ],
            medications: vec![
                medication(oxycodone, Some(1.5)),
                medication(hydromorphone, Some(5.0)),
            ],
            ..TrendRows::default()
        };
        let days = build(d("2026-02-28"), d("2026-03-06"), &rows);
        let scheduled: Vec<Option<f64>> = days.iter().map(|t| t.scheduled_mme).collect();
        assert_eq!(
            scheduled,
            [
                Some(30.0 + 20.0), // before any plan: the 20 mg oxycodone order
                Some(30.0 + 20.0), // v1's 20 mg step replaces the order
                Some(30.0 + 20.0),
                Some(30.0 + 20.0),
                Some(22.5 + 20.0), // v1's 15 mg step: a superseded version keeps its days
                Some(15.0 + 20.0), // v2 from its first day
                Some(15.0 + 20.0),
            ],
        );
        assert!(
            days.iter()
                .all(|t| t.conversion_table.as_deref() == Some("CDC_2022"))
        );
    }

    #[test]
    fn ranges_run_forward_and_at_most_366_days() {
        assert!(check_range(d("2026-03-01"), d("2026-03-01"), d("2026-06-01")).is_ok());
        assert!(check_range(d("2026-01-01"), d("2027-01-02"), d("2026-06-01")).is_ok());
        for (from, to) in [("2026-03-02", "2026-03-01"), ("2026-01-01", "2027-01-03")] {
            assert_eq!(
                check_range(d(from), d(to), d("2026-06-01"))
                    .unwrap_err()
                    .field,
                "to"
            );
        }
    }

    #[test]
    fn one_day_per_date_with_means_worst_totals_and_mme() {
        let oxycodone = Uuid::now_v7();
        let unfactored = Uuid::now_v7();
        let rows = TrendRows {
            check_ins: vec![
                check_in("2026-03-01", Some(4), None),
                check_in("2026-03-01", Some(6), Some(7.0)),
            ],
            assessments: vec![
                assessment("2026-03-01", Instrument::Sows, 5),
                assessment("2026-03-01", Instrument::Sows, 9),
                assessment("2026-03-01", Instrument::Cows, 13),
            ],
            dose_logs: vec![
                dose("2026-03-01", oxycodone, 10.0),
                dose("2026-03-01", unfactored, 8.0),
            ],
            orders: vec![order(oxycodone, "2026-02-01", Some("2026-03-02"))],
            plans: Vec::new(),
            medications: vec![
                medication(oxycodone, Some(1.5)),
                medication(unfactored, None),
            ],
        };
        let days = build(d("2026-03-01"), d("2026-03-03"), &rows);
        let dates: Vec<NaiveDate> = days.iter().map(|t| t.date.0).collect();
        assert_eq!(dates, [d("2026-03-01"), d("2026-03-02"), d("2026-03-03")]);

        let first = &days[0];
        assert_eq!(first.pain_score, Some(5.0));
        assert_eq!(first.sleep_hours, Some(7.0), "a mean of the days given");
        assert_eq!(first.mood, None);
        assert_eq!((first.sows_total, first.cows_total), (Some(9), Some(13)));
        assert_eq!(first.scheduled_mme, Some(30.0));
        assert_eq!(first.taken_mme, Some(15.0));
        assert!(first.checked_in);

        let second = &days[1];
        assert!(!second.checked_in);
        assert_eq!(second.pain_score, None);
        assert_eq!(
            (second.scheduled_mme, second.taken_mme),
            (Some(30.0), Some(0.0))
        );

        let third = &days[2];
        assert_eq!((third.scheduled_mme, third.taken_mme), (None, None));
    }
}
