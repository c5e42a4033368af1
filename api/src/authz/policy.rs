//! Who may do what with a patient's record.
//!
//! | caller | may |
//! |---|---|
//! | the patient | everything of their own record |
//! | care-team clinician | read and write the clinical record |
//! | consent holder | identity (id, display name) + exactly the granted categories, until expiry or revocation |
//! | admin | identity, care team and program enrollments of their organization's patients; no clinical data |
//!
//! Nothing crosses organizations. An invisible record is `NOT_FOUND`; an
//! operation the caller's role can never perform is `FORBIDDEN`.

use std::collections::{BTreeSet, HashMap, HashSet};

use chrono::Utc;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect,
    sea_query::{Expr, ExprTrait, Query},
};
use uuid::Uuid;

use entity::{care_team_members, consents, patients};

use super::ConsentCategory;
use crate::{
    auth::{Principal, Role},
    error::{ApiError, ApiResult},
};

/// How the caller stands to one patient. Several can hold at once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Relationship {
    pub own: bool,
    pub care_team: bool,
    pub admin: bool,
    /// Categories disclosed to the caller by a current consent.
    pub consented: BTreeSet<ConsentCategory>,
}

/// What an operation needs of the relationship.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// The patient's identity fields (id, display name).
    Identity,
    /// The care team's membership.
    CareTeam,
    /// One category of the record, to read (consent holders included).
    Read(ConsentCategory),
    /// The detailed clinical record (dose logs, orders): the patient and the
    /// care team only, never consent holders.
    CareRecord,
    /// To write the clinical record (care-team clinicians).
    ClinicalWrite,
    /// To act as the patient (consents, agreeing to a plan, logging a dose).
    ActAsPatient,
    /// Organization administration (care-team assignment).
    Administer,
    /// Clinical notes, to read or write: care-team clinicians only — not the
    /// patient, not admins, not consent holders (SUD counselling notes need
    /// a consent of their own, which this product does not grant).
    ClinicalNotes,
    /// To see the programs a patient is enrolled in: the patient, the care
    /// team, and admins (who run the programs).
    ReadEnrollment,
    /// To enroll a patient or move an enrollment on: the care team, admins.
    ManageEnrollment,
    /// To edit the recovery plan: the patient or the care team.
    EditCarePlan,
    /// The patient's group memberships and attendance: the patient, and
    /// holders of a `GROUP_ACTIVITY` consent. Not the care team by default:
    /// what a patient does in a support group is theirs to disclose.
    GroupActivity,
}

impl Need {
    /// What a caller refused for this need lacks, for `FORBIDDEN` messages.
    pub fn missing(self) -> &'static str {
        match self {
            Need::Identity => "no relationship to this patient",
            Need::CareTeam => "not on this patient's care team",
            Need::Read(ConsentCategory::Taper) => {
                "not on the care team and no TAPER consent from this patient"
            }
            Need::Read(ConsentCategory::Symptoms) => {
                "not on the care team and no SYMPTOMS consent from this patient"
            }
            Need::Read(ConsentCategory::CheckIns) => {
                "not on the care team and no CHECK_INS consent from this patient"
            }
            Need::Read(ConsentCategory::GroupActivity) => {
                "not on the care team and no GROUP_ACTIVITY consent from this patient"
            }
            Need::Read(ConsentCategory::Appointments) => {
                "not on the care team and no APPOINTMENTS consent from this patient"
            }
            Need::Read(ConsentCategory::CarePlan) => {
                "not on the care team and no CARE_PLAN consent from this patient"
            }
            Need::CareRecord => {
                "the patient and their care team only (a consent does not cover it)"
            }
            Need::ClinicalWrite | Need::ClinicalNotes => {
                "not a clinician on this patient's care team"
            }
            Need::ActAsPatient => "only the patient may do this",
            Need::Administer => "not an admin of this patient's organization",
            Need::ReadEnrollment | Need::ManageEnrollment => {
                "not on this patient's care team nor an admin"
            }
            Need::EditCarePlan => "only the patient or their care team edit the care plan",
            Need::GroupActivity => "no GROUP_ACTIVITY consent from this patient",
        }
    }
}

impl Relationship {
    pub fn allows(&self, need: Need) -> bool {
        match need {
            Need::Identity => {
                self.own || self.care_team || self.admin || !self.consented.is_empty()
            }
            Need::CareTeam => self.own || self.care_team || self.admin,
            Need::Read(category) => {
                self.own || self.care_team || self.consented.contains(&category)
            }
            Need::CareRecord => self.own || self.care_team,
            Need::ClinicalWrite => self.care_team,
            Need::ActAsPatient => self.own,
            Need::Administer => self.admin,
            Need::ClinicalNotes => self.care_team,
            Need::ReadEnrollment => self.own || self.care_team || self.admin,
            Need::ManageEnrollment => self.care_team || self.admin,
            Need::EditCarePlan => self.own || self.care_team,
            Need::GroupActivity => {
                self.own || self.consented.contains(&ConsentCategory::GroupActivity)
            }
        }
    }

    /// True when the caller may at least know the record exists.
    pub fn sees(&self) -> bool {
        self.allows(Need::Identity)
    }
}

/// Works out how `principal` stands to `patient` (same organization only).
pub async fn relationship(
    db: &impl ConnectionTrait,
    principal: &Principal,
    patient: &patients::Model,
) -> ApiResult<Relationship> {
    if patient.organization_id != principal.organization_id {
        return Ok(Relationship::default());
    }
    let on_team = principal.has_role(Role::Clinician)
        && care_team_members::Entity::find()
            .filter(care_team_members::Column::PatientId.eq(patient.id))
            .filter(care_team_members::Column::ClinicianUserId.eq(principal.user_id))
            .one(db)
            .await?
            .is_some();
    let consented: Vec<ConsentCategory> = consents::Entity::find()
        .filter(consents::Column::PatientId.eq(patient.id))
        .filter(consents::Column::GranteeUserId.eq(principal.user_id))
        .filter(consents::Column::RevokedAt.is_null())
        .filter(consents::Column::ExpiresAt.gt(Utc::now()))
        .all(db)
        .await?
        .iter()
        .flat_map(|c| ConsentCategory::decode(&c.categories))
        .collect();
    Ok(standing(principal, patient, on_team, consented))
}

/// How `principal` stands to `patient`, from facts read about them: whether
/// the caller is on its care team, and the categories of the caller's live
/// consents from it. The one place those facts become a `Relationship`
/// (an API key receives only the categories its scopes cover).
pub fn standing(
    principal: &Principal,
    patient: &patients::Model,
    on_team: bool,
    consented: impl IntoIterator<Item = ConsentCategory>,
) -> Relationship {
    if patient.organization_id != principal.organization_id {
        return Relationship::default();
    }
    Relationship {
        own: patient.user_id == principal.user_id,
        care_team: principal.has_role(Role::Clinician) && on_team,
        admin: principal.has_role(Role::Admin),
        consented: consented
            .into_iter()
            .filter(|c| principal.receives(*c))
            .collect(),
    }
}

/// `FORBIDDEN` unless the caller holds one of `roles` (checked before any
/// record is looked at: the role can never perform the operation).
pub fn require_role(principal: &Principal, roles: &[Role]) -> ApiResult<()> {
    if roles.iter().any(|r| principal.has_role(*r)) {
        Ok(())
    } else {
        let names: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
        Err(ApiError::forbidden(format!(
            "requires the role {}",
            names.join(" or ")
        )))
    }
}

/// How `principal` stands to each of `patients` (already known to be in
/// their organization or not), in two queries whatever their number.
pub async fn relationships(
    db: &impl ConnectionTrait,
    principal: &Principal,
    patients: &[patients::Model],
) -> ApiResult<HashMap<Uuid, Relationship>> {
    let ids: Vec<Uuid> = patients
        .iter()
        .filter(|p| p.organization_id == principal.organization_id)
        .map(|p| p.id)
        .collect();
    let on_team: HashSet<Uuid> = if principal.has_role(Role::Clinician) {
        care_teams(db, &ids)
            .await?
            .into_iter()
            .filter(|(_, clinician)| *clinician == principal.user_id)
            .map(|(patient, _)| patient)
            .collect()
    } else {
        HashSet::new()
    };
    let mut consented: HashMap<Uuid, BTreeSet<ConsentCategory>> = HashMap::new();
    if !ids.is_empty() {
        for consent in consents::Entity::find()
            .filter(consents::Column::PatientId.is_in(ids.iter().copied()))
            .filter(consents::Column::GranteeUserId.eq(principal.user_id))
            .filter(consents::Column::RevokedAt.is_null())
            .filter(consents::Column::ExpiresAt.gt(Utc::now()))
            .all(db)
            .await?
        {
            consented
                .entry(consent.patient_id)
                .or_default()
                .extend(ConsentCategory::decode(&consent.categories));
        }
    }
    Ok(patients
        .iter()
        .map(|patient| {
            let relationship = standing(
                principal,
                patient,
                on_team.contains(&patient.id),
                consented.remove(&patient.id).unwrap_or_default(),
            );
            (patient.id, relationship)
        })
        .collect())
}

/// The SQL condition on `patients` for the records whose identity the caller
/// may see: their own, their care team's, those who consented to them, and
/// for admins their whole organization. Always within their organization.
pub fn visible_patients(principal: &Principal) -> Condition {
    let in_org = patients::Column::OrganizationId.eq(principal.organization_id);
    if principal.has_role(Role::Admin) {
        return Condition::all().add(in_org);
    }
    if let Some(key) = &principal.api_key {
        // A system sees the patients who consented to it in a category its
        // scopes cover; with none, nobody (a primary key is never null).
        let mut any = Condition::any().add(patients::Column::Id.is_null());
        for scope in &key.scopes {
            for category in scope.categories() {
                any = any.add(
                    patients::Column::Id
                        .in_subquery(consented_patients(principal.user_id, Some(*category))),
                );
            }
        }
        return Condition::all().add(in_org).add(any);
    }
    let mut any = Condition::any().add(patients::Column::UserId.eq(principal.user_id));
    if principal.has_role(Role::Clinician) {
        any = any.add(
            patients::Column::Id.in_subquery(
                Query::select()
                    .column(care_team_members::Column::PatientId)
                    .from(care_team_members::Entity)
                    .and_where(
                        Expr::col(care_team_members::Column::ClinicianUserId).eq(principal.user_id),
                    )
                    .to_owned(),
            ),
        );
    }
    any = any.add(patients::Column::Id.in_subquery(consented_patients(principal.user_id, None)));
    Condition::all().add(in_org).add(any)
}

/// Patients who currently consent to disclose to `grantee` (one category, or
/// any), as a subquery of patient ids.
pub fn consented_patients(
    grantee: Uuid,
    category: Option<ConsentCategory>,
) -> sea_orm::sea_query::SelectStatement {
    let mut query = Query::select();
    query
        .column(consents::Column::PatientId)
        .from(consents::Entity)
        .and_where(Expr::col(consents::Column::GranteeUserId).eq(grantee))
        .and_where(Expr::col(consents::Column::RevokedAt).is_null())
        .and_where(Expr::col(consents::Column::ExpiresAt).gt(Utc::now()));
    if let Some(category) = category {
        query.and_where(
            Expr::col(consents::Column::Categories).like(format!("%{}%", category.as_str())),
        );
    }
    query.to_owned()
}

/// Care-team clinicians' user ids for a set of patients, in one query.
pub async fn care_teams(
    db: &impl ConnectionTrait,
    patient_ids: &[Uuid],
) -> ApiResult<Vec<(Uuid, Uuid)>> {
    if patient_ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<(Uuid, Uuid)> = care_team_members::Entity::find()
        .select_only()
        .column(care_team_members::Column::PatientId)
        .column(care_team_members::Column::ClinicianUserId)
        .filter(care_team_members::Column::PatientId.is_in(patient_ids.iter().copied()))
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rel(own: bool, care_team: bool, admin: bool, consented: &[ConsentCategory]) -> Relationship {
        Relationship {
            own,
            care_team,
            admin,
            consented: consented.iter().copied().collect(),
        }
    }

    #[test]
    fn the_policy_table() {
        use ConsentCategory::*;
        let none = rel(false, false, false, &[]);
        let own = rel(true, false, false, &[]);
        let team = rel(false, true, false, &[]);
        let admin = rel(false, false, true, &[]);
        let taper_consent = rel(false, false, false, &[Taper]);

        let cases = [
            // (relationship, need, allowed)
            (&none, Need::Identity, false),
            (&none, Need::Read(Taper), false),
            (&own, Need::Identity, true),
            (&own, Need::Read(Symptoms), true),
            (&own, Need::ActAsPatient, true),
            (&own, Need::ClinicalWrite, false),
            (&team, Need::Read(CheckIns), true),
            (&team, Need::ClinicalWrite, true),
            (&team, Need::ActAsPatient, false),
            (&admin, Need::Identity, true),
            (&admin, Need::CareTeam, true),
            (&admin, Need::Read(Taper), false),
            (&admin, Need::Administer, true),
            (&taper_consent, Need::Identity, true),
            (&taper_consent, Need::Read(Taper), true),
            (&taper_consent, Need::Read(Symptoms), false),
            (&taper_consent, Need::CareTeam, false),
            (&taper_consent, Need::ClinicalWrite, false),
            (&taper_consent, Need::CareRecord, false),
            (&own, Need::CareRecord, true),
            (&team, Need::CareRecord, true),
            (&admin, Need::CareRecord, false),
            // Clinical notes: the care team's alone.
            (&team, Need::ClinicalNotes, true),
            (&own, Need::ClinicalNotes, false),
            (&admin, Need::ClinicalNotes, false),
            (&taper_consent, Need::ClinicalNotes, false),
            (
                &rel(false, false, false, &[Appointments, CarePlan]),
                Need::ClinicalNotes,
                false,
            ),
            // Enrollments: seen by the patient, team and admins; managed by
            // the team and admins.
            (&own, Need::ReadEnrollment, true),
            (&team, Need::ReadEnrollment, true),
            (&admin, Need::ReadEnrollment, true),
            (&taper_consent, Need::ReadEnrollment, false),
            (&own, Need::ManageEnrollment, false),
            (&team, Need::ManageEnrollment, true),
            (&admin, Need::ManageEnrollment, true),
            // The recovery plan: edited by the patient and team, read by
            // CARE_PLAN consent holders too.
            (&own, Need::EditCarePlan, true),
            (&team, Need::EditCarePlan, true),
            (&admin, Need::EditCarePlan, false),
            (
                &rel(false, false, false, &[CarePlan]),
                Need::EditCarePlan,
                false,
            ),
            (
                &rel(false, false, false, &[CarePlan]),
                Need::Read(CarePlan),
                true,
            ),
            (
                &rel(false, false, false, &[Appointments]),
                Need::Read(Appointments),
                true,
            ),
            (
                &rel(false, false, false, &[Appointments]),
                Need::Read(CarePlan),
                false,
            ),
            (&admin, Need::Read(Appointments), false),
            // Group activity: the patient's to disclose, even to the team.
            (&own, Need::GroupActivity, true),
            (&team, Need::GroupActivity, false),
            (&admin, Need::GroupActivity, false),
            (&taper_consent, Need::GroupActivity, false),
            (
                &rel(false, false, false, &[GroupActivity]),
                Need::GroupActivity,
                true,
            ),
        ];
        for (relationship, need, allowed) in cases {
            assert_eq!(
                relationship.allows(need),
                allowed,
                "{relationship:?} {need:?}"
            );
        }
    }
}
