//! The `Caller`: who is asking, in one GraphQL operation (an HTTP request,
//! or one operation on a WebSocket), with what every work function needs —
//! the database, the principal, the request id, the loaders, and the
//! operation's audit buffer.
//!
//! It is the one place that asks the policy and records the answer:
//! `require` (a role check), `patient` (a patient's record), `child` (a row
//! that belongs to a patient), `own_patient`, and `group`/`in_group`. Work
//! functions take `&Caller`, not async-graphql's `Context`, so they can be
//! tested without GraphQL. Resolvers get one with `ctx.caller().await?`.

use std::{net::IpAddr, sync::Arc};

use async_graphql::Context;
use sea_orm::{
    ColumnTrait, DatabaseConnection, DatabaseTransaction, EntityTrait, QueryFilter,
    TransactionTrait,
};
use uuid::Uuid;

use entity::{patients, support_groups};

use crate::{
    AppContext,
    audit::{Action, AuditBuffer, AuditEvent, PATIENT},
    auth::{Principal, RequestContext, Role},
    authz::{
        self, Need, Relationship,
        groups::{GroupNeed, Standing},
    },
    error::{ApiError, ApiResult},
    loaders::Loaders,
    notifications::{LiveEvent, NotificationHub},
};

/// A patient's record the caller was allowed to reach, and how they stand
/// to it.
#[derive(Debug, Clone)]
pub struct PatientAccess {
    pub patient: patients::Model,
    pub relationship: Relationship,
}

/// A group the caller was allowed to reach, and how they stand in it.
#[derive(Debug, Clone)]
pub struct GroupAccess {
    pub group: support_groups::Model,
    pub standing: Standing,
}

/// The signed-in caller of one operation. Cheap to clone.
#[derive(Clone)]
pub struct Caller {
    app: AppContext,
    db: DatabaseConnection,
    principal: Principal,
    request_id: Arc<str>,
    correlation_id: Option<Arc<str>>,
    loaders: Arc<Loaders>,
    audit: AuditBuffer,
}

impl Caller {
    /// A caller outside GraphQL (tests, jobs): its own loaders and buffer.
    pub fn new(app: AppContext, principal: Principal, request_id: &str) -> ApiResult<Self> {
        let db = app.db.conn()?.clone();
        let loaders = Arc::new(Loaders::new(&app.db));
        Ok(Self {
            app,
            db,
            principal,
            request_id: request_id.into(),
            correlation_id: None,
            loaders,
            audit: AuditBuffer::default(),
        })
    }

    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    pub fn app(&self) -> &AppContext {
        &self.app
    }

    pub fn principal(&self) -> &Principal {
        &self.principal
    }

    pub fn user_id(&self) -> Uuid {
        self.principal.user_id
    }

    pub fn organization_id(&self) -> Uuid {
        self.principal.organization_id
    }

    pub fn has_role(&self, role: Role) -> bool {
        self.principal.has_role(role)
    }

    pub fn request_id(&self) -> &str {
        &self.request_id
    }

    /// The request ids the audit trail records.
    pub fn trace(&self) -> crate::audit::Trace<'_> {
        crate::audit::Trace::new(&self.request_id, self.correlation_id.as_deref())
    }

    pub fn loaders(&self) -> &Loaders {
        &self.loaders
    }

    pub fn hub(&self) -> &NotificationHub {
        &self.app.hub
    }

    /// Delivers live events (after the write that made them committed).
    pub async fn publish(&self, events: Vec<LiveEvent>) {
        self.app.hub.publish(events).await;
    }

    // ----- audit -----

    /// An allowed event by this caller; name the record with its builders
    /// and hand it to `record`.
    pub fn event(&self, action: Action) -> AuditEvent {
        AuditEvent::new(&self.principal, action)
    }

    /// Adds an event to this operation's trail: written with the
    /// operation's transaction (`commit`) or before its response leaves.
    pub fn record(&self, event: AuditEvent) {
        self.audit.push(event);
    }

    pub fn record_all(&self, events: impl IntoIterator<Item = AuditEvent>) {
        self.audit.extend(events);
    }

    /// The events not yet written.
    pub fn pending_audit(&self) -> Vec<AuditEvent> {
        self.audit.pending()
    }

    /// Starts a write transaction.
    pub async fn begin(&self) -> ApiResult<DatabaseTransaction> {
        Ok(self.db.begin().await?)
    }

    /// Writes the pending audit events in `txn` (one statement) and commits,
    /// so a write and its record land together. If either fails the events
    /// stay pending and are written when the operation ends.
    pub async fn commit(&self, txn: DatabaseTransaction) -> ApiResult<()> {
        let events = self.audit.take();
        let written = async {
            crate::audit::record_traced(&txn, self.trace(), events.iter().cloned()).await?;
            txn.commit().await?;
            ApiResult::Ok(())
        }
        .await;
        if written.is_err() {
            self.audit.restore(events);
        }
        written
    }

    /// Writes the pending events now (outside GraphQL, where no extension
    /// writes them at the end).
    pub async fn flush_audit(&self) -> ApiResult<()> {
        self.audit.write(&self.db, self.trace()).await
    }

    // ----- policy -----

    /// `FORBIDDEN` unless the caller holds one of `roles`: the operation is
    /// one their role can never perform. A refusal is recorded (in the
    /// caller's organization, naming no record).
    pub fn require(&self, roles: &[Role], action: Action) -> ApiResult<()> {
        let allowed = authz::require_role(&self.principal, roles);
        if allowed.is_err() {
            self.record(self.event(action).denied());
        }
        allowed
    }

    /// Loads a patient's record and checks `need`, recording the decision.
    /// A patient the caller may not see, or may see but not for `need`, is
    /// `NOT_FOUND`, so the answer never reveals more than the caller knows.
    pub async fn patient(&self, id: Uuid, need: Need, action: Action) -> ApiResult<PatientAccess> {
        let Some(patient) = self.patient_in_organization(id).await? else {
            // Unknown, or another organization's: logged without a patient.
            self.record(self.event(action).kind(PATIENT).resource(id).denied());
            return Err(ApiError::NotFound(PATIENT.noun));
        };
        self.decide(patient, |r| r.allows(need), action).await
    }

    /// As `patient`, for a check no single `Need` expresses (`allows` on
    /// how the caller stands to the record): one row, the decision's.
    pub async fn patient_where(
        &self,
        id: Uuid,
        allows: impl FnOnce(&Relationship) -> bool,
        action: Action,
    ) -> ApiResult<PatientAccess> {
        let Some(patient) = self.patient_in_organization(id).await? else {
            self.record(self.event(action).kind(PATIENT).resource(id).denied());
            return Err(ApiError::NotFound(PATIENT.noun));
        };
        self.decide(patient, allows, action).await
    }

    /// A patient's record, if it is in the caller's organization.
    async fn patient_in_organization(&self, id: Uuid) -> ApiResult<Option<patients::Model>> {
        Ok(patients::Entity::find_by_id(id)
            .one(&self.db)
            .await?
            .filter(|p| p.organization_id == self.principal.organization_id))
    }

    /// Checks `need` on a patient of the caller's organization, recording
    /// the decision.
    async fn decide(
        &self,
        patient: patients::Model,
        allows: impl FnOnce(&Relationship) -> bool,
        action: Action,
    ) -> ApiResult<PatientAccess> {
        let relationship = authz::policy::relationship(&self.db, &self.principal, &patient).await?;
        let allowed = allows(&relationship);
        self.record(
            self.event(action)
                .kind(PATIENT)
                .resource(patient.id)
                .patient(patient.id)
                .allowed(allowed),
        );
        if allowed {
            Ok(PatientAccess {
                patient,
                relationship,
            })
        } else {
            Err(ApiError::NotFound(PATIENT.noun))
        }
    }

    /// Authorizes a row that belongs to a patient (`row` as loaded, `id` as
    /// asked for): `NOT_FOUND` naming the row's kind when it does not exist
    /// or its patient is out of reach for `need`, and the decision recorded.
    pub async fn child<T>(
        &self,
        id: Uuid,
        row: Option<T>,
        patient_of: impl FnOnce(&T) -> Uuid,
        need: Need,
        action: Action,
    ) -> ApiResult<(T, PatientAccess)> {
        let Some(row) = row else {
            self.record(self.event(action).resource(id).denied());
            return Err(ApiError::NotFound(action.kind.noun));
        };
        let Some(patient) = self.patient_in_organization(patient_of(&row)).await? else {
            // Another organization's row: logged in the caller's, naming
            // only the id asked for, never its patient.
            self.record(self.event(action).resource(id).denied());
            return Err(ApiError::NotFound(action.kind.noun));
        };
        match self.decide(patient, |r| r.allows(need), action).await {
            Ok(access) => Ok((row, access)),
            Err(ApiError::NotFound(_)) => Err(ApiError::NotFound(action.kind.noun)),
            Err(other) => Err(other),
        }
    }

    /// The caller's own patient record, or `FORBIDDEN` (recorded) for
    /// anyone who is not a patient: only patients act as themselves.
    pub async fn own_patient(&self, action: Action) -> ApiResult<patients::Model> {
        let patient = if self.principal.has_role(Role::Patient) {
            patients::Entity::find()
                .filter(patients::Column::UserId.eq(self.principal.user_id))
                .one(&self.db)
                .await?
        } else {
            None
        };
        match patient {
            Some(patient) => Ok(patient),
            None => {
                self.record(self.event(action).denied());
                Err(ApiError::forbidden(
                    "only a patient acts on their own record",
                ))
            }
        }
    }

    /// Loads a group and checks `need` (recorded either way): a group the
    /// caller may not see is `NOT_FOUND`; a visible group whose `need` they
    /// lack is `FORBIDDEN`.
    pub async fn group(&self, id: Uuid, need: GroupNeed, action: Action) -> ApiResult<GroupAccess> {
        self.in_group(id, GroupNeed::See, need, action).await
    }

    /// As `group`, for a record inside a group (a post, a meeting) that only
    /// callers with `visible` may know exists: without it, `NOT_FOUND`.
    pub async fn in_group(
        &self,
        id: Uuid,
        visible: GroupNeed,
        need: GroupNeed,
        action: Action,
    ) -> ApiResult<GroupAccess> {
        let group = support_groups::Entity::find_by_id(id)
            .one(&self.db)
            .await?
            .filter(|g| g.organization_id == self.principal.organization_id);
        let event = self.event(action).kind(authz::groups::GROUP).resource(id);
        let Some(group) = group else {
            self.record(event.denied());
            return Err(ApiError::NotFound(authz::groups::GROUP.noun));
        };
        let membership =
            authz::groups::memberships_of(&self.db, self.principal.user_id, &[group.id])
                .await?
                .remove(&group.id);
        let standing = authz::groups::standing(&self.principal, &group, membership);
        let allowed = standing.allows(need);
        self.record(event.allowed(allowed));
        if allowed {
            Ok(GroupAccess { group, standing })
        } else if standing.allows(visible) {
            Err(ApiError::forbidden(need.missing()))
        } else {
            Err(ApiError::NotFound(authz::groups::GROUP.noun))
        }
    }
}

/// What resolvers reach through async-graphql's `Context`.
pub trait ContextExt {
    /// The signed-in caller of this operation, or `UNAUTHENTICATED`
    /// (`UNAVAILABLE` while the database is out of reach).
    fn caller(&self) -> impl Future<Output = ApiResult<Caller>> + Send;
    fn app(&self) -> &AppContext;
    fn request(&self) -> Option<&RequestContext>;
    /// The database, or `UNAVAILABLE` while it is out of reach.
    fn db(&self) -> ApiResult<&DatabaseConnection>;
    /// The signed-in principal, or `UNAUTHENTICATED`.
    fn principal(&self) -> impl Future<Output = ApiResult<&Principal>> + Send;
    /// This request's id (for the audit trail).
    fn request_id(&self) -> &str;
    /// The client's address (for rate limits).
    fn client_ip(&self) -> Option<IpAddr>;
    /// This operation's DataLoaders.
    fn loaders(&self) -> ApiResult<&Loaders>;
    /// This operation's audit buffer (for operations without a signed-in
    /// caller, such as sign-in).
    fn audit_buffer(&self) -> ApiResult<&AuditBuffer>;
}

impl ContextExt for Context<'_> {
    async fn caller(&self) -> ApiResult<Caller> {
        let principal = self.principal().await?.clone();
        let app = self.app().clone();
        let db = self.db()?.clone();
        let loaders = self
            .data_opt::<Arc<Loaders>>()
            .cloned()
            .ok_or_else(|| ApiError::internal(anyhow::anyhow!("operation has no loaders")))?;
        Ok(Caller {
            app,
            db,
            principal,
            request_id: self.request_id().into(),
            correlation_id: self
                .request()
                .and_then(|r| r.correlation_id.as_deref())
                .map(Into::into),
            loaders,
            audit: self.audit_buffer()?.clone(),
        })
    }

    fn app(&self) -> &AppContext {
        self.data_unchecked::<AppContext>()
    }

    fn request(&self) -> Option<&RequestContext> {
        self.data_opt::<RequestContext>()
    }

    fn db(&self) -> ApiResult<&DatabaseConnection> {
        self.app().db.conn()
    }

    async fn principal(&self) -> ApiResult<&Principal> {
        let Some(request) = self.data_opt::<RequestContext>() else {
            return Err(ApiError::Unauthenticated);
        };
        request.principal(self.db()).await
    }

    fn request_id(&self) -> &str {
        self.request().map_or("", |r| r.request_id.as_str())
    }

    fn client_ip(&self) -> Option<IpAddr> {
        self.request().and_then(|r| r.client_ip)
    }

    fn loaders(&self) -> ApiResult<&Loaders> {
        self.data_opt::<Arc<Loaders>>()
            .map(|l| l.as_ref())
            .ok_or_else(|| ApiError::internal(anyhow::anyhow!("operation has no loaders")))
    }

    fn audit_buffer(&self) -> ApiResult<&AuditBuffer> {
        self.data_opt::<AuditBuffer>()
            .ok_or_else(|| ApiError::internal(anyhow::anyhow!("operation has no audit buffer")))
    }
}
