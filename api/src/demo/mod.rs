//! Demo data (`stepdown seed-demo`, refused in production): an
//! organization whose people, care teams, consents and groups show the
//! product from the first login. One linear seed script per domain.

pub mod clinical;
pub mod groups;

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set,
    TransactionTrait,
};
use serde::Serialize;
use uuid::Uuid;

use entity::{care_team_members, consents, supporter_links, users};

use crate::{
    accounts::bootstrap::{insert_organization, insert_user},
    auth::{Role, passwords::PasswordHasherPool},
    authz::ConsentCategory,
    error::{ApiError, ApiResult},
};

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DemoLogin {
    pub role: &'static str,
    pub display_name: &'static str,
    pub email: &'static str,
    pub password: &'static str,
    pub user_id: Uuid,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub patient_id: Option<Uuid>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DemoData {
    pub organization_id: Uuid,
    pub logins: Vec<DemoLogin>,
}

/// A demo account's user id, by email.
pub(crate) async fn user_of(db: &impl sea_orm::ConnectionTrait, email: &str) -> ApiResult<Uuid> {
    users::Entity::find()
        .filter(users::Column::Email.eq(email))
        .one(db)
        .await?
        .map(|u| u.id)
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("demo seed: no account {email}")))
}

impl DemoData {
    /// The demo's clinical story's cast (see `clinical`).
    pub fn cast(&self) -> ApiResult<clinical::Cast<'static>> {
        let patient = |email: &str| {
            self.logins
                .iter()
                .find(|l| l.email == email)
                .and_then(|l| l.patient_id)
                .ok_or_else(|| ApiError::internal(anyhow::anyhow!("demo seed: no patient {email}")))
        };
        Ok(clinical::Cast {
            clinician_email: "rivera@demo.stepdown.test",
            alex_email: "alex@demo.stepdown.test",
            alex_patient: patient("alex@demo.stepdown.test")?,
            jordan_patient: patient("jordan@demo.stepdown.test")?,
            password: DEMO_PASSWORD,
        })
    }
}

/// The domain of every demo account's email.
const DEMO_DOMAIN: &str = "@demo.stepdown.test";

/// `seed-demo --reset`: retires the demo organization so a new one can be
/// built. Its accounts lose their emails, roles and sessions (nobody can
/// sign in as them again) and it is renamed; its rows stay, so the audit
/// trail and every reference stay whole. Returns how many accounts it
/// retired. (The command refuses `--reset` in production.)
pub async fn remove_demo(db: &DatabaseConnection) -> ApiResult<usize> {
    use entity::{memberships, organizations, sessions};
    let txn = db.begin().await?;
    let accounts = users::Entity::find()
        .filter(users::Column::Email.ends_with(DEMO_DOMAIN))
        .all(&txn)
        .await?;
    let now = Utc::now();
    let mut organizations_retired = std::collections::BTreeSet::new();
    for account in &accounts {
        organizations_retired.insert(account.organization_id);
        sessions::Entity::update_many()
            .col_expr(
                sessions::Column::RevokedAt,
                sea_orm::sea_query::Expr::value(now),
            )
            .filter(sessions::Column::UserId.eq(account.id))
            .filter(sessions::Column::RevokedAt.is_null())
            .exec(&txn)
            .await?;
        memberships::Entity::delete_many()
            .filter(memberships::Column::UserId.eq(account.id))
            .exec(&txn)
            .await?;
        let mut retired: users::ActiveModel = account.clone().into();
        retired.email = Set(format!("retired-{}@retired.invalid", account.id));
        retired.updated_at = Set(now);
        retired.update(&txn).await?;
    }
    for id in organizations_retired {
        if let Some(org) = organizations::Entity::find_by_id(id).one(&txn).await? {
            let mut renamed: organizations::ActiveModel = org.into();
            renamed.name = Set(format!(
                "{DEMO_ORG} — retired {}",
                now.format("%Y-%m-%d %H:%M")
            ));
            renamed.update(&txn).await?;
        }
    }
    txn.commit().await?;
    Ok(accounts.len())
}

/// The one password of every demo account (never used outside a demo).
pub const DEMO_PASSWORD: &str = "stepdown-demo-2026";
const DEMO_ORG: &str = "Riverside Recovery Clinic (demo)";

/// A demo organization: an admin, two clinicians, a facilitator, three
/// patients on care teams, a supporter with a patient's consent, and their
/// support groups (see `demo::groups`).
pub async fn seed_demo(
    db: &DatabaseConnection,
    passwords: &PasswordHasherPool,
) -> ApiResult<DemoData> {
    let people: [(&str, &str, &str, Role, &str); 7] = [
        (
            "ADMIN",
            "Avery Admin",
            "admin@demo.stepdown.test",
            Role::Admin,
            "America/Chicago",
        ),
        (
            "CLINICIAN",
            "Dr. Rosa Rivera",
            "rivera@demo.stepdown.test",
            Role::Clinician,
            "America/Chicago",
        ),
        (
            "CLINICIAN",
            "Dr. Wei Chen",
            "chen@demo.stepdown.test",
            Role::Clinician,
            "America/New_York",
        ),
        (
            "FACILITATOR",
            "Sam Okafor",
            "sam@demo.stepdown.test",
            Role::Facilitator,
            "America/Chicago",
        ),
        (
            "PATIENT",
            "Alex Morgan",
            "alex@demo.stepdown.test",
            Role::Patient,
            "America/Chicago",
        ),
        (
            "PATIENT",
            "Jordan Lee",
            "jordan@demo.stepdown.test",
            Role::Patient,
            "America/Denver",
        ),
        (
            "PATIENT",
            "Casey Park",
            "casey@demo.stepdown.test",
            Role::Patient,
            "America/New_York",
        ),
    ];
    if users::Entity::find()
        .filter(users::Column::Email.eq(people[0].2))
        .one(db)
        .await?
        .is_some()
    {
        return Err(ApiError::conflict(
            "the demo organization already exists in this database",
        ));
    }
    let hash = passwords.hash(DEMO_PASSWORD).await?;
    let txn = db.begin().await?;
    let organization_id = insert_organization(&txn, DEMO_ORG).await?;
    let mut logins = Vec::new();
    for (role, name, email, r, timezone) in people {
        let (user_id, patient_id) =
            insert_user(&txn, organization_id, email, &hash, name, timezone, &[r]).await?;
        logins.push(DemoLogin {
            role,
            display_name: name,
            email,
            password: DEMO_PASSWORD,
            user_id,
            patient_id,
        });
    }
    let (supporter_id, _) = insert_user(
        &txn,
        organization_id,
        "morgan@demo.stepdown.test",
        &hash,
        "Morgan Morgan",
        "America/Chicago",
        &[Role::Supporter],
    )
    .await?;
    logins.push(DemoLogin {
        role: "SUPPORTER",
        display_name: "Morgan Morgan",
        email: "morgan@demo.stepdown.test",
        password: DEMO_PASSWORD,
        user_id: supporter_id,
        patient_id: None,
    });

    let now = Utc::now();
    let find = |email: &str| logins.iter().find(|l| l.email == email);
    let rivera = find("rivera@demo.stepdown.test").map(|l| l.user_id);
    let chen = find("chen@demo.stepdown.test").map(|l| l.user_id);
    let teams = [
        ("alex@demo.stepdown.test", rivera),
        ("jordan@demo.stepdown.test", rivera),
        ("casey@demo.stepdown.test", chen),
    ];
    for (patient_email, clinician) in teams {
        if let (Some(patient), Some(clinician)) =
            (find(patient_email).and_then(|l| l.patient_id), clinician)
        {
            care_team_members::ActiveModel {
                id: Set(Uuid::now_v7()),
                organization_id: Set(organization_id),
                patient_id: Set(patient),
                clinician_user_id: Set(clinician),
                created_at: Set(now),
            }
            .insert(&txn)
            .await?;
        }
    }
    if let Some(alex) = find("alex@demo.stepdown.test") {
        let alex_patient = alex.patient_id.unwrap_or_default();
        supporter_links::ActiveModel {
            id: Set(Uuid::now_v7()),
            organization_id: Set(organization_id),
            patient_id: Set(alex_patient),
            supporter_user_id: Set(supporter_id),
            created_at: Set(now),
        }
        .insert(&txn)
        .await?;
        let categories = [ConsentCategory::Taper, ConsentCategory::CheckIns]
            .into_iter()
            .collect();
        consents::ActiveModel {
            id: Set(Uuid::now_v7()),
            organization_id: Set(organization_id),
            patient_id: Set(alex_patient),
            grantee_user_id: Set(supporter_id),
            categories: Set(ConsentCategory::encode(&categories)),
            purpose: Set("Family support during my taper".into()),
            granted_at: Set(now),
            expires_at: Set(now + chrono::Duration::days(365)),
            revoked_at: Set(None),
            signed_by_user_id: Set(alex.user_id),
            signature: Set(format!(
                "Signed electronically by Alex Morgan <alex@demo.stepdown.test> at {}",
                now.to_rfc3339()
            )),
        }
        .insert(&txn)
        .await?;
    }
    let user = |email: &str| find(email).map(|l| l.user_id).unwrap_or_default();
    groups::seed(
        &txn,
        &groups::DemoCast {
            organization_id,
            facilitator: user("sam@demo.stepdown.test"),
            members: vec![
                (user("alex@demo.stepdown.test"), "Lark"),
                (user("jordan@demo.stepdown.test"), "J"),
            ],
            pending: Some(user("casey@demo.stepdown.test")),
            supporter: supporter_id,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(DemoData {
        organization_id,
        logins,
    })
}
