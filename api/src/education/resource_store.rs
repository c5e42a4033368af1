//! Education resources in the database: the organization's library with
//! its tags, and creating a resource (with its audit record).

use std::collections::HashMap;

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
    sea_query::{Expr, ExprTrait, Query},
};
use uuid::Uuid;

use entity::{resource_tags, resources};

use super::content::{Checked, Kind};
use crate::{audit::AuditEvent, caller::Caller, error::ApiResult};

/// A resource with its tags.
#[derive(Debug, Clone)]
pub struct ResourceRecord {
    pub resource: resources::Model,
    pub tags: Vec<String>,
}

/// Adds a checked resource and its tags to the caller's organization and
/// records `event` on it, in one transaction.
pub async fn create(
    caller: &Caller,
    kind: Kind,
    checked: Checked,
    event: AuditEvent,
) -> ApiResult<ResourceRecord> {
    let now = Utc::now();
    let txn = caller.begin().await?;
    let resource = resources::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(caller.organization_id()),
        title: Set(checked.title),
        kind: Set(kind.as_str().to_owned()),
        url: Set(checked.url),
        body: Set(checked.body),
        created_by_user_id: Set(caller.user_id()),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await?;
    let tags = checked.tags;
    if !tags.is_empty() {
        resource_tags::Entity::insert_many(tags.iter().map(|tag| resource_tags::ActiveModel {
            resource_id: Set(resource.id),
            organization_id: Set(resource.organization_id),
            tag: Set(tag.clone()),
        }))
        .exec_without_returning(&txn)
        .await?;
    }
    caller.record(event.resource(resource.id));
    caller.commit(txn).await?;
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
