//! Per-request DataLoaders: one per relation, so a list of N items resolves
//! a related record in one query, not N.

use std::collections::HashMap;

use async_graphql::dataloader::{DataLoader, Loader};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use crate::{auth::Role, db::Database, error::ApiError};

/// Users by id.
pub struct UserLoader(pub Database);

impl Loader<Uuid> for UserLoader {
    type Value = entity::users::Model;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let rows = entity::users::Entity::find()
            .filter(entity::users::Column::Id.is_in(keys.iter().copied()))
            .all(self.0.conn()?)
            .await
            .map_err(ApiError::from)?;
        Ok(rows.into_iter().map(|u| (u.id, u)).collect())
    }
}

/// A user's roles in their organization, by user id.
pub struct RolesLoader(pub Database);

impl Loader<Uuid> for RolesLoader {
    type Value = Vec<Role>;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let rows = entity::memberships::Entity::find()
            .filter(entity::memberships::Column::UserId.is_in(keys.iter().copied()))
            .all(self.0.conn()?)
            .await
            .map_err(ApiError::from)?;
        let mut roles: HashMap<Uuid, Vec<Role>> = HashMap::new();
        for membership in rows {
            if let Some(role) = Role::parse(&membership.role) {
                roles.entry(membership.user_id).or_default().push(role);
            }
        }
        for list in roles.values_mut() {
            list.sort();
        }
        Ok(roles)
    }
}

/// Organizations by id.
pub struct OrganizationLoader(pub Database);

impl Loader<Uuid> for OrganizationLoader {
    type Value = entity::organizations::Model;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let rows = entity::organizations::Entity::find()
            .filter(entity::organizations::Column::Id.is_in(keys.iter().copied()))
            .all(self.0.conn()?)
            .await
            .map_err(ApiError::from)?;
        Ok(rows.into_iter().map(|o| (o.id, o)).collect())
    }
}

/// Patient records by id (callers have already been authorized for them).
pub struct PatientLoader(pub Database);

impl Loader<Uuid> for PatientLoader {
    type Value = entity::patients::Model;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let rows = entity::patients::Entity::find()
            .filter(entity::patients::Column::Id.is_in(keys.iter().copied()))
            .all(self.0.conn()?)
            .await
            .map_err(ApiError::from)?;
        Ok(rows.into_iter().map(|p| (p.id, p)).collect())
    }
}

/// Catalog medications by id.
pub struct MedicationLoader(pub Database);

impl Loader<Uuid> for MedicationLoader {
    type Value = entity::medications::Model;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let rows = entity::medications::Entity::find()
            .filter(entity::medications::Column::Id.is_in(keys.iter().copied()))
            .all(self.0.conn()?)
            .await
            .map_err(ApiError::from)?;
        Ok(rows.into_iter().map(|m| (m.id, m)).collect())
    }
}

/// A group's active facilitators' user ids, by group id.
pub struct GroupFacilitatorsLoader(pub Database);

impl Loader<Uuid> for GroupFacilitatorsLoader {
    type Value = Vec<Uuid>;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        use entity::group_members::Column;
        let rows = entity::group_members::Entity::find()
            .filter(Column::GroupId.is_in(keys.iter().copied()))
            .filter(Column::Role.eq(crate::authz::groups::FACILITATOR))
            .filter(Column::Status.eq(crate::authz::groups::ACTIVE))
            .order_by_asc(Column::Id)
            .all(self.0.conn()?)
            .await
            .map_err(ApiError::from)?;
        let mut by_group: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
        for row in rows {
            by_group.entry(row.group_id).or_default().push(row.user_id);
        }
        Ok(by_group)
    }
}

/// A group's number of active members (facilitators not counted).
pub struct GroupMemberCountLoader(pub Database);

impl Loader<Uuid> for GroupMemberCountLoader {
    type Value = i32;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        use entity::group_members::Column;
        let rows: Vec<(Uuid, i64)> = entity::group_members::Entity::find()
            .select_only()
            .column(Column::GroupId)
            .column_as(Column::Id.count(), "n")
            .filter(Column::GroupId.is_in(keys.iter().copied()))
            .filter(Column::Role.eq(crate::authz::groups::MEMBER))
            .filter(Column::Status.eq(crate::authz::groups::ACTIVE))
            .group_by(Column::GroupId)
            .into_tuple()
            .all(self.0.conn()?)
            .await
            .map_err(ApiError::from)?;
        Ok(rows.into_iter().map(|(g, n)| (g, n as i32)).collect())
    }
}

/// The loaders of one request (or one WebSocket connection).
pub struct Loaders {
    pub users: DataLoader<UserLoader>,
    pub roles: DataLoader<RolesLoader>,
    pub organizations: DataLoader<OrganizationLoader>,
    pub patients: DataLoader<PatientLoader>,
    pub medications: DataLoader<MedicationLoader>,
    pub group_facilitators: DataLoader<GroupFacilitatorsLoader>,
    pub group_member_counts: DataLoader<GroupMemberCountLoader>,
    /// Whom this operation's caller sees beyond identity (`User` fields).
    pub contacts: tokio::sync::OnceCell<crate::accounts::visibility::Contacts>,
    /// Accounts a page query already read in this operation (see
    /// `user`): the patients page joins them instead of a second query.
    known_users: std::sync::Mutex<HashMap<Uuid, entity::users::Model>>,
}

impl Loaders {
    pub fn new(db: &Database) -> Self {
        Self {
            users: DataLoader::new(UserLoader(db.clone()), spawn_counted),
            roles: DataLoader::new(RolesLoader(db.clone()), spawn_counted),
            organizations: DataLoader::new(OrganizationLoader(db.clone()), spawn_counted),
            patients: DataLoader::new(PatientLoader(db.clone()), spawn_counted),
            medications: DataLoader::new(MedicationLoader(db.clone()), spawn_counted),
            group_facilitators: DataLoader::new(GroupFacilitatorsLoader(db.clone()), spawn_counted),
            group_member_counts: DataLoader::new(GroupMemberCountLoader(db.clone()), spawn_counted),
            contacts: tokio::sync::OnceCell::new(),
            known_users: std::sync::Mutex::default(),
        }
    }

    /// Keeps an account read with a page for this operation's `user`.
    pub fn remember_user(&self, user: entity::users::Model) {
        self.known_users
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(user.id, user);
    }

    /// A user's account: one a page query already read in this operation,
    /// else through the batching loader.
    pub async fn user(&self, id: Uuid) -> async_graphql::Result<Option<entity::users::Model>> {
        let known = self
            .known_users
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&id)
            .cloned();
        match known {
            Some(user) => Ok(Some(user)),
            None => Ok(self.users.load_one(id).await?),
        }
    }
}

/// Spawns a batch load inside the current request's statement count.
fn spawn_counted<F>(work: F) -> tokio::task::JoinHandle<()>
where
    F: Future<Output = ()> + Send + 'static,
{
    match crate::db::current_counter() {
        Some(counter) => tokio::spawn(crate::db::counting(counter, work)),
        None => tokio::spawn(work),
    }
}
