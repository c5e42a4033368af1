//! Education resources in the database: the organization's library with
//! its tags, and the assignments that give a resource to a patient. An
//! assignment is open until completed; assigning an open one again returns
//! it (a unique key on open assignments backs this under concurrency).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
    SqlErr,
    sea_query::{Expr, ExprTrait, Query},
};
use uuid::Uuid;

use entity::{resource_assignments, resource_tags, resources};

use crate::error::{ApiError, ApiResult};

/// A resource with its tags.
#[derive(Debug, Clone)]
pub struct ResourceRecord {
    pub resource: resources::Model,
    pub tags: Vec<String>,
}

/// An assignment with its resource.
#[derive(Debug, Clone)]
pub struct AssignmentRecord {
    pub assignment: resource_assignments::Model,
    pub resource: ResourceRecord,
}

/// Inserts a resource and its tags.
pub async fn insert_resource(
    db: &impl ConnectionTrait,
    resource: resources::ActiveModel,
    tags: Vec<String>,
) -> ApiResult<ResourceRecord> {
    let resource = resource.insert(db).await?;
    if !tags.is_empty() {
        resource_tags::Entity::insert_many(tags.iter().map(|tag| resource_tags::ActiveModel {
            resource_id: Set(resource.id),
            organization_id: Set(resource.organization_id),
            tag: Set(tag.clone()),
        }))
        .exec_without_returning(db)
        .await?;
    }
    Ok(ResourceRecord { resource, tags })
}

/// Resources with their tags, in two queries whatever their number.
pub async fn with_tags(
    db: &impl ConnectionTrait,
    rows: Vec<resources::Model>,
) -> ApiResult<Vec<ResourceRecord>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let mut tags: HashMap<Uuid, Vec<String>> = HashMap::new();
    for row in resource_tags::Entity::find()
        .filter(resource_tags::Column::ResourceId.is_in(rows.iter().map(|r| r.id)))
        .order_by_asc(resource_tags::Column::Tag)
        .all(db)
        .await?
    {
        tags.entry(row.resource_id).or_default().push(row.tag);
    }
    Ok(rows
        .into_iter()
        .map(|resource| ResourceRecord {
            tags: tags.remove(&resource.id).unwrap_or_default(),
            resource,
        })
        .collect())
}

/// The organization's resources, optionally with one tag, by title.
pub async fn library(
    db: &impl ConnectionTrait,
    organization: Uuid,
    tag: Option<&str>,
) -> ApiResult<Vec<ResourceRecord>> {
    let mut query =
        resources::Entity::find().filter(resources::Column::OrganizationId.eq(organization));
    if let Some(tag) = tag {
        query = query.filter(
            resources::Column::Id.in_subquery(
                Query::select()
                    .column(resource_tags::Column::ResourceId)
                    .from(resource_tags::Entity)
                    .and_where(Expr::col(resource_tags::Column::OrganizationId).eq(organization))
                    .and_where(Expr::col(resource_tags::Column::Tag).eq(tag))
                    .to_owned(),
            ),
        );
    }
    let rows = query
        .order_by_asc(resources::Column::Title)
        .order_by_asc(resources::Column::Id)
        .all(db)
        .await?;
    with_tags(db, rows).await
}

/// One resource of the organization.
pub async fn resource_of(
    db: &impl ConnectionTrait,
    organization: Uuid,
    id: Uuid,
) -> ApiResult<Option<ResourceRecord>> {
    let Some(row) = resources::Entity::find_by_id(id)
        .filter(resources::Column::OrganizationId.eq(organization))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    Ok(with_tags(db, vec![row]).await?.pop())
}

/// The patient's open assignment of the resource, if any.
pub async fn open_assignment(
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

/// Assigns the resource to the patient, or returns the open assignment a
/// concurrent request made first.
pub async fn assign(
    db: &impl ConnectionTrait,
    assignment: resource_assignments::ActiveModel,
    resource: Uuid,
    patient: Uuid,
) -> ApiResult<resource_assignments::Model> {
    match assignment.insert(db).await {
        Ok(model) => Ok(model),
        Err(err) if matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            open_assignment(db, resource, patient)
                .await?
                .ok_or_else(|| ApiError::conflict("the assignment changed meanwhile; retry"))
        }
        Err(err) => Err(err.into()),
    }
}

pub async fn load_assignment(
    db: &impl ConnectionTrait,
    id: Uuid,
) -> ApiResult<Option<resource_assignments::Model>> {
    Ok(resource_assignments::Entity::find_by_id(id).one(db).await?)
}

/// Marks an assignment completed, once: completing it again changes
/// nothing and returns it as it is.
pub async fn complete(
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
    load_assignment(db, id)
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
