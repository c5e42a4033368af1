//! Standing conditions, checked when a write changes them and by the daily
//! check (`daily_checks`), in the caller's transaction: a naloxone offer
//! due (total daily MME ≥ 50, the first step of a plan that starts later,
//! or an OUD order), a follow-up due during an active taper, and a sedative
//! beside an opioid (CLINICAL.md, "Alerts Stepdown raises").

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use entity::{appointments, clinical_notes, medication_orders, medications, patients};

use super::{
    alert_store::raise_all,
    rules::{self, NaloxoneRisk, Raised},
};
use crate::{
    care::booking::Status as AppointmentStatus,
    error::ApiResult,
    notifications::LiveEvent,
    patients::patient_store,
    tapering::{
        lifecycle::{self, Status},
        mme::{self, MedicationIndication, MedicationKind},
        plan_store::{self as plans, PlanRecord},
        regimen_store::{self, in_effect},
    },
};

/// What the standing checks read about one patient on their today.
struct Regimen {
    today: NaiveDate,
    orders: Vec<medication_orders::Model>,
    plans: Vec<PlanRecord>,
    medications: Vec<medications::Model>,
}

impl Regimen {
    async fn load(
        db: &impl ConnectionTrait,
        patient: &patients::Model,
        now: DateTime<Utc>,
    ) -> ApiResult<Self> {
        let timezone = patient_store::timezone(db, patient).await?;
        Ok(Self {
            today: lifecycle::today_in(&timezone, now),
            orders: regimen_store::orders_of(db, patient.id).await?,
            plans: plans::live_for_patient(db, patient.id).await?,
            medications: medications::Entity::find().all(db).await?,
        })
    }

    fn kind_of(&self, medication: Uuid) -> Option<MedicationKind> {
        self.medications
            .iter()
            .find(|m| m.id == medication)
            .and_then(|m| MedicationKind::parse(&m.kind))
    }

    fn name_of(&self, medication: Uuid) -> String {
        self.medications
            .iter()
            .find(|m| m.id == medication)
            .map_or_else(|| "a medication".to_owned(), |m| m.name.clone())
    }

    fn current_orders(&self) -> impl Iterator<Item = &medication_orders::Model> {
        self.orders.iter().filter(|o| in_effect(o, self.today))
    }

    /// ACTIVE or PAUSED today (an active plan past its end is complete).
    fn live_plans(&self) -> impl Iterator<Item = (&PlanRecord, Status)> {
        self.plans
            .iter()
            .map(|p| (p, p.status_on(self.today)))
            .filter(|(_, s)| matches!(s, Status::Active | Status::Paused))
    }

    fn total_mme(&self, plan_doses: &[(Uuid, f64)]) -> Option<f64> {
        mme::total(&regimen_store::lines_on(
            self.today,
            &self.orders,
            plan_doses,
            &self.medications,
        ))
    }

    /// The total daily MME today, or the higher total a plan's first step
    /// brings when it starts later (CLINICAL.md: "at activation also the
    /// plan's first step, even if it starts later").
    fn naloxone_risk(&self) -> NaloxoneRisk {
        let today: Vec<(Uuid, f64)> = self
            .plans
            .iter()
            .filter_map(|p| {
                Some((
                    p.plan.medication_id,
                    regimen_store::plan_dose_on(p, self.today)?,
                ))
            })
            .collect();
        let mut daily_mme = self.total_mme(&today);
        for (plan, _) in self.live_plans() {
            let Some(first) = plan.steps.first().filter(|s| s.starts_on > self.today) else {
                continue;
            };
            let mut doses: Vec<(Uuid, f64)> = today
                .iter()
                .copied()
                .filter(|(m, _)| *m != plan.plan.medication_id)
                .collect();
            doses.push((plan.plan.medication_id, first.daily_dose));
            if let Some(total) = self.total_mme(&doses) {
                daily_mme = Some(daily_mme.map_or(total, |d| d.max(total)));
            }
        }
        let oud_order = self
            .current_orders()
            .any(|o| regimen_store::indication(o) == MedicationIndication::Oud);
        NaloxoneRisk {
            daily_mme,
            oud_order,
        }
    }

    /// The sedatives in effect and the opioids beside them (orders and
    /// live plans), by name, each once.
    fn sedatives_and_opioids(&self) -> (Vec<String>, Vec<String>) {
        let mut sedatives = Vec::new();
        let mut opioids = Vec::new();
        let add = |list: &mut Vec<String>, name: String| {
            if !list.contains(&name) {
                list.push(name);
            }
        };
        for order in self.current_orders() {
            let name = self.name_of(order.medication_id);
            match self.kind_of(order.medication_id) {
                Some(MedicationKind::Sedative) => add(&mut sedatives, name),
                Some(MedicationKind::Opioid | MedicationKind::Moud) => add(&mut opioids, name),
                _ => {}
            }
        }
        for (plan, _) in self.live_plans() {
            add(&mut opioids, self.name_of(plan.plan.medication_id));
        }
        (sedatives, opioids)
    }
}

/// After the regimen or the plan changes (and daily): a naloxone offer due
/// with none on record.
pub async fn check_naloxone(
    db: &impl ConnectionTrait,
    patient: &patients::Model,
    now: DateTime<Utc>,
) -> ApiResult<Vec<LiveEvent>> {
    let regimen = Regimen::load(db, patient, now).await?;
    let candidate = naloxone(db, patient, &regimen).await?;
    raise_all(db, patient, vec![candidate], now).await
}

async fn naloxone(
    db: &impl ConnectionTrait,
    patient: &patients::Model,
    regimen: &Regimen,
) -> ApiResult<Option<Raised>> {
    let offered = regimen_store::last_naloxone_offer(db, patient.id)
        .await?
        .is_some();
    Ok(rules::naloxone_offer_due(
        patient.id,
        regimen.naloxone_risk(),
        offered,
    ))
}

/// After an order is added (and daily): a sedative beside an opioid.
pub async fn check_sedatives(
    db: &impl ConnectionTrait,
    patient: &patients::Model,
    now: DateTime<Utc>,
) -> ApiResult<Vec<LiveEvent>> {
    let regimen = Regimen::load(db, patient, now).await?;
    let (sedatives, opioids) = regimen.sedatives_and_opioids();
    let candidate = rules::sedative_coprescription(patient.id, &sedatives, &opioids);
    raise_all(db, patient, vec![candidate], now).await
}

/// Every standing check for one patient (the daily check).
pub async fn check_all(
    db: &impl ConnectionTrait,
    patient: &patients::Model,
    now: DateTime<Utc>,
) -> ApiResult<Vec<LiveEvent>> {
    let regimen = Regimen::load(db, patient, now).await?;
    let (sedatives, opioids) = regimen.sedatives_and_opioids();
    let mut candidates = vec![
        naloxone(db, patient, &regimen).await?,
        rules::sedative_coprescription(patient.id, &sedatives, &opioids),
    ];
    candidates.extend(follow_ups(db, patient, &regimen).await?);
    raise_all(db, patient, candidates, now).await
}

/// FOLLOW_UP_DUE for each ACTIVE plan (today on or after its start) with no
/// completed appointment or clinical note for its `followUpEveryDays`.
async fn follow_ups(
    db: &impl ConnectionTrait,
    patient: &patients::Model,
    regimen: &Regimen,
) -> ApiResult<Vec<Option<Raised>>> {
    let active: Vec<&PlanRecord> = regimen
        .live_plans()
        .filter(|(p, s)| {
            *s == Status::Active
                && p.steps
                    .first()
                    .is_some_and(|f| f.starts_on <= regimen.today)
        })
        .map(|(p, _)| p)
        .collect();
    if active.is_empty() {
        return Ok(Vec::new());
    }
    let timezone = patient_store::timezone(db, patient).await?;
    let contact = last_contact(db, patient.id)
        .await?
        .map(|at| lifecycle::today_in(&timezone, at));
    Ok(active
        .into_iter()
        .map(|plan| {
            let start = plan
                .steps
                .first()
                .map_or(plan.plan.starts_on, |s| s.starts_on);
            let last = contact.map_or(start, |c| c.max(start));
            rules::follow_up_due(
                plan.plan.id,
                last,
                plan.plan.follow_up_every_days,
                regimen.today,
            )
        })
        .collect())
}

/// When the care team last saw the patient: the latest completed
/// appointment's start or clinical note.
async fn last_contact(
    db: &impl ConnectionTrait,
    patient: Uuid,
) -> ApiResult<Option<DateTime<Utc>>> {
    let appointment = appointments::Entity::find()
        .filter(appointments::Column::PatientId.eq(patient))
        .filter(appointments::Column::Status.eq(AppointmentStatus::Completed.as_str()))
        .order_by_desc(appointments::Column::StartsAt)
        .one(db)
        .await?
        .map(|a| a.starts_at);
    let note = clinical_notes::Entity::find()
        .filter(clinical_notes::Column::PatientId.eq(patient))
        .order_by_desc(clinical_notes::Column::CreatedAt)
        .one(db)
        .await?
        .map(|n| n.created_at);
    Ok(appointment.max(note))
}
