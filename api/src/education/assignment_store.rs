//! Assignments in the database: what gives a resource to a patient, and the
//! patient's progress. An assignment is open until completed; assigning an
//! open one again returns it (a unique key on open assignments backs this
//! under concurrency). Each write is one statement, outside a transaction.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
    SqlErr, sea_query::Expr,
};
use uuid::Uuid;

use entity::{patients, resource_assignments, resources};

use super::resource_store::{ResourceRecord, with_tags};
use crate::error::{ApiError, ApiResult};

/// An assignment with its resource.
#[derive(Debug, Clone)]
pub struct AssignmentRecord {
    pub assignment: resource_assignments::Model,
    pub resource: ResourceRecord,
}

/// The patient's open assignment of the resource, if any.
async fn open_assignment(
    db: &impl ConnectionTrait,
    resource: Uuid,
    patient: Uuid,
) -> ApiResult<Option<resource_assignments::Model>> {
    Ok(resource_assignments::Entity::find()
        .filter(resource_assignments::Column::ResourceId.eq(resource))
        .filter(resource_assignments::Column::PatientId.eq(patient))
        .filter(resource_assignments::Column::CompletedAt.is_null())
        .one(db)
        .await?)
}

/// Assigns the resource to the patient (by `assigner`), or returns the
/// patient's open assignment of it, also when a concurrent request made it
/// first. One statement, outside a transaction: on a concurrent duplicate
/// the unique key refuses it and the winner's row is read back.
pub async fn assign(
    db: &impl ConnectionTrait,
    resource: Uuid,
    patient: &patients::Model,
    assigner: Uuid,
) -> ApiResult<resource_assignments::Model> {
    if let Some(open) = open_assignment(db, resource, patient.id).await? {
        return Ok(open);
    }
    let now = Utc::now();
    let assignment = resource_assignments::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(patient.organization_id),
        resource_id: Set(resource),
        patient_id: Set(patient.id),
        assigned_by_user_id: Set(assigner),
        assigned_at: Set(now),
        completed_at: Set(None),
        updated_at: Set(now),
    };
    match assignment.insert(db).await {
        Ok(model) => Ok(model),
        Err(err) if matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            open_assignment(db, resource, patient.id)
                .await?
                .ok_or_else(|| ApiError::conflict("the assignment changed meanwhile; retry"))
        }
        Err(err) => Err(err.into()),
    }
}

pub async fn load(
    db: &impl ConnectionTrait,
    id: Uuid,
) -> ApiResult<Option<resource_assignments::Model>> {
    Ok(resource_assignments::Entity::find_by_id(id).one(db).await?)
}

/// Marks an assignment completed, once (completing it again changes
/// nothing), and returns it with its resource.
pub async fn complete(
    db: &impl ConnectionTrait,
    assignment: resource_assignments::Model,
) -> ApiResult<AssignmentRecord> {
    let assignment = match assignment.completed_at {
        Some(_) => assignment,
        None => mark_completed(db, assignment.id, Utc::now()).await?,
    };
    with_resources(db, vec![assignment])
        .await?
        .pop()
        .ok_or(ApiError::NotFound("resource assignment"))
}

async fn mark_completed(
    db: &impl ConnectionTrait,
    id: Uuid,
    at: DateTime<Utc>,
) -> ApiResult<resource_assignments::Model> {
    resource_assignments::Entity::update_many()
        .col_expr(resource_assignments::Column::CompletedAt, Expr::value(at))
        .col_expr(resource_assignments::Column::UpdatedAt, Expr::value(at))
        .filter(resource_assignments::Column::Id.eq(id))
        .filter(resource_assignments::Column::CompletedAt.is_null())
        .exec(db)
        .await?;
    load(db, id)
        .await?
        .ok_or(ApiError::NotFound("resource assignment"))
}

/// Assignments with their resources (and tags), in three queries.
pub async fn with_resources(
    db: &impl ConnectionTrait,
    rows: Vec<resource_assignments::Model>,
) -> ApiResult<Vec<AssignmentRecord>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let resources = resources::Entity::find()
        .filter(resources::Column::Id.is_in(rows.iter().map(|a| a.resource_id)))
        .all(db)
        .await?;
    let resources: HashMap<Uuid, ResourceRecord> = with_tags(db, resources)
        .await?
        .into_iter()
        .map(|r| (r.resource.id, r))
        .collect();
    rows.into_iter()
        .map(|assignment| {
            let resource = resources
                .get(&assignment.resource_id)
                .cloned()
                .ok_or_else(|| {
                    ApiError::internal(anyhow::anyhow!("assignment without resource"))
                })?;
            Ok(AssignmentRecord {
                assignment,
                resource,
            })
        })
        .collect()
}

/// A patient's assignments, newest first.
pub async fn assignments_of(
    db: &impl ConnectionTrait,
    patient: Uuid,
) -> ApiResult<Vec<AssignmentRecord>> {
    let rows = resource_assignments::Entity::find()
        .filter(resource_assignments::Column::PatientId.eq(patient))
        .order_by_desc(resource_assignments::Column::AssignedAt)
        .order_by_desc(resource_assignments::Column::Id)
        .all(db)
        .await?;
    with_resources(db, rows).await
}
