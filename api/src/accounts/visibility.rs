//! Who sees more of a person than their identity (DESIGN §6): a `User`'s
//! email, timezone and roles are shown to the user themself, their care
//! team (a patient's clinicians), admins of their organization, and the
//! people staff work for (a patient sees their clinicians', a member their
//! group facilitators'). Everyone else — consent holders, fellow group
//! members, colleagues — sees an id and a display name.

/// How the viewer stands to the person shown.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Standing {
    /// The viewer is the person.
    pub is_self: bool,
    /// The viewer is an admin of the person's organization.
    pub admin_of_organization: bool,
    /// The viewer is on the care team of the person's patient record.
    pub on_their_care_team: bool,
    /// The person is on the viewer's care team, or facilitates a group the
    /// viewer is an active member of.
    pub works_for_viewer: bool,
}

/// The people one viewer stands to beyond identity (loaded once per
/// operation, see `user_store::contacts_of`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Contacts {
    /// Users whose patient record has the viewer on its care team.
    pub cared_for: std::collections::HashSet<uuid::Uuid>,
    /// Staff who work for the viewer: their care team, their groups'
    /// active facilitators.
    pub serving: std::collections::HashSet<uuid::Uuid>,
}

impl Contacts {
    /// Completes `standing` for `subject` from these sets.
    pub fn standing(&self, subject: uuid::Uuid, standing: Standing) -> Standing {
        Standing {
            on_their_care_team: self.cared_for.contains(&subject),
            works_for_viewer: self.serving.contains(&subject),
            ..standing
        }
    }
}

/// True when the viewer sees the person's contact details (email,
/// timezone, roles); otherwise those fields are null.
pub fn shows_contact(standing: Standing) -> bool {
    standing.is_self
        || standing.admin_of_organization
        || standing.on_their_care_team
        || standing.works_for_viewer
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_person_their_care_team_their_admins_and_those_they_serve_see_contact() {
        let none = Standing::default();
        let table = [
            ("consent holder, group member, colleague", none, false),
            (
                "self",
                Standing {
                    is_self: true,
                    ..none
                },
                true,
            ),
            (
                "admin of the organization",
                Standing {
                    admin_of_organization: true,
                    ..none
                },
                true,
            ),
            (
                "the patient's clinician",
                Standing {
                    on_their_care_team: true,
                    ..none
                },
                true,
            ),
            (
                "a clinician or facilitator seen by their patient or member",
                Standing {
                    works_for_viewer: true,
                    ..none
                },
                true,
            ),
        ];
        for (who, standing, shown) in table {
            assert_eq!(shows_contact(standing), shown, "{who}");
        }
    }
}
