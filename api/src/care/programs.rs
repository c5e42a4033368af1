//! GraphQL surface of treatment programs: the organization's catalogue
//! (`programs`, any signed-in user) and `createProgram` (admins).

use async_graphql::{Context, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use entity::programs;

use super::{
    booking::AppointmentKind,
    phases::{self, ProgramModality},
    program_store::{self, NewProgram},
    validation as care_validation,
};
use crate::{
    audit::{Action, Kind},
    auth::Role,
    caller::{Caller, ContextExt},
    error::{ApiError, ApiResult},
    validation,
};

pub(super) const PROGRAM: Kind = Kind::new("Program", "program");
const CREATE: Action = PROGRAM.action("program.create");

/// A treatment program of the organization.
pub struct Program(pub programs::Model);

#[Object]
impl Program {
    async fn id(&self) -> Uuid {
        self.0.id
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn modality(&self) -> async_graphql::Result<ProgramModality> {
        Ok(ProgramModality::from_row(&self.0.modality)?)
    }
    /// From 1 to 104.
    async fn duration_weeks(&self) -> i32 {
        self.0.duration_weeks
    }
    async fn description(&self) -> &str {
        &self.0.description
    }
    /// The kinds of session the program includes (CBT, DBT, family
    /// therapy, group counselling, medical, pain care…).
    async fn therapy_kinds(&self) -> Vec<AppointmentKind> {
        program_store::therapy_kinds(&self.0)
    }
    /// Group sessions a participant is expected to attend each week.
    async fn group_sessions_per_week(&self) -> Option<i32> {
        self.0.group_sessions_per_week
    }
    /// How often the care team follows up, in days.
    async fn follow_up_every_days(&self) -> Option<i32> {
        self.0.follow_up_every_days
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

#[derive(InputObject)]
pub struct CreateProgramInput {
    /// Unique within the organization; 1–200 characters.
    pub name: String,
    pub modality: ProgramModality,
    /// From 1 to 104.
    pub duration_weeks: i32,
    pub description: String,
    /// The kinds of session the program includes.
    pub therapy_kinds: Option<Vec<AppointmentKind>>,
    /// Group sessions expected per week (0–21).
    pub group_sessions_per_week: Option<i32>,
    /// Follow-up cadence in days (1–365).
    pub follow_up_every_days: Option<i32>,
}

#[derive(SimpleObject)]
pub struct CreateProgramPayload {
    pub program: Program,
}

#[derive(Default)]
pub struct ProgramsQuery;

#[Object]
impl ProgramsQuery {
    /// The organization's treatment programs, by name (any signed-in user).
    async fn programs(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Program>> {
        let caller = ctx.caller().await?;
        let rows = program_store::programs_of(caller.db(), caller.organization_id()).await?;
        Ok(rows.into_iter().map(Program).collect())
    }
}

#[derive(Default)]
pub struct ProgramsMutation;

#[Object]
impl ProgramsMutation {
    /// An admin creates a treatment program for the organization.
    async fn create_program(
        &self,
        ctx: &Context<'_>,
        input: CreateProgramInput,
    ) -> async_graphql::Result<CreateProgramPayload> {
        let caller = ctx.caller().await?;
        Ok(CreateProgramPayload {
            program: Program(create(&caller, input).await?),
        })
    }
}

async fn create(caller: &Caller, input: CreateProgramInput) -> ApiResult<programs::Model> {
    caller.require(&[Role::Admin], CREATE)?;
    let name = validation::text("name", &input.name, care_validation::PROGRAM_NAME_MAX)?;
    if !phases::DURATION_WEEKS.contains(&input.duration_weeks) {
        return Err(ApiError::bad_input(
            "durationWeeks",
            "durationWeeks must be from 1 to 104",
        ));
    }
    let description = care_validation::description(&input.description)?;
    let group_sessions_per_week = validation::optional_in_range(
        "groupSessionsPerWeek",
        input.group_sessions_per_week,
        care_validation::GROUP_SESSIONS_PER_WEEK,
    )?;
    let follow_up_every_days = validation::optional_in_range(
        "followUpEveryDays",
        input.follow_up_every_days,
        care_validation::FOLLOW_UP_EVERY_DAYS,
    )?;
    let new = NewProgram {
        name,
        modality: input.modality,
        duration_weeks: input.duration_weeks,
        description,
        therapy_kinds: input.therapy_kinds.unwrap_or_default(),
        group_sessions_per_week,
        follow_up_every_days,
    };
    program_store::create(caller, &new, caller.event(CREATE)).await
}
