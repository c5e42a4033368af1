//! The rules of invitations, without a database: who may invite whom, how
//! long a code lasts, and when an invitation can still be accepted.

use chrono::{DateTime, Duration, Utc};

use entity::invitations;

use crate::auth::{Principal, Role};

/// How long an invitation code can be used.
pub const INVITATION_TTL: Duration = Duration::days(7);

/// Which roles a caller may invite (DESIGN §6, issue: identity).
pub fn may_invite(inviter: &Principal, role: Role) -> bool {
    match role {
        Role::Clinician | Role::Facilitator | Role::Admin | Role::Auditor => {
            inviter.has_role(Role::Admin)
        }
        Role::Patient => inviter.has_role(Role::Admin) || inviter.has_role(Role::Clinician),
        Role::Supporter => inviter.has_role(Role::Patient),
        // Service accounts come with an API key (`createApiKey`), never by
        // invitation: no person signs in as one.
        Role::Integration => false,
    }
}

/// True while `invitation` can be accepted by `email` (lower-cased): not
/// accepted yet, not expired, and addressed to them.
pub fn is_open(invitation: &invitations::Model, email: &str, now: DateTime<Utc>) -> bool {
    invitation.accepted_at.is_none() && invitation.expires_at > now && invitation.email == email
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;

    fn principal(roles: &[Role]) -> Principal {
        Principal {
            user_id: Uuid::now_v7(),
            organization_id: Uuid::now_v7(),
            session_id: Uuid::now_v7(),
            api_key: None,
            roles: roles.to_vec(),
        }
    }

    #[test]
    fn admins_invite_staff_clinicians_invite_patients_patients_invite_supporters() {
        use Role::*;
        let cases = [
            (
                Admin,
                [Clinician, Facilitator, Admin, Auditor, Patient].as_slice(),
                [Supporter].as_slice(),
            ),
            (
                Clinician,
                &[Patient],
                &[Clinician, Facilitator, Admin, Auditor, Supporter],
            ),
            (
                Patient,
                &[Supporter],
                &[Clinician, Facilitator, Admin, Auditor, Patient],
            ),
            (
                Facilitator,
                &[],
                &[Clinician, Facilitator, Admin, Auditor, Patient, Supporter],
            ),
            (
                Auditor,
                &[],
                &[Clinician, Facilitator, Admin, Auditor, Patient, Supporter],
            ),
            (
                Supporter,
                &[],
                &[Clinician, Facilitator, Admin, Auditor, Patient, Supporter],
            ),
        ];
        for (inviter, may, may_not) in cases {
            let inviter_principal = principal(&[inviter]);
            for role in may {
                assert!(
                    may_invite(&inviter_principal, *role),
                    "{inviter:?} invites {role:?}"
                );
            }
            for role in may_not {
                assert!(
                    !may_invite(&inviter_principal, *role),
                    "{inviter:?} invites {role:?}"
                );
            }
        }
    }

    #[test]
    fn an_invitation_is_open_until_accepted_or_expired_and_only_for_its_email() {
        let now = Utc::now();
        let invitation = invitations::Model {
            id: Uuid::now_v7(),
            organization_id: Uuid::now_v7(),
            email: "sam@example.org".to_owned(),
            role: Role::Patient.as_str().to_owned(),
            code_hash: String::new(),
            invited_by_user_id: Uuid::now_v7(),
            patient_user_id: None,
            expires_at: now + INVITATION_TTL,
            accepted_at: None,
            accepted_user_id: None,
            created_at: now,
        };
        assert!(is_open(&invitation, "sam@example.org", now));
        assert!(!is_open(&invitation, "other@example.org", now));
        assert!(!is_open(
            &invitation,
            "sam@example.org",
            now + INVITATION_TTL
        ));
        let accepted = invitations::Model {
            accepted_at: Some(now),
            ..invitation
        };
        assert!(!is_open(&accepted, "sam@example.org", now));
    }
}
