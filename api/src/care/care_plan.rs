//! GraphQL surface of the recovery plan the patient owns: the patient or the
//! care team replace its content (`updateCarePlan`), and `Patient.carePlan`
//! and `Patient.carePlanHistory` read it (`CARE_PLAN` consent holders too,
//! who are not told which clinician made an edit).

use async_graphql::{Context, InputObject, Object, SimpleObject, connection::Connection};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use entity::patients;

use super::{
    care_plan_store::{self, Content},
    validation::plan_list,
};
use crate::{
    accounts::User,
    audit::{Action, Kind},
    auth::Role,
    authz::{Need, Relationship},
    caller::{Caller, ContextExt},
    error::{ApiError, ApiResult},
    graphql::pagination,
    patients::Patient,
};

const CARE_PLAN: Kind = Kind::new("CarePlan", "care plan");
const UPDATE: Action = CARE_PLAN.action("carePlan.update");

/// The patient's recovery plan. A patient without one yet has an empty plan
/// (version 0, `updatedAt` null).
pub struct CarePlan {
    pub content: Content,
    pub version: i32,
    pub updated_at: Option<DateTime<Utc>>,
    /// The last editor, when the viewer may know them.
    pub updated_by: Option<Uuid>,
}

/// Who edited a recovery plan, as `viewer` may know it: the patient
/// themselves always; a care-team member only to those who may see the care
/// team (consent holders are not told who treats the patient).
fn disclosed_editor(
    editor: Uuid,
    patient: &patients::Model,
    viewer: &Relationship,
) -> Option<Uuid> {
    (editor == patient.user_id || viewer.allows(Need::CareTeam)).then_some(editor)
}

impl CarePlan {
    fn of(
        plan: Option<entity::care_plans::Model>,
        patient: &patients::Model,
        viewer: &Relationship,
    ) -> ApiResult<Self> {
        match plan {
            None => Ok(Self {
                content: Content::default(),
                version: 0,
                updated_at: None,
                updated_by: None,
            }),
            Some(plan) => Ok(Self {
                content: Content::of_plan(&plan)?,
                version: plan.version,
                updated_at: Some(plan.updated_at),
                updated_by: disclosed_editor(plan.updated_by_user_id, patient, viewer),
            }),
        }
    }
}

#[Object]
impl CarePlan {
    async fn triggers(&self) -> &[String] {
        &self.content.triggers
    }
    async fn coping_strategies(&self) -> &[String] {
        &self.content.coping_strategies
    }
    async fn warning_signs(&self) -> &[String] {
        &self.content.warning_signs
    }
    /// People to call (names, numbers), in the patient's words.
    async fn support_contacts(&self) -> &[String] {
        &self.content.support_contacts
    }
    async fn updated_at(&self) -> Option<DateTime<Utc>> {
        self.updated_at
    }
    /// Who made the last edit: null before the first, and for consent
    /// holders when it was the care team.
    async fn updated_by(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<User>> {
        match self.updated_by {
            Some(id) => Ok(Some(User::by_id(ctx, id).await?)),
            None => Ok(None),
        }
    }
    /// Counts edits; pass it back as `expectedVersion` to detect an edit
    /// made elsewhere meanwhile.
    async fn version(&self) -> i32 {
        self.version
    }
}

/// The full plan as one edit left it.
pub struct CarePlanRevision {
    pub content: Content,
    pub model: entity::care_plan_revisions::Model,
    /// The editor, when the viewer may know them.
    pub edited_by: Option<Uuid>,
}

#[Object]
impl CarePlanRevision {
    async fn version(&self) -> i32 {
        self.model.version
    }
    async fn triggers(&self) -> &[String] {
        &self.content.triggers
    }
    async fn coping_strategies(&self) -> &[String] {
        &self.content.coping_strategies
    }
    async fn warning_signs(&self) -> &[String] {
        &self.content.warning_signs
    }
    async fn support_contacts(&self) -> &[String] {
        &self.content.support_contacts
    }
    /// Who made the edit; null for consent holders when it was the care
    /// team.
    async fn edited_by(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<User>> {
        match self.edited_by {
            Some(id) => Ok(Some(User::by_id(ctx, id).await?)),
            None => Ok(None),
        }
    }
    async fn edited_at(&self) -> DateTime<Utc> {
        self.model.edited_at
    }
}

#[derive(InputObject)]
pub struct UpdateCarePlanInput {
    pub patient_id: Uuid,
    /// Each list: at most 50 items of 1–500 characters, in the order given.
    pub triggers: Vec<String>,
    pub coping_strategies: Vec<String>,
    pub warning_signs: Vec<String>,
    pub support_contacts: Vec<String>,
    /// The `version` the edit started from: `CONFLICT` if the plan has
    /// changed since. Not given: the edit replaces whatever is there.
    pub expected_version: Option<i32>,
}

#[derive(SimpleObject)]
pub struct UpdateCarePlanPayload {
    pub care_plan: CarePlan,
}

#[derive(Default)]
pub struct CarePlanMutation;

#[Object]
impl CarePlanMutation {
    /// The patient or the care team replace the recovery plan's content;
    /// the previous content stays in its history.
    async fn update_care_plan(
        &self,
        ctx: &Context<'_>,
        input: UpdateCarePlanInput,
    ) -> async_graphql::Result<UpdateCarePlanPayload> {
        let caller = ctx.caller().await?;
        Ok(UpdateCarePlanPayload {
            care_plan: update(&caller, input).await?,
        })
    }
}

async fn update(caller: &Caller, input: UpdateCarePlanInput) -> ApiResult<CarePlan> {
    caller.require(&[Role::Patient, Role::Clinician], UPDATE)?;
    let access = caller
        .patient(input.patient_id, Need::EditCarePlan, UPDATE)
        .await?;
    let content = Content {
        triggers: plan_list("triggers", &input.triggers)?,
        coping_strategies: plan_list("copingStrategies", &input.coping_strategies)?,
        warning_signs: plan_list("warningSigns", &input.warning_signs)?,
        support_contacts: plan_list("supportContacts", &input.support_contacts)?,
    };
    if input.expected_version.is_some_and(|v| v < 0) {
        return Err(ApiError::bad_input(
            "expectedVersion",
            "expectedVersion is a version this plan has had",
        ));
    }
    let plan =
        care_plan_store::save(caller, &access.patient, &content, input.expected_version).await?;
    CarePlan::of(Some(plan), &access.patient, &access.relationship)
}

/// `Patient.carePlan`, once the `Patient` type has checked (and audited)
/// that the viewer may read it.
pub async fn of_patient(ctx: &Context<'_>, patient: &Patient) -> ApiResult<CarePlan> {
    CarePlan::of(
        care_plan_store::current(ctx.db()?, patient.model.id).await?,
        &patient.model,
        &patient.relationship,
    )
}

/// `Patient.carePlanHistory`: one page of revisions, newest first.
pub async fn history_of_patient(
    ctx: &Context<'_>,
    patient: &Patient,
    first: Option<i32>,
    after: Option<String>,
) -> ApiResult<Connection<String, CarePlanRevision>> {
    let page = pagination::page(
        first,
        after.as_deref(),
        ctx.app().config.limits.max_page_size,
    )?;
    let rows = care_plan_store::revisions(ctx.db()?, patient.model.id, page).await?;
    let items = rows
        .into_iter()
        .map(|model| {
            let revision = CarePlanRevision {
                content: Content::of_revision(&model)?,
                edited_by: disclosed_editor(
                    model.edited_by_user_id,
                    &patient.model,
                    &patient.relationship,
                ),
                model,
            };
            Ok((revision.model.id, revision))
        })
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(pagination::connection(items, page))
}
