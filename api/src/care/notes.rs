//! GraphQL surface of clinical notes: a care-team clinician adds a note (or
//! an amendment of one), and `Patient.clinicalNotes`, where every note read
//! is audited on its own (accounting of disclosures).

use async_graphql::{Context, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use entity::clinical_notes;

use super::{
    appointment_store,
    note_store::{self, NewNote},
    validation::NOTE_MAX_CHARS,
};
use crate::{
    accounts::User,
    audit::{Action, Kind},
    auth::Role,
    authz::Need,
    caller::{Caller, ContextExt},
    error::{ApiError, ApiResult},
    patients::Patient,
    validation::text,
};

const CLINICAL_NOTE: Kind = Kind::new("ClinicalNote", "clinical note");
const ADD: Action = CLINICAL_NOTE.action("clinicalNote.add");
const READ: Action = CLINICAL_NOTE.action("clinicalNote.read");

/// A clinician's note. Never edited: an amendment is a new note.
pub struct ClinicalNote(pub clinical_notes::Model);

#[Object]
impl ClinicalNote {
    async fn id(&self) -> Uuid {
        self.0.id
    }
    async fn body(&self) -> &str {
        &self.0.body
    }
    async fn author(&self, ctx: &Context<'_>) -> async_graphql::Result<User> {
        User::by_id(ctx, self.0.author_user_id).await
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// The appointment it records, if any.
    async fn appointment_id(&self) -> Option<Uuid> {
        self.0.appointment_id
    }
    /// The note this one amends, if it is an amendment.
    async fn amends_note_id(&self) -> Option<Uuid> {
        self.0.amends_note_id
    }
}

#[derive(InputObject)]
pub struct AddClinicalNoteInput {
    pub patient_id: Uuid,
    /// One of this patient's appointments.
    pub appointment_id: Option<Uuid>,
    /// 1–20,000 characters.
    pub body: String,
    /// Makes the note an amendment of this earlier note of the patient's.
    pub amends_note_id: Option<Uuid>,
}

#[derive(SimpleObject)]
pub struct AddClinicalNotePayload {
    pub note: ClinicalNote,
}

#[derive(Default)]
pub struct NotesMutation;

#[Object]
impl NotesMutation {
    /// A care-team clinician adds a note (or an amendment of one).
    async fn add_clinical_note(
        &self,
        ctx: &Context<'_>,
        input: AddClinicalNoteInput,
    ) -> async_graphql::Result<AddClinicalNotePayload> {
        let caller = ctx.caller().await?;
        Ok(AddClinicalNotePayload {
            note: ClinicalNote(add(&caller, input).await?),
        })
    }
}

async fn add(caller: &Caller, input: AddClinicalNoteInput) -> ApiResult<clinical_notes::Model> {
    caller.require(&[Role::Clinician], ADD)?;
    let patient = caller
        .patient(input.patient_id, Need::ClinicalNotes, ADD)
        .await?
        .patient;
    let body = text("body", &input.body, NOTE_MAX_CHARS)?;
    let db = caller.db();
    let amends = match input.amends_note_id {
        Some(id) => Some(
            note_store::load(db, id)
                .await?
                .filter(|n| n.patient_id == patient.id)
                .ok_or_else(|| {
                    ApiError::bad_input(
                        "amendsNoteId",
                        "amendsNoteId is not a note of this patient",
                    )
                })?,
        ),
        None => None,
    };
    let appointment_id = match input.appointment_id {
        Some(id) => Some(
            appointment_store::load(db, id)
                .await?
                .filter(|a| a.patient_id == patient.id)
                .ok_or_else(|| {
                    ApiError::bad_input(
                        "appointmentId",
                        "appointmentId is not an appointment of this patient",
                    )
                })?
                .id,
        ),
        // An amendment belongs with the appointment of the note it amends.
        None => amends.as_ref().and_then(|n| n.appointment_id),
    };
    let new = NewNote {
        patient: &patient,
        appointment_id,
        amends_note_id: amends.map(|n| n.id),
        body,
    };
    note_store::add(caller, new, caller.event(ADD).patient(patient.id)).await
}

/// `Patient.clinicalNotes`, once the `Patient` type has checked (and
/// audited) that the viewer may read them; each note read is recorded.
pub async fn of_patient(ctx: &Context<'_>, patient: &Patient) -> ApiResult<Vec<ClinicalNote>> {
    let caller = ctx.caller().await?;
    let rows = note_store::of_patient(caller.db(), patient.model.id).await?;
    caller.record_all(
        rows.iter()
            .map(|n| caller.event(READ).resource(n.id).patient(n.patient_id)),
    );
    Ok(rows.into_iter().map(ClinicalNote).collect())
}
