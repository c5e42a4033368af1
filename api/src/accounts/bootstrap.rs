//! Accounts made from the command line: an organization's first admin
//! (`stepdown bootstrap`). The demo organization is `crate::demo`.

use chrono::Utc;
use sea_orm::{ActiveModelTrait, ConnectionTrait, DatabaseConnection, Set, TransactionTrait};
use serde::Serialize;
use uuid::Uuid;

use entity::{memberships, organizations, patients, users};

use crate::validation;
use crate::{
    auth::{Role, passwords::PasswordHasherPool},
    error::{ApiError, ApiResult},
};

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Bootstrapped {
    pub organization_id: Uuid,
    pub admin_user_id: Uuid,
}

pub(crate) async fn insert_organization(db: &impl ConnectionTrait, name: &str) -> ApiResult<Uuid> {
    let name = validation::text("org", name, 200)?;
    let org = organizations::ActiveModel {
        id: Set(Uuid::now_v7()),
        name: Set(name),
        created_at: Set(Utc::now()),
    }
    .insert(db)
    .await?;
    Ok(org.id)
}

/// Inserts a user with roles (and a patient record for a patient).
pub(crate) async fn insert_user(
    db: &impl ConnectionTrait,
    organization_id: Uuid,
    email: &str,
    password_hash: &str,
    display_name: &str,
    timezone: &str,
    roles: &[Role],
) -> ApiResult<(Uuid, Option<Uuid>)> {
    // Every way in (bootstrap, demo, tests) stores an IANA name, never one
    // that would silently read as UTC.
    let timezone = validation::timezone("timezone", timezone)?;
    let now = Utc::now();
    let user = users::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(organization_id),
        email: Set(email.to_owned()),
        password_hash: Set(password_hash.to_owned()),
        display_name: Set(display_name.to_owned()),
        timezone: Set(timezone),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await
    .map_err(|err| match err.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => {
            ApiError::conflict(format!("an account with the email {email} already exists"))
        }
        _ => ApiError::from(err),
    })?;
    for role in roles {
        memberships::ActiveModel {
            id: Set(Uuid::now_v7()),
            organization_id: Set(organization_id),
            user_id: Set(user.id),
            role: Set(role.as_str().to_owned()),
            created_at: Set(now),
        }
        .insert(db)
        .await?;
    }
    let patient_id = if roles.contains(&Role::Patient) {
        let patient = patients::ActiveModel {
            id: Set(Uuid::now_v7()),
            organization_id: Set(organization_id),
            user_id: Set(user.id),
            created_at: Set(now),
        }
        .insert(db)
        .await?;
        Some(patient.id)
    } else {
        None
    };
    Ok((user.id, patient_id))
}

/// Creates an organization and its first admin.
pub async fn bootstrap(
    db: &DatabaseConnection,
    passwords: &PasswordHasherPool,
    organization: &str,
    admin_email: &str,
    admin_password: &str,
) -> ApiResult<Bootstrapped> {
    let email = validation::email("admin-email", admin_email)?;
    validation::new_password("admin-password", admin_password)?;
    let hash = passwords.hash(admin_password).await?;
    let txn = db.begin().await?;
    let organization_id = insert_organization(&txn, organization).await?;
    let display_name = email.split('@').next().unwrap_or("Admin").to_owned();
    let (admin_user_id, _) = insert_user(
        &txn,
        organization_id,
        &email,
        &hash,
        &display_name,
        "UTC",
        &[Role::Admin],
    )
    .await?;
    txn.commit().await?;
    Ok(Bootstrapped {
        organization_id,
        admin_user_id,
    })
}
