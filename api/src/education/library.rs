//! GraphQL surface of the organization's library: `resources` (any
//! signed-in user of the organization, optionally by tag) and
//! `createResource` (clinicians and admins).

use async_graphql::{Context, Enum, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{
    content::{self, Kind},
    resource_store::{self, ResourceRecord},
};
use crate::{
    audit::{self, Action},
    auth::Role,
    caller::{Caller, ContextExt},
    error::ApiResult,
};

pub(super) const RESOURCE: audit::Kind = audit::Kind::new("Resource", "resource");
const CREATE: Action = RESOURCE.action("resource.create");

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
        Ok(Kind::from_row(&self.0.resource.kind)?.into())
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

#[derive(Default)]
pub struct LibraryQuery;

#[Object]
impl LibraryQuery {
    /// The organization's resources, by title; with `tag`, those carrying
    /// it (any case). Any signed-in user of the organization.
    async fn resources(
        &self,
        ctx: &Context<'_>,
        tag: Option<String>,
    ) -> async_graphql::Result<Vec<Resource>> {
        let caller = ctx.caller().await?;
        Ok(find(&caller, tag.as_deref()).await?)
    }
}

#[derive(Default)]
pub struct LibraryMutation;

#[Object]
impl LibraryMutation {
    /// A clinician or admin adds a resource to the organization's library.
    async fn create_resource(
        &self,
        ctx: &Context<'_>,
        input: CreateResourceInput,
    ) -> async_graphql::Result<CreateResourcePayload> {
        let caller = ctx.caller().await?;
        Ok(CreateResourcePayload {
            resource: Resource(create(&caller, input).await?),
        })
    }
}

async fn find(caller: &Caller, tag: Option<&str>) -> ApiResult<Vec<Resource>> {
    let tag = tag.map(content::search_tag).transpose()?;
    let rows =
        resource_store::library(caller.db(), caller.organization_id(), tag.as_deref()).await?;
    Ok(rows.into_iter().map(Resource).collect())
}

async fn create(caller: &Caller, input: CreateResourceInput) -> ApiResult<ResourceRecord> {
    caller.require(&[Role::Clinician, Role::Admin], CREATE)?;
    let kind: Kind = input.kind.into();
    let checked = content::check(
        &input.title,
        kind,
        input.url.as_deref(),
        input.body.as_deref(),
        &input.tags,
    )?;
    resource_store::create(caller, kind, checked, caller.event(CREATE)).await
}
