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
    accounts::visibility::Standing,
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

/// How `viewer` stands to `subject` through care teams and groups (the
/// parts of `Standing` that need the database).
pub async fn standing_between(
    db: &impl ConnectionTrait,
    viewer: Uuid,
    subject: Uuid,
) -> ApiResult<Standing> {
    let on_care_team_of = |clinician: Uuid, patient_user: Uuid| {
        let records = patients::Entity::find()
            .select_only()
            .column(patients::Column::Id)
            .filter(patients::Column::UserId.eq(patient_user))
            .into_query();
        care_team_members::Entity::find()
            .filter(care_team_members::Column::ClinicianUserId.eq(clinician))
            .filter(care_team_members::Column::PatientId.in_subquery(records))
            .one(db)
    };
    let on_their_care_team = on_care_team_of(viewer, subject).await?.is_some();
    let mut works_for_viewer = on_care_team_of(subject, viewer).await?.is_some();
    if !works_for_viewer {
        let viewer_groups = group_members::Entity::find()
            .select_only()
            .column(group_members::Column::GroupId)
            .filter(group_members::Column::UserId.eq(viewer))
            .filter(group_members::Column::Status.eq(ACTIVE))
            .into_query();
        works_for_viewer = group_members::Entity::find()
            .filter(group_members::Column::UserId.eq(subject))
            .filter(group_members::Column::Role.eq(FACILITATOR))
            .filter(group_members::Column::Status.eq(ACTIVE))
            .filter(group_members::Column::GroupId.in_subquery(viewer_groups))
            .one(db)
            .await?
            .is_some();
    }
    Ok(Standing {
        on_their_care_team,
        works_for_viewer,
        ..Standing::default()
    })
}
