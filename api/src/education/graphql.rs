//! GraphQL surface of education: the organization's library (`resources`,
//! `createResource` for clinicians and admins), assignments by the care
//! team, completion by the patient, and `Patient.assignedResources`, where
//! the patient and the care team follow progress.

use async_graphql::{Context, Enum, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use sea_orm::{Set, TransactionTrait};
use uuid::Uuid;

use entity::{resource_assignments, resources};

use super::{
    content::{self, Kind},
    library::{self, AssignmentRecord, ResourceRecord},
};
use crate::{
    accounts::User,
    audit::{self, AuditEvent},
    auth::Role,
    authz::{self, Need},
    caller::ContextExt,
    error::{ApiError, ApiResult},
    patients::Patient,
};

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "Kind")]
pub enum ResourceKind {
    Article,
    Video,
    Audio,
    Link,
}

/// An education resource of the organization.
pub struct Resource(pub ResourceRecord);

#[Object]
impl Resource {
    async fn id(&self) -> Uuid {
        self.0.resource.id
    }
    async fn title(&self) -> &str {
        &self.0.resource.title
    }
    async fn kind(&self) -> async_graphql::Result<ResourceKind> {
        Kind::parse(&self.0.resource.kind)
            .map(Into::into)
            .ok_or_else(|| {
                ApiError::internal(anyhow::anyhow!(
                    "unknown resource kind {}",
                    self.0.resource.kind
                ))
                .into()
            })
    }
    /// Where it lives (required for videos, audio and links).
    async fn url(&self) -> Option<&str> {
        self.0.resource.url.as_deref()
    }
    /// An article's text, when it is inline.
    async fn body(&self) -> Option<&str> {
        self.0.resource.body.as_deref()
    }
    /// Lower-case, alphabetical.
    async fn tags(&self) -> &[String] {
        &self.0.tags
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.resource.created_at
    }
}

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
pub struct CreateResourceInput {
    /// 1–200 characters.
    pub title: String,
    pub kind: ResourceKind,
    /// An http(s) URL; required for VIDEO, AUDIO and LINK.
    pub url: Option<String>,
    /// An article's text (an ARTICLE needs a body or a url).
    pub body: Option<String>,
    /// Up to 20 tags of 1–40 characters; stored lower-case.
    pub tags: Vec<String>,
}

#[derive(SimpleObject)]
pub struct CreateResourcePayload {
    pub resource: Resource,
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
pub struct EducationQuery;

#[Object]
impl EducationQuery {
    /// The organization's resources, by title; with `tag`, those carrying
    /// it (any case). Any signed-in user of the organization.
    async fn resources(
        &self,
        ctx: &Context<'_>,
        tag: Option<String>,
    ) -> async_graphql::Result<Vec<Resource>> {
        Ok(find_resources(ctx, tag).await?)
    }
}

#[derive(Default)]
pub struct EducationMutation;

#[Object]
impl EducationMutation {
    /// A clinician or admin adds a resource to the organization's library.
    async fn create_resource(
        &self,
        ctx: &Context<'_>,
        input: CreateResourceInput,
    ) -> async_graphql::Result<CreateResourcePayload> {
        Ok(CreateResourcePayload {
            resource: create(ctx, input).await?,
        })
    }

    /// A care-team clinician gives a resource to a patient. Assigning one
    /// the patient has open (not completed) returns that assignment.
    async fn assign_resource(
        &self,
        ctx: &Context<'_>,
        input: AssignResourceInput,
    ) -> async_graphql::Result<AssignResourcePayload> {
        Ok(AssignResourcePayload {
            assignment: assign(ctx, input).await?,
        })
    }

    /// The patient marks an assigned resource done (again: no change).
    async fn complete_resource(
        &self,
        ctx: &Context<'_>,
        input: CompleteResourceInput,
    ) -> async_graphql::Result<CompleteResourcePayload> {
        Ok(CompleteResourcePayload {
            assignment: complete(ctx, input).await?,
        })
    }
}

async fn find_resources(ctx: &Context<'_>, tag: Option<String>) -> ApiResult<Vec<Resource>> {
    let principal = ctx.principal().await?;
    let tag = match tag {
        Some(value) => Some(content::tag(&value).ok_or_else(|| {
            ApiError::bad_input("tag", "tag must be 1 to 40 printable characters")
        })?),
        None => None,
    };
    let rows = library::library(ctx.db()?, principal.organization_id, tag.as_deref()).await?;
    Ok(rows.into_iter().map(Resource).collect())
}

async fn create(ctx: &Context<'_>, input: CreateResourceInput) -> ApiResult<Resource> {
    let principal = ctx.principal().await?;
    let db = ctx.db()?;
    let action = "resource.create";
    authz::require_role_audited(
        db,
        ctx.request_id(),
        principal,
        &[Role::Clinician, Role::Admin],
        action,
        "Resource",
    )
    .await?;
    let kind: Kind = input.kind.into();
    let checked = content::check(
        &input.title,
        kind,
        input.url.as_deref(),
        input.body.as_deref(),
        &input.tags,
    )
    .map_err(|e| ApiError::bad_input(e.field, e.message))?;
    let now = Utc::now();
    let txn = db.begin().await?;
    let record = library::insert_resource(
        &txn,
        resources::ActiveModel {
            id: Set(Uuid::now_v7()),
            organization_id: Set(principal.organization_id),
            title: Set(checked.title),
            kind: Set(kind.as_str().to_owned()),
            url: Set(checked.url),
            body: Set(checked.body),
            created_by_user_id: Set(principal.user_id),
            created_at: Set(now),
            updated_at: Set(now),
        },
        checked.tags,
    )
    .await?;
    audit::record(
        &txn,
        ctx.request_id(),
        AuditEvent::by(
            principal,
            action,
            "Resource",
            Some(record.resource.id),
            None,
            true,
        ),
    )
    .await?;
    txn.commit().await?;
    Ok(Resource(record))
}

async fn assign(ctx: &Context<'_>, input: AssignResourceInput) -> ApiResult<ResourceAssignment> {
    let principal = ctx.principal().await?;
    let db = ctx.db()?;
    let action = "resource.assign";
    authz::require_role_audited(
        db,
        ctx.request_id(),
        principal,
        &[Role::Clinician],
        action,
        "ResourceAssignment",
    )
    .await?;
    let (patient, _) = authz::authorize_patient(
        db,
        principal,
        ctx.request_id(),
        input.patient_id,
        Need::ClinicalWrite,
        action,
    )
    .await?;
    let resource = library::resource_of(db, principal.organization_id, input.resource_id)
        .await?
        .ok_or(ApiError::NotFound("resource"))?;
    let assignment = match library::open_assignment(db, resource.resource.id, patient.id).await? {
        Some(open) => open,
        // One statement, outside a transaction: on a concurrent duplicate
        // the unique key refuses it and the winner's row is read back.
        None => {
            let now = Utc::now();
            library::assign(
                db,
                resource_assignments::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    organization_id: Set(patient.organization_id),
                    resource_id: Set(resource.resource.id),
                    patient_id: Set(patient.id),
                    assigned_by_user_id: Set(principal.user_id),
                    assigned_at: Set(now),
                    completed_at: Set(None),
                    updated_at: Set(now),
                },
                resource.resource.id,
                patient.id,
            )
            .await?
        }
    };
    Ok(ResourceAssignment(AssignmentRecord {
        assignment,
        resource,
    }))
}

async fn complete(
    ctx: &Context<'_>,
    input: CompleteResourceInput,
) -> ApiResult<ResourceAssignment> {
    let principal = ctx.principal().await?;
    let db = ctx.db()?;
    let action = "resource.complete";
    authz::require_role_audited(
        db,
        ctx.request_id(),
        principal,
        &[Role::Patient],
        action,
        "ResourceAssignment",
    )
    .await?;
    let Some(assignment) = library::load_assignment(db, input.assignment_id).await? else {
        audit::record(
            db,
            ctx.request_id(),
            AuditEvent::by(
                principal,
                action,
                "ResourceAssignment",
                Some(input.assignment_id),
                None,
                false,
            ),
        )
        .await?;
        return Err(ApiError::NotFound("resource assignment"));
    };
    authz::authorize_patient(
        db,
        principal,
        ctx.request_id(),
        assignment.patient_id,
        Need::ActAsPatient,
        action,
    )
    .await
    .map_err(|err| match err {
        ApiError::NotFound(_) => ApiError::NotFound("resource assignment"),
        other => other,
    })?;
    let assignment = match assignment.completed_at {
        Some(_) => assignment,
        None => library::complete(db, assignment.id, Utc::now()).await?,
    };
    let record = library::with_resources(db, vec![assignment])
        .await?
        .pop()
        .ok_or(ApiError::NotFound("resource assignment"))?;
    Ok(ResourceAssignment(record))
}

/// `Patient.assignedResources`, once the `Patient` type has checked (and
/// audited) that the viewer may read it.
pub async fn assigned_resources(
    ctx: &Context<'_>,
    patient: &Patient,
) -> ApiResult<Vec<ResourceAssignment>> {
    Ok(library::assignments_of(ctx.db()?, patient.model.id)
        .await?
        .into_iter()
        .map(ResourceAssignment)
        .collect())
}
