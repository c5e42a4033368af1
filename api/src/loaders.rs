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

/// Each patient's first check-ins, keyed by (patient, rows to fetch): the
/// nested `checkIns(first:)` of a page of patients in one windowed query.
pub struct FirstCheckInsLoader(pub Database);

impl Loader<(Uuid, u64)> for FirstCheckInsLoader {
    type Value = Vec<entity::check_ins::Model>;
    type Error = async_graphql::Error;

    async fn load(
        &self,
        keys: &[(Uuid, u64)],
    ) -> Result<HashMap<(Uuid, u64), Self::Value>, Self::Error> {
        let db = self.0.conn()?;
        let mut out: HashMap<(Uuid, u64), Self::Value> = HashMap::new();
        // One query per page size asked for (a page asks for one).
        let mut sizes: Vec<u64> = keys.iter().map(|(_, n)| *n).collect();
        sizes.sort_unstable();
        sizes.dedup();
        for fetch in sizes {
            let patients: Vec<Uuid> = keys
                .iter()
                .filter(|(_, n)| *n == fetch)
                .map(|(p, _)| *p)
                .collect();
            for &patient in &patients {
                out.insert((patient, fetch), Vec::new());
            }
            let rows = first_of_each(db, &patients, fetch).await?;
            for row in rows {
                out.entry((row.patient_id, fetch)).or_default().push(row);
            }
        }
        Ok(out)
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
    pub first_check_ins: DataLoader<FirstCheckInsLoader>,
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
            first_check_ins: DataLoader::new(FirstCheckInsLoader(db.clone()), spawn_counted),
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

/// The first `fetch` check-ins (oldest first) of each of `patients`, in one
/// windowed query (`ROW_NUMBER() OVER (PARTITION BY patient_id)`): the
/// nested `Patient.checkIns(first:)` of a page costs one statement, not one
/// per patient.
async fn first_of_each(
    db: &impl sea_orm::ConnectionTrait,
    patients: &[Uuid],
    fetch: u64,
) -> Result<Vec<entity::check_ins::Model>, ApiError> {
    use sea_orm::{DatabaseBackend, FromQueryResult, Statement, Value};
    if patients.is_empty() {
        return Ok(Vec::new());
    }
    let backend = db.get_database_backend();
    let mark = |n: usize| match backend {
        DatabaseBackend::Postgres => format!("${n}"),
        _ => "?".to_owned(),
    };
    let ids: Vec<String> = (1..=patients.len()).map(mark).collect();
    let sql = format!(
        "SELECT * FROM (SELECT check_ins.*, ROW_NUMBER() OVER \
         (PARTITION BY patient_id ORDER BY id) AS position FROM check_ins \
         WHERE patient_id IN ({})) ranked WHERE position <= {} ORDER BY patient_id, id",
        ids.join(", "),
        mark(patients.len() + 1),
    );
    let mut values: Vec<Value> = patients.iter().map(|id| (*id).into()).collect();
    values.push((fetch as i64).into());
    Ok(
        entity::check_ins::Model::find_by_statement(Statement::from_sql_and_values(
            backend, sql, values,
        ))
        .all(db)
        .await?,
    )
}
