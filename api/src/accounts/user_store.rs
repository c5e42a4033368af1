//! Users in the database: looking one up, and creating an account (the user
//! and their role in the organization).

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect,
    QueryTrait, Set, SqlErr,
};
use uuid::Uuid;

use entity::{care_team_members, group_members, memberships, patients, users};

use crate::{
    accounts::visibility::Contacts,
    auth::Role,
    authz::groups::{ACTIVE, FACILITATOR},
    error::{ApiError, ApiResult},
};

/// The answer to a second account for an address.
pub const EMAIL_TAKEN: &str = "an account with this email already exists";

/// An account to create, already checked.
pub struct NewAccount {
    pub organization_id: Uuid,
    /// Lower-cased (see `validation::email`).
    pub email: String,
    pub password_hash: String,
    pub display_name: String,
    pub timezone: String,
    pub role: Role,
}

pub async fn by_id(db: &impl ConnectionTrait, id: Uuid) -> ApiResult<Option<users::Model>> {
    Ok(users::Entity::find_by_id(id).one(db).await?)
}

/// True when an account already uses `email` (lower-cased).
pub async fn email_taken(db: &impl ConnectionTrait, email: &str) -> ApiResult<bool> {
    Ok(users::Entity::find()
        .filter(users::Column::Email.eq(email))
        .one(db)
        .await?
        .is_some())
}

/// True when `user_id` holds `role` (in any organization).
pub async fn holds_role(db: &impl ConnectionTrait, user_id: Uuid, role: Role) -> ApiResult<bool> {
    Ok(memberships::Entity::find()
        .filter(memberships::Column::UserId.eq(user_id))
        .filter(memberships::Column::Role.eq(role.as_str()))
        .one(db)
        .await?
        .is_some())
}

/// Inserts the user with `id` and their membership inside `db` (the
/// sign-up's transaction). A taken email is a conflict, even when another
/// sign-up took it a moment ago.
pub async fn create(
    db: &impl ConnectionTrait,
    id: Uuid,
    account: NewAccount,
    now: DateTime<Utc>,
) -> ApiResult<users::Model> {
    let user = users::ActiveModel {
        id: Set(id),
        organization_id: Set(account.organization_id),
        email: Set(account.email),
        password_hash: Set(account.password_hash),
        display_name: Set(account.display_name),
        timezone: Set(account.timezone),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await
    .map_err(|err| match err.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => ApiError::conflict(EMAIL_TAKEN),
        _ => ApiError::from(err),
    })?;
    memberships::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(account.organization_id),
        user_id: Set(user.id),
        role: Set(account.role.as_str().to_owned()),
        created_at: Set(now),
    }
    .insert(db)
    .await?;
    Ok(user)
}

/// The people a viewer sees more of than identity, in two queries whatever
/// a page holds: the patients whose care team they are on, and the staff
/// who work for them (their own care team, their groups' facilitators).
pub async fn contacts_of(db: &impl ConnectionTrait, viewer: Uuid) -> ApiResult<Contacts> {
    let cared_for: Vec<Uuid> = patients::Entity::find()
        .select_only()
        .column(patients::Column::UserId)
        .filter(
            patients::Column::Id.in_subquery(
                care_team_members::Entity::find()
                    .select_only()
                    .column(care_team_members::Column::PatientId)
                    .filter(care_team_members::Column::ClinicianUserId.eq(viewer))
                    .into_query(),
            ),
        )
        .into_tuple()
        .all(db)
        .await?;
    let own_records = patients::Entity::find()
        .select_only()
        .column(patients::Column::Id)
        .filter(patients::Column::UserId.eq(viewer))
        .into_query();
    let mut serving: Vec<Uuid> = care_team_members::Entity::find()
        .select_only()
        .column(care_team_members::Column::ClinicianUserId)
        .filter(care_team_members::Column::PatientId.in_subquery(own_records))
        .into_tuple()
        .all(db)
        .await?;
    let viewer_groups = group_members::Entity::find()
        .select_only()
        .column(group_members::Column::GroupId)
        .filter(group_members::Column::UserId.eq(viewer))
        .filter(group_members::Column::Status.eq(ACTIVE))
        .into_query();
    let facilitators: Vec<Uuid> = group_members::Entity::find()
        .select_only()
        .column(group_members::Column::UserId)
        .filter(group_members::Column::Role.eq(FACILITATOR))
        .filter(group_members::Column::Status.eq(ACTIVE))
        .filter(group_members::Column::GroupId.in_subquery(viewer_groups))
        .into_tuple()
        .all(db)
        .await?;
    serving.extend(facilitators);
    Ok(Contacts {
        cared_for: cared_for.into_iter().collect(),
        serving: serving.into_iter().collect(),
    })
}
