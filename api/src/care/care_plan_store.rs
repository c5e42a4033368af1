//! Recovery plans in the database: the plan as it stands (one row per
//! patient) and a revision row with the full content for every edit, both
//! written in one transaction. Versions count edits from 1; two edits racing
//! for the same version cannot both land (a unique key), so the second is
//! `CONFLICT`.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, QuerySelect, Set, SqlErr,
};
use uuid::Uuid;

use entity::{care_plan_revisions, care_plans, patients};

use crate::{
    caller::Caller,
    error::{ApiError, ApiResult},
    graphql::pagination::Page,
};

/// The four lists of a recovery plan.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Content {
    pub triggers: Vec<String>,
    pub coping_strategies: Vec<String>,
    pub warning_signs: Vec<String>,
    pub support_contacts: Vec<String>,
}

fn encode(list: &[String]) -> String {
    serde_json::to_string(list).unwrap_or_else(|_| "[]".into())
}

fn decode(stored: &str) -> ApiResult<Vec<String>> {
    serde_json::from_str(stored)
        .map_err(|e| ApiError::internal(anyhow::anyhow!("stored care plan list: {e}")))
}

impl Content {
    pub fn of_plan(plan: &care_plans::Model) -> ApiResult<Self> {
        Ok(Self {
            triggers: decode(&plan.triggers)?,
            coping_strategies: decode(&plan.coping_strategies)?,
            warning_signs: decode(&plan.warning_signs)?,
            support_contacts: decode(&plan.support_contacts)?,
        })
    }

    pub fn of_revision(revision: &care_plan_revisions::Model) -> ApiResult<Self> {
        Ok(Self {
            triggers: decode(&revision.triggers)?,
            coping_strategies: decode(&revision.coping_strategies)?,
            warning_signs: decode(&revision.warning_signs)?,
            support_contacts: decode(&revision.support_contacts)?,
        })
    }
}

pub async fn current(
    db: &impl ConnectionTrait,
    patient: Uuid,
) -> ApiResult<Option<care_plans::Model>> {
    Ok(care_plans::Entity::find()
        .filter(care_plans::Column::PatientId.eq(patient))
        .one(db)
        .await?)
}

fn edited_meanwhile() -> ApiError {
    ApiError::conflict("the recovery plan was changed meanwhile; reload it and edit again")
}

/// Saves `content` as the next version of the patient's plan (version 1 for
/// a first plan), edited by the caller, with its revision row, in one
/// transaction. `expected_version`, when given, must be the version the
/// editor started from (0: no plan yet).
pub async fn save(
    caller: &Caller,
    patient: &patients::Model,
    content: &Content,
    expected_version: Option<i32>,
) -> ApiResult<care_plans::Model> {
    let txn = caller.begin().await?;
    let plan = write(
        &txn,
        patient,
        content,
        expected_version,
        caller.user_id(),
        Utc::now(),
    )
    .await?;
    caller.commit(txn).await?;
    Ok(plan)
}

async fn write(
    db: &impl ConnectionTrait,
    patient: &patients::Model,
    content: &Content,
    expected_version: Option<i32>,
    editor: Uuid,
    now: DateTime<Utc>,
) -> ApiResult<care_plans::Model> {
    let existing = current(db, patient.id).await?;
    let version_now = existing.as_ref().map_or(0, |p| p.version);
    if expected_version.is_some_and(|v| v != version_now) {
        return Err(edited_meanwhile());
    }
    let version = version_now + 1;
    let to_conflict = |err: sea_orm::DbErr| match err.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => edited_meanwhile(),
        _ => ApiError::from(err),
    };
    care_plan_revisions::ActiveModel {
        id: Set(Uuid::now_v7()),
        patient_id: Set(patient.id),
        version: Set(version),
        triggers: Set(encode(&content.triggers)),
        coping_strategies: Set(encode(&content.coping_strategies)),
        warning_signs: Set(encode(&content.warning_signs)),
        support_contacts: Set(encode(&content.support_contacts)),
        edited_by_user_id: Set(editor),
        edited_at: Set(now),
    }
    .insert(db)
    .await
    .map_err(to_conflict)?;
    let plan = match existing {
        Some(plan) => {
            let mut active = plan.into_active_model();
            active.triggers = Set(encode(&content.triggers));
            active.coping_strategies = Set(encode(&content.coping_strategies));
            active.warning_signs = Set(encode(&content.warning_signs));
            active.support_contacts = Set(encode(&content.support_contacts));
            active.version = Set(version);
            active.updated_by_user_id = Set(editor);
            active.updated_at = Set(now);
            active.update(db).await?
        }
        None => care_plans::ActiveModel {
            id: Set(Uuid::now_v7()),
            organization_id: Set(patient.organization_id),
            patient_id: Set(patient.id),
            triggers: Set(encode(&content.triggers)),
            coping_strategies: Set(encode(&content.coping_strategies)),
            warning_signs: Set(encode(&content.warning_signs)),
            support_contacts: Set(encode(&content.support_contacts)),
            version: Set(version),
            updated_by_user_id: Set(editor),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(db)
        .await
        .map_err(to_conflict)?,
    };
    Ok(plan)
}

/// One page of revisions, newest first (keyset on the time-ordered ids).
pub async fn revisions(
    db: &impl ConnectionTrait,
    patient: Uuid,
    page: Page,
) -> ApiResult<Vec<care_plan_revisions::Model>> {
    let mut query = care_plan_revisions::Entity::find()
        .filter(care_plan_revisions::Column::PatientId.eq(patient));
    if let Some(after) = page.after {
        query = query.filter(care_plan_revisions::Column::Id.lt(after));
    }
    Ok(query
        .order_by_desc(care_plan_revisions::Column::Id)
        .limit(page.fetch())
        .all(db)
        .await?)
}
