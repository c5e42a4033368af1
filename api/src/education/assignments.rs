//! GraphQL surface of assignments: a care-team clinician gives a resource
//! to a patient, the patient completes it, and `Patient.assignedResources`,
//! where the patient and the care team follow progress.

use async_graphql::{Context, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{
    assignment_store::{self, AssignmentRecord},
    library::{RESOURCE, Resource},
    resource_store,
};
use crate::{
    accounts::User,
    audit::{Action, Kind},
    auth::Role,
    authz::Need,
    caller::{Caller, ContextExt},
    error::{ApiError, ApiResult},
    patients::Patient,
};

const ASSIGNMENT: Kind = Kind::new("ResourceAssignment", "resource assignment");
const ASSIGN: Action = ASSIGNMENT.action("resource.assign");
const COMPLETE: Action = ASSIGNMENT.action("resource.complete");

/// A resource given to a patient, and their progress with it.
pub struct ResourceAssignment(pub AssignmentRecord);

#[Object]
impl ResourceAssignment {
    async fn id(&self) -> Uuid {
        self.0.assignment.id
    }
    async fn resource(&self) -> Resource {
        Resource(self.0.resource.clone())
    }
    async fn assigned_at(&self) -> DateTime<Utc> {
        self.0.assignment.assigned_at
    }
    async fn assigned_by(&self, ctx: &Context<'_>) -> async_graphql::Result<User> {
        User::by_id(ctx, self.0.assignment.assigned_by_user_id).await
    }
    /// When the patient completed it; null while open.
    async fn completed_at(&self) -> Option<DateTime<Utc>> {
        self.0.assignment.completed_at
    }
}

#[derive(InputObject)]
pub struct AssignResourceInput {
    pub resource_id: Uuid,
    pub patient_id: Uuid,
}

#[derive(SimpleObject)]
pub struct AssignResourcePayload {
    pub assignment: ResourceAssignment,
}

#[derive(InputObject)]
pub struct CompleteResourceInput {
    pub assignment_id: Uuid,
}

#[derive(SimpleObject)]
pub struct CompleteResourcePayload {
    pub assignment: ResourceAssignment,
}

#[derive(Default)]
pub struct AssignmentsMutation;

#[Object]
impl AssignmentsMutation {
    /// A care-team clinician gives a resource to a patient. Assigning one
    /// the patient has open (not completed) returns that assignment.
    async fn assign_resource(
        &self,
        ctx: &Context<'_>,
        input: AssignResourceInput,
    ) -> async_graphql::Result<AssignResourcePayload> {
        let caller = ctx.caller().await?;
        Ok(AssignResourcePayload {
            assignment: ResourceAssignment(assign(&caller, input).await?),
        })
    }

    /// The patient marks an assigned resource done (again: no change).
    async fn complete_resource(
        &self,
        ctx: &Context<'_>,
        input: CompleteResourceInput,
    ) -> async_graphql::Result<CompleteResourcePayload> {
        let caller = ctx.caller().await?;
        Ok(CompleteResourcePayload {
            assignment: ResourceAssignment(complete(&caller, input).await?),
        })
    }
}

async fn assign(caller: &Caller, input: AssignResourceInput) -> ApiResult<AssignmentRecord> {
    caller.require(&[Role::Clinician], ASSIGN)?;
    let patient = caller
        .patient(input.patient_id, Need::ClinicalWrite, ASSIGN)
        .await?
        .patient;
    let db = caller.db();
    let resource = resource_store::resource_of(db, caller.organization_id(), input.resource_id)
        .await?
        .ok_or(ApiError::NotFound(RESOURCE.noun))?;
    let assignment =
        assignment_store::assign(db, resource.resource.id, &patient, caller.user_id()).await?;
    Ok(AssignmentRecord {
        assignment,
        resource,
    })
}

async fn complete(caller: &Caller, input: CompleteResourceInput) -> ApiResult<AssignmentRecord> {
    caller.require(&[Role::Patient], COMPLETE)?;
    let id = input.assignment_id;
    let row = assignment_store::load(caller.db(), id).await?;
    let (assignment, _) = caller
        .child(id, row, |a| a.patient_id, Need::ActAsPatient, COMPLETE)
        .await?;
    assignment_store::complete(caller.db(), assignment).await
}

/// `Patient.assignedResources`, once the `Patient` type has checked (and
/// audited) that the viewer may read it.
pub async fn assigned_resources(
    ctx: &Context<'_>,
    patient: &Patient,
) -> ApiResult<Vec<ResourceAssignment>> {
    Ok(
        assignment_store::assignments_of(ctx.db()?, patient.model.id)
            .await?
            .into_iter()
            .map(ResourceAssignment)
            .collect(),
    )
}
