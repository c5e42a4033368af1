//! The GraphQL schema: root types merged from each domain, the limits that
//! bound what one request may cost, and what resolvers reach via `Context`.

pub mod guard;
pub mod limits;
pub mod outcome;
pub mod pagination;
pub mod scalars;

use std::time::Duration;

use async_graphql::{
    Context, MergedObject, MergedSubscription, Schema, Subscription, futures_util::Stream,
};
use chrono::{DateTime, Utc};

use crate::{
    AppContext, accounts, audit, auth, caller::ContextExt, care, education, error::ApiError,
    groups, integrations, monitoring, patients, tapering,
};

#[derive(MergedObject, Default)]
pub struct Query(
    accounts::AccountsQueries,
    patients::PatientsQueries,
    audit::AuditQueries,
    tapering::TaperingQueries,
    monitoring::MonitoringQueries,
    crate::notifications::NotificationsQueries,
    groups::GroupsQueries,
    care::CareQueries,
    education::EducationQueries,
    integrations::IntegrationsQueries,
);

#[derive(MergedObject, Default)]
pub struct Mutation(
    auth::AuthMutations,
    accounts::AccountsMutations,
    patients::PatientsMutations,
    tapering::TaperingMutations,
    monitoring::MonitoringMutations,
    crate::notifications::NotificationsMutations,
    groups::GroupsMutations,
    care::CareMutations,
    education::EducationMutations,
    integrations::IntegrationsMutations,
);

#[derive(MergedSubscription, Default)]
pub struct Subscription(
    SystemSubscription,
    monitoring::MonitoringSubscriptions,
    crate::notifications::NotificationsSubscriptions,
    groups::GroupsSubscriptions,
);

pub type StepdownSchema = Schema<Query, Mutation, Subscription>;

/// Builds the schema with the configured limits. The SDL does not depend on
/// configuration, so `export-schema` can build it without a database.
pub fn build_schema(app: AppContext) -> StepdownSchema {
    let limits = &app.config.limits;
    let mut builder = Schema::build(
        Query::default(),
        Mutation::default(),
        Subscription::default(),
    )
    .limit_depth(limits.max_depth)
    .limit_complexity(limits.max_complexity)
    .limit_recursive_depth(64)
    .limit_directives(20)
    .extension(outcome::OutcomeExtension)
    .extension(crate::audit::operation::AuditExtension)
    .extension(crate::sockets::SocketExtension);
    if !app.config.introspection {
        builder = builder.disable_introspection().disable_suggestions();
    }
    builder.data(app).finish()
}

/// Transport-level subscriptions (no patient data).
#[derive(Default)]
pub struct SystemSubscription;

#[Subscription]
impl SystemSubscription {
    /// The server's clock every `intervalSeconds` (1–300, default 30): proves
    /// the WebSocket transport end to end and keeps idle proxies open.
    /// Signed-in callers only, like every socket.
    async fn heartbeat(
        &self,
        ctx: &Context<'_>,
        interval_seconds: Option<i32>,
    ) -> async_graphql::Result<impl Stream<Item = DateTime<Utc>> + use<>> {
        ctx.principal().await?;
        let seconds = interval_seconds.unwrap_or(30);
        if !(1..=300).contains(&seconds) {
            return Err(ApiError::bad_input(
                "intervalSeconds",
                "intervalSeconds must be from 1 to 300",
            )
            .into());
        }
        let period = Duration::from_secs(seconds as u64);
        Ok(async_graphql::futures_util::stream::unfold(
            tokio::time::interval_at(tokio::time::Instant::now() + period, period),
            |mut interval| async move {
                interval.tick().await;
                Some((Utc::now(), interval))
            },
        ))
    }
}

/// The SDL clients generate code from (`api/schema.graphql`).
pub fn export_sdl() -> String {
    Schema::build(
        Query::default(),
        Mutation::default(),
        Subscription::default(),
    )
    .finish()
    .sdl()
}

#[cfg(test)]
mod tests {
    /// `api/schema.graphql` is the published contract: it must be exactly
    /// what the code exports. Regenerate with
    /// `cargo run -q -- export-schema > api/schema.graphql`.
    #[test]
    fn the_committed_schema_file_matches_the_code() {
        let committed = include_str!("../../schema.graphql");
        assert!(
            committed == super::export_sdl(),
            "api/schema.graphql is stale: run `cargo run -q -- export-schema > api/schema.graphql`"
        );
    }
}
