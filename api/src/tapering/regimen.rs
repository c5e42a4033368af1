//! GraphQL surface of the regimen: a patient's medication orders (with
//! their daily MME) and naloxone offers. Care-team clinicians write them;
//! every write re-checks whether naloxone is due. Its SQL is in
//! `regimen_store`.

use async_graphql::{Context, InputObject, Object, SimpleObject};
use chrono::Utc;
use uuid::Uuid;

use entity::medication_orders;

use super::{
    catalog::Medication,
    catalog_store,
    mme::{self, MedicationIndication, MedicationKind},
    regimen_store::{self, NewOrder},
};
use crate::{
    audit::{Action, Kind},
    auth::Role,
    authz::Need,
    caller::{Caller, ContextExt},
    error::{ApiError, ApiResult, InputError},
    graphql::scalars::{self, Date},
    monitoring,
    patients::Patient,
};

/// Regimen writes have always been audited on the taper plan's kind (the
/// regimen is what a taper starts from); kept so the trail reads as before.
const REGIMEN: Kind = Kind::new("TaperPlan", "medication order");
const ADD_ORDER: Action = REGIMEN.action("medicationOrder.add");
const END_ORDER: Action = REGIMEN.action("medicationOrder.end");
const OFFER_NALOXONE: Action = REGIMEN.action("naloxone.offer");

/// The largest plausible single dose, in any unit.
const MAX_DOSE: f64 = 10_000.0;
/// Doses a day: at most one an hour.
const MAX_DOSES_PER_DAY: i32 = 24;

pub struct MedicationOrder(pub medication_orders::Model);

impl From<medication_orders::Model> for MedicationOrder {
    fn from(model: medication_orders::Model) -> Self {
        Self(model)
    }
}

#[Object]
impl MedicationOrder {
    async fn id(&self) -> Uuid {
        self.0.id
    }
    async fn medication(&self, ctx: &Context<'_>) -> async_graphql::Result<Medication> {
        Ok(Medication(
            ctx.loaders()?
                .medications
                .load_one(self.0.medication_id)
                .await?
                .ok_or(ApiError::NotFound("medication"))?,
        ))
    }
    /// Per dose, in the medication's unit.
    async fn dose(&self) -> f64 {
        self.0.dose
    }
    async fn doses_per_day(&self) -> i32 {
        self.0.doses_per_day
    }
    async fn starts_on(&self) -> Date {
        self.0.starts_on.into()
    }
    async fn ends_on(&self) -> Option<Date> {
        self.0.ends_on.map(Date)
    }
    async fn prescriber_user_id(&self) -> Uuid {
        self.0.prescriber_user_id
    }
    /// Why it is given: PAIN, or OUD (buprenorphine always).
    async fn indication(&self) -> MedicationIndication {
        regimen_store::indication(&self.0)
    }
    /// dose × doses per day × the CDC 2022 factor; null for buprenorphine,
    /// sedatives and OUD-indication methadone.
    async fn daily_mme(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<f64>> {
        let medication = ctx
            .loaders()?
            .medications
            .load_one(self.0.medication_id)
            .await?
            .ok_or(ApiError::NotFound("medication"))?;
        Ok(mme::daily_mme(
            self.0.dose * f64::from(self.0.doses_per_day),
            medication.mme_factor,
            regimen_store::indication(&self.0),
        ))
    }
    /// The table `dailyMme` comes from ("CDC_2022"); null with no figure.
    async fn conversion_table(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<&str>> {
        Ok(self.daily_mme(ctx).await?.map(|_| mme::CONVERSION_TABLE))
    }
}

#[derive(InputObject)]
pub struct AddMedicationOrderInput {
    pub patient_id: Uuid,
    pub medication_id: Uuid,
    /// Per dose, in the medication's unit.
    pub dose: f64,
    pub doses_per_day: i32,
    pub starts_on: Date,
    /// PAIN by default; buprenorphine is always OUD.
    pub indication: Option<MedicationIndication>,
}

#[derive(SimpleObject)]
pub struct AddMedicationOrderPayload {
    pub order: MedicationOrder,
    pub patient: Patient,
}

#[derive(InputObject)]
pub struct EndMedicationOrderInput {
    pub order_id: Uuid,
    pub ends_on: Date,
}

#[derive(SimpleObject)]
pub struct EndMedicationOrderPayload {
    pub order: MedicationOrder,
}

#[derive(InputObject)]
pub struct RecordNaloxoneOfferInput {
    pub patient_id: Uuid,
}

#[derive(SimpleObject)]
pub struct RecordNaloxoneOfferPayload {
    pub patient: Patient,
}

#[derive(Default)]
pub struct RegimenMutation;

#[Object]
impl RegimenMutation {
    /// A care-team clinician records an opioid order (the regimen).
    async fn add_medication_order(
        &self,
        ctx: &Context<'_>,
        input: AddMedicationOrderInput,
    ) -> async_graphql::Result<AddMedicationOrderPayload> {
        Ok(add_order(&ctx.caller().await?, input).await?)
    }

    /// A care-team clinician ends an order.
    async fn end_medication_order(
        &self,
        ctx: &Context<'_>,
        input: EndMedicationOrderInput,
    ) -> async_graphql::Result<EndMedicationOrderPayload> {
        let order = end_order(&ctx.caller().await?, input).await?;
        Ok(EndMedicationOrderPayload { order })
    }

    /// A care-team clinician records that naloxone was offered (CDC: at
    /// 50 MME/day or more).
    async fn record_naloxone_offer(
        &self,
        ctx: &Context<'_>,
        input: RecordNaloxoneOfferInput,
    ) -> async_graphql::Result<RecordNaloxoneOfferPayload> {
        let patient = offer_naloxone(&ctx.caller().await?, input).await?;
        Ok(RecordNaloxoneOfferPayload { patient })
    }
}

/// A plausible order: a positive dose, one to 24 doses a day.
fn check_order(dose: f64, doses_per_day: i32) -> Result<(), InputError> {
    if !(dose.is_finite() && dose > 0.0 && dose <= MAX_DOSE) {
        return Err(InputError::new("dose", "dose must be a positive amount"));
    }
    if !(1..=MAX_DOSES_PER_DAY).contains(&doses_per_day) {
        return Err(InputError::new(
            "dosesPerDay",
            format!("dosesPerDay must be from 1 to {MAX_DOSES_PER_DAY}"),
        ));
    }
    Ok(())
}

async fn add_order(
    caller: &Caller,
    input: AddMedicationOrderInput,
) -> ApiResult<AddMedicationOrderPayload> {
    caller.require(&[Role::Clinician], ADD_ORDER)?;
    let access = caller
        .patient(input.patient_id, Need::ClinicalWrite, ADD_ORDER)
        .await?;
    let medication = catalog_store::load(caller.db(), input.medication_id).await?;
    check_order(input.dose, input.doses_per_day)?;
    scalars::check_day("startsOn", input.starts_on.0, Utc::now().date_naive())?;
    let patient = &access.patient;
    let new = NewOrder {
        organization_id: patient.organization_id,
        patient_id: patient.id,
        medication_id: medication.id,
        dose: input.dose,
        doses_per_day: input.doses_per_day,
        starts_on: input.starts_on.0,
        indication: mme::indication_for(
            MedicationKind::from_row(&medication.kind)?,
            input.indication,
        ),
    };
    let now = Utc::now();
    let (order, events) = regimen_store::add_order(caller, new, now, async |txn| {
        let mut events = monitoring::check_naloxone(txn, patient, now).await?;
        events.extend(monitoring::check_sedatives(txn, patient, now).await?);
        Ok(events)
    })
    .await?;
    caller.publish(events).await;
    Ok(AddMedicationOrderPayload {
        order: MedicationOrder(order),
        patient: Patient {
            model: access.patient,
            relationship: access.relationship,
        },
    })
}

async fn end_order(caller: &Caller, input: EndMedicationOrderInput) -> ApiResult<MedicationOrder> {
    caller.require(&[Role::Clinician], END_ORDER)?;
    // An unknown order is NOT_FOUND without an audit row (as it always
    // was); any refusal on its patient reads the same.
    let Some(order) = regimen_store::order(caller.db(), input.order_id).await? else {
        return Err(ApiError::NotFound(REGIMEN.noun));
    };
    caller
        .patient(order.patient_id, Need::ClinicalWrite, END_ORDER)
        .await
        .map_err(|_| ApiError::NotFound(REGIMEN.noun))?;
    scalars::check_day("endsOn", input.ends_on.0, Utc::now().date_naive())?;
    if input.ends_on.0 < order.starts_on {
        return Err(ApiError::bad_input(
            "endsOn",
            "endsOn must not be before the order starts",
        ));
    }
    let order = regimen_store::end_order(caller.db(), order, input.ends_on.0).await?;
    Ok(MedicationOrder(order))
}

async fn offer_naloxone(caller: &Caller, input: RecordNaloxoneOfferInput) -> ApiResult<Patient> {
    caller.require(&[Role::Clinician], OFFER_NALOXONE)?;
    let access = caller
        .patient(input.patient_id, Need::ClinicalWrite, OFFER_NALOXONE)
        .await?;
    regimen_store::offer_naloxone(caller, access.patient.id).await?;
    Ok(Patient {
        model: access.patient,
        relationship: access.relationship,
    })
}
