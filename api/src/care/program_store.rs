//! Programs in the database: the organization's catalogue, and creating a
//! program (its name unique in the organization) with its audit record.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
    SqlErr,
};
use uuid::Uuid;

use entity::programs;

use super::{booking::AppointmentKind, phases::ProgramModality};
use crate::{
    audit::AuditEvent,
    caller::Caller,
    error::{ApiError, ApiResult},
};

/// A checked program to create.
#[derive(Debug, Clone)]
pub struct NewProgram {
    pub name: String,
    pub modality: ProgramModality,
    pub duration_weeks: i32,
    pub description: String,
    pub therapy_kinds: Vec<AppointmentKind>,
    pub group_sessions_per_week: Option<i32>,
    pub follow_up_every_days: Option<i32>,
}

pub(super) fn is_unique_violation(err: &sea_orm::DbErr) -> bool {
    matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}

/// The kinds of session, each once in the order given, as stored
/// (comma-separated).
fn encode_kinds(kinds: &[AppointmentKind]) -> String {
    let mut stored: Vec<&str> = Vec::new();
    for kind in kinds {
        if !stored.contains(&kind.as_str()) {
            stored.push(kind.as_str());
        }
    }
    stored.join(",")
}

/// The program's kinds of session (unknown stored names are skipped).
pub fn therapy_kinds(program: &programs::Model) -> Vec<AppointmentKind> {
    program
        .therapy_kinds
        .split(',')
        .filter_map(AppointmentKind::parse)
        .collect()
}

/// Creates a program in the caller's organization and records `event` on
/// it, in one transaction; a name already used there is `CONFLICT`.
pub async fn create(
    caller: &Caller,
    new: &NewProgram,
    event: AuditEvent,
) -> ApiResult<programs::Model> {
    let now = Utc::now();
    let txn = caller.begin().await?;
    let program = programs::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(caller.organization_id()),
        name: Set(new.name.clone()),
        modality: Set(new.modality.as_str().to_owned()),
        duration_weeks: Set(new.duration_weeks),
        description: Set(new.description.clone()),
        therapy_kinds: Set(encode_kinds(&new.therapy_kinds)),
        group_sessions_per_week: Set(new.group_sessions_per_week),
        follow_up_every_days: Set(new.follow_up_every_days),
        created_by_user_id: Set(caller.user_id()),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await
    .map_err(|err| {
        if is_unique_violation(&err) {
            ApiError::conflict("the organization already has a program with this name")
        } else {
            ApiError::from(err)
        }
    })?;
    caller.record(event.resource(program.id));
    caller.commit(txn).await?;
    Ok(program)
}

/// The organization's programs, by name.
pub async fn programs_of(
    db: &impl ConnectionTrait,
    organization: Uuid,
) -> ApiResult<Vec<programs::Model>> {
    Ok(programs::Entity::find()
        .filter(programs::Column::OrganizationId.eq(organization))
        .order_by_asc(programs::Column::Name)
        .order_by_asc(programs::Column::Id)
        .all(db)
        .await?)
}

/// One program of the organization.
pub async fn program_of(
    db: &impl ConnectionTrait,
    organization: Uuid,
    id: Uuid,
) -> ApiResult<Option<programs::Model>> {
    Ok(programs::Entity::find_by_id(id)
        .filter(programs::Column::OrganizationId.eq(organization))
        .one(db)
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use AppointmentKind::*;

    #[test]
    fn therapy_kinds_are_stored_once_each_in_order() {
        assert_eq!(
            encode_kinds(&[Medical, IndividualCbt, Medical]),
            "MEDICAL,INDIVIDUAL_CBT"
        );
        assert_eq!(encode_kinds(&[]), "");
    }
}
