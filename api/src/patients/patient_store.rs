//! A patient's record in the database: the lookups every domain shares, the
//! page of records a caller may list, and creating a new patient's record.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use entity::{patients, users};

use crate::{auth::Principal, authz, error::ApiResult, graphql::pagination::Page};

/// A patient's time zone (their account's).
pub async fn timezone(db: &impl ConnectionTrait, patient: &patients::Model) -> ApiResult<String> {
    Ok(users::Entity::find_by_id(patient.user_id)
        .one(db)
        .await?
        .map_or_else(|| "UTC".to_owned(), |u| u.timezone))
}

/// The patient record of a user, if they have one.
pub async fn of_user(
    db: &impl ConnectionTrait,
    user_id: Uuid,
) -> ApiResult<Option<patients::Model>> {
    Ok(patients::Entity::find()
        .filter(patients::Column::UserId.eq(user_id))
        .one(db)
        .await?)
}

/// A row of the patients page: the record, its account, and what the
/// policy needs to know how the caller stands to it.
pub struct PageRow {
    pub patient: patients::Model,
    pub user: users::Model,
    /// The caller is on the patient's care team.
    pub on_team: bool,
    /// The categories of the caller's live consents from this patient
    /// (comma-separated, possibly repeated).
    pub consented: Option<String>,
}

/// One page (by id) of the records `principal` may see (see
/// [`authz::visible_patients`]), fetching one extra row, each with its
/// account and the caller's standing: one statement whatever the page size.
pub async fn visible_page(
    db: &impl ConnectionTrait,
    principal: &Principal,
    page: &Page,
) -> ApiResult<Vec<PageRow>> {
    use entity::{care_team_members as team, consents};
    use sea_orm::{
        DatabaseBackend,
        sea_query::{Expr, ExprTrait, Func, JoinType, Order, Query},
    };
    let p = |c: patients::Column| (patients::Entity, c);
    let u = |c: users::Column| (users::Entity, c);
    let on_team = Query::select()
        .expr(Expr::val(1))
        .from(team::Entity)
        .and_where(
            Expr::col((team::Entity, team::Column::PatientId)).equals(p(patients::Column::Id)),
        )
        .and_where(Expr::col((team::Entity, team::Column::ClinicianUserId)).eq(principal.user_id))
        .to_owned();
    let aggregate = match db.get_database_backend() {
        DatabaseBackend::Postgres => "string_agg",
        _ => "group_concat",
    };
    let consented = Query::select()
        .expr(
            Func::cust(aggregate)
                .arg(Expr::col((consents::Entity, consents::Column::Categories)))
                .arg(","),
        )
        .from(consents::Entity)
        .and_where(
            Expr::col((consents::Entity, consents::Column::PatientId))
                .equals(p(patients::Column::Id)),
        )
        .and_where(
            Expr::col((consents::Entity, consents::Column::GranteeUserId)).eq(principal.user_id),
        )
        .and_where(Expr::col((consents::Entity, consents::Column::RevokedAt)).is_null())
        .and_where(Expr::col((consents::Entity, consents::Column::ExpiresAt)).gt(Utc::now()))
        .to_owned();
    let mut query = Query::select();
    query
        .expr_as(Expr::col(p(patients::Column::Id)), "p_id")
        .expr_as(
            Expr::col(p(patients::Column::OrganizationId)),
            "p_organization_id",
        )
        .expr_as(Expr::col(p(patients::Column::UserId)), "p_user_id")
        .expr_as(Expr::col(p(patients::Column::CreatedAt)), "p_created_at")
        .expr_as(Expr::col(u(users::Column::Email)), "u_email")
        .expr_as(Expr::col(u(users::Column::PasswordHash)), "u_password_hash")
        .expr_as(Expr::col(u(users::Column::DisplayName)), "u_display_name")
        .expr_as(Expr::col(u(users::Column::Timezone)), "u_timezone")
        .expr_as(
            Expr::col(u(users::Column::OrganizationId)),
            "u_organization_id",
        )
        .expr_as(Expr::col(u(users::Column::CreatedAt)), "u_created_at")
        .expr_as(Expr::col(u(users::Column::UpdatedAt)), "u_updated_at")
        .expr_as(Expr::exists(on_team), "on_team")
        .expr_as(
            Expr::SubQuery(None, Box::new(consented.into())),
            "consented",
        )
        .from(patients::Entity)
        .join(
            JoinType::InnerJoin,
            users::Entity,
            Expr::col(u(users::Column::Id)).equals(p(patients::Column::UserId)),
        )
        .cond_where(authz::visible_patients(principal));
    if let Some(after) = page.after {
        query.and_where(Expr::col(p(patients::Column::Id)).gt(after));
    }
    query
        .order_by(p(patients::Column::Id), Order::Asc)
        .limit(page.fetch());
    let rows = db.query_all(&query).await?;
    rows.iter()
        .map(|row| {
            let user_id: Uuid = row.try_get("", "p_user_id")?;
            Ok(PageRow {
                patient: patients::Model {
                    id: row.try_get("", "p_id")?,
                    organization_id: row.try_get("", "p_organization_id")?,
                    user_id,
                    created_at: row.try_get("", "p_created_at")?,
                },
                user: users::Model {
                    id: user_id,
                    organization_id: row.try_get("", "u_organization_id")?,
                    email: row.try_get("", "u_email")?,
                    password_hash: row.try_get("", "u_password_hash")?,
                    display_name: row.try_get("", "u_display_name")?,
                    timezone: row.try_get("", "u_timezone")?,
                    created_at: row.try_get("", "u_created_at")?,
                    updated_at: row.try_get("", "u_updated_at")?,
                },
                on_team: row.try_get("", "on_team")?,
                consented: row.try_get("", "consented")?,
            })
        })
        .collect()
}

/// Creates the patient record of a new patient account (inside the
/// account's transaction).
pub async fn create(
    db: &impl ConnectionTrait,
    organization_id: Uuid,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> ApiResult<patients::Model> {
    Ok(patients::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(organization_id),
        user_id: Set(user_id),
        created_at: Set(now),
    }
    .insert(db)
    .await?)
}
