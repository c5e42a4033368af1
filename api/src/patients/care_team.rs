//! Care-team assignment (admins): putting a clinician of the organization on
//! a patient's team, or taking them off.

use async_graphql::{Context, InputObject, Object, SimpleObject};
use uuid::Uuid;

use super::{Patient, care_team_store};
use crate::{
    audit::{Action, PATIENT},
    auth::Role,
    authz::Need,
    caller::{Caller, ContextExt},
    error::{ApiError, ApiResult},
};

const ASSIGN: Action = PATIENT.action("careTeam.assign");
const REMOVE: Action = PATIENT.action("careTeam.remove");

#[derive(InputObject)]
pub struct AssignCareTeamMemberInput {
    pub patient_id: Uuid,
    /// A user id of a clinician of the same organization.
    pub clinician_id: Uuid,
}

#[derive(SimpleObject)]
pub struct AssignCareTeamMemberPayload {
    pub patient: Patient,
}

#[derive(SimpleObject)]
pub struct RemoveCareTeamMemberPayload {
    pub patient: Patient,
}

#[derive(Default)]
pub struct CareTeamMutation;

#[Object]
impl CareTeamMutation {
    /// Put a clinician on a patient's care team (admins). Idempotent.
    async fn assign_care_team_member(
        &self,
        ctx: &Context<'_>,
        input: AssignCareTeamMemberInput,
    ) -> async_graphql::Result<AssignCareTeamMemberPayload> {
        let patient = change_care_team(&ctx.caller().await?, &input, ASSIGN).await?;
        Ok(AssignCareTeamMemberPayload { patient })
    }

    /// Take a clinician off a patient's care team (admins).
    async fn remove_care_team_member(
        &self,
        ctx: &Context<'_>,
        input: AssignCareTeamMemberInput,
    ) -> async_graphql::Result<RemoveCareTeamMemberPayload> {
        let patient = change_care_team(&ctx.caller().await?, &input, REMOVE).await?;
        Ok(RemoveCareTeamMemberPayload { patient })
    }
}

/// `ASSIGN` or `REMOVE` the input's clinician.
async fn change_care_team(
    caller: &Caller,
    input: &AssignCareTeamMemberInput,
    action: Action,
) -> ApiResult<Patient> {
    // Only admins assign; the refusal names the patient asked about.
    if !caller.has_role(Role::Admin) {
        caller.record(caller.event(action).resource(input.patient_id).denied());
        return Err(ApiError::forbidden("only an admin assigns the care team"));
    }
    // Decided (and recorded) before the write, so a denial is on the trail
    // even though nothing is written.
    let access = caller
        .patient(input.patient_id, Need::Administer, action)
        .await?;
    let eligible =
        care_team_store::is_clinician_of(caller.db(), caller.organization_id(), input.clinician_id)
            .await?;
    if !eligible {
        return Err(ApiError::bad_input(
            "clinicianId",
            "clinicianId is not a clinician of this organization",
        ));
    }
    if action == ASSIGN {
        care_team_store::assign(caller, access.patient.id, input.clinician_id).await?;
    } else {
        care_team_store::remove(caller, access.patient.id, input.clinician_id).await?;
    }
    Ok(Patient {
        model: access.patient,
        relationship: access.relationship,
    })
}
