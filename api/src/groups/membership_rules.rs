//! The pure rules of groups and membership: the stored vocabularies (kind,
//! format, join policy, membership status, role), what a group's settings
//! must hold, who may be a member or a facilitator, and what joining,
//! leaving and removal do to a membership. No database, no async.

use crate::{
    auth::Role,
    error::{ApiError, ApiResult, InputError},
    stored::stored_enum,
    validation::{self, optional_text},
};

/// A group's name.
pub const MAX_NAME: usize = 200;
/// A group's description and ground rules.
pub const MAX_TEXT: usize = 5_000;
/// Where in-person meetings happen.
pub const MAX_LOCATION: usize = 500;
/// The name a member shows the group.
pub const MAX_ALIAS_CHARS: usize = 60;
/// Most members a group may take at once.
pub const MAX_CAPACITY: i32 = 1000;

stored_enum!(SupportGroupKind {
    PeerSupport => "PEER_SUPPORT",
    TaperingCohort => "TAPERING_COHORT",
    /// For family members (supporters), and patients who want them there.
    Family => "FAMILY",
    TherapyGroup => "THERAPY_GROUP",
    MutualHelp => "MUTUAL_HELP",
});

stored_enum!(MeetingFormat {
    InPerson => "IN_PERSON",
    Virtual => "VIRTUAL",
    Hybrid => "HYBRID",
});

stored_enum!(JoinPolicy {
    /// Anyone eligible who finds the group joins at once.
    Open => "OPEN",
    /// Requests wait for a facilitator.
    Approval => "APPROVAL",
    /// Hidden from discovery; facilitators add members.
    InviteOnly => "INVITE_ONLY",
});

stored_enum!(MembershipStatus {
    Pending => "PENDING",
    Active => "ACTIVE",
    Left => "LEFT",
    Removed => "REMOVED",
});

stored_enum!(GroupRole {
    Facilitator => "FACILITATOR",
    Member => "MEMBER",
});

/// Whether a stored group kind is `FAMILY` (open to supporters).
pub fn is_family(kind: &str) -> bool {
    kind == SupportGroupKind::Family.as_str()
}

/// Whether a stored join policy hides the group from discovery.
pub fn is_invite_only(policy: &str) -> bool {
    policy == JoinPolicy::InviteOnly.as_str()
}

/// The location and link a format needs.
pub fn check_format(
    format: MeetingFormat,
    location: Option<&str>,
    meeting_url: Option<&str>,
) -> Result<(), InputError> {
    if matches!(format, MeetingFormat::InPerson | MeetingFormat::Hybrid) && location.is_none() {
        return Err(InputError::new(
            "location",
            "location is required for in-person and hybrid groups",
        ));
    }
    if matches!(format, MeetingFormat::Virtual | MeetingFormat::Hybrid) && meeting_url.is_none() {
        return Err(InputError::new(
            "meetingUrl",
            "meetingUrl is required for virtual and hybrid groups",
        ));
    }
    Ok(())
}

/// 1–1000 members, or none for no limit.
pub fn check_capacity(value: Option<i32>) -> ApiResult<Option<i32>> {
    validation::optional_in_range("capacity", value, 1..=MAX_CAPACITY)
}

/// 1–60 printable characters, or none (the display name shows).
pub fn check_alias(value: Option<&str>) -> ApiResult<Option<String>> {
    let alias = optional_text("alias", value, MAX_ALIAS_CHARS)?;
    if alias
        .as_deref()
        .is_some_and(|a| a.chars().any(char::is_control))
    {
        return Err(ApiError::bad_input(
            "alias",
            "alias must be printable characters",
        ));
    }
    Ok(alias)
}

/// Who may be a member: patients in any group, supporters in `FAMILY`
/// groups.
pub fn may_be_member(roles: &[Role], kind: &str) -> bool {
    roles.contains(&Role::Patient) || (roles.contains(&Role::Supporter) && is_family(kind))
}

/// Who may facilitate: facilitators and clinicians of the organization.
pub fn may_facilitate(roles: &[Role]) -> bool {
    roles.contains(&Role::Facilitator) || roles.contains(&Role::Clinician)
}

/// Archived groups take no new members, meetings or posts.
pub fn not_archived(archived: bool) -> ApiResult<()> {
    if archived {
        return Err(ApiError::conflict("the group is archived"));
    }
    Ok(())
}

/// The person a facilitator adds: someone of the organization (`roles`
/// not empty) who may be a member.
pub fn check_new_member(roles: &[Role], kind: &str) -> Result<(), InputError> {
    if roles.is_empty() {
        return Err(InputError::new(
            "userId",
            "userId is not a person of this organization",
        ));
    }
    if !may_be_member(roles, kind) {
        return Err(InputError::new(
            "userId",
            "members are patients (and supporters, in FAMILY groups)",
        ));
    }
    Ok(())
}

/// What a write to a membership does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Nothing: it is already as asked.
    Keep,
    /// Writes the membership with this status.
    To(MembershipStatus),
}

/// Joining, from the caller's current status in the group (if any): an
/// active or pending membership stays; a removed member is refused; else
/// active in `OPEN` groups, pending in `APPROVAL` ones, and refused in an
/// invite-only group (only a former member can reach it: it is hidden).
pub fn join(current: Option<MembershipStatus>, policy: JoinPolicy) -> ApiResult<Change> {
    match current {
        Some(MembershipStatus::Active | MembershipStatus::Pending) => Ok(Change::Keep),
        Some(MembershipStatus::Removed) => Err(ApiError::conflict(
            "you were removed from this group; a facilitator can add you again",
        )),
        Some(MembershipStatus::Left) | None => match policy {
            JoinPolicy::InviteOnly => Err(ApiError::forbidden(
                "this group is invite-only: a facilitator adds members",
            )),
            JoinPolicy::Approval => Ok(Change::To(MembershipStatus::Pending)),
            JoinPolicy::Open => Ok(Change::To(MembershipStatus::Active)),
        },
    }
}

/// Approving a request: an active member stays; a pending one becomes
/// active; anything else is no request.
pub fn approve(current: Option<MembershipStatus>) -> ApiResult<Change> {
    match current {
        Some(MembershipStatus::Active) => Ok(Change::Keep),
        Some(MembershipStatus::Pending) => Ok(Change::To(MembershipStatus::Active)),
        _ => Err(ApiError::NotFound("membership request")),
    }
}

/// Adding someone: an active member stays; anyone else becomes active.
pub fn add(current: Option<MembershipStatus>) -> Change {
    match current {
        Some(MembershipStatus::Active) => Change::Keep,
        _ => Change::To(MembershipStatus::Active),
    }
}

/// Leaving, from the caller's own membership: members leave (or withdraw
/// a request); an active facilitator steps down through an admin.
pub fn leave(current: Option<(GroupRole, MembershipStatus)>) -> ApiResult<()> {
    use MembershipStatus::{Active, Pending};
    match current {
        Some((GroupRole::Member, Active | Pending)) => Ok(()),
        Some((GroupRole::Facilitator, Active)) => Err(ApiError::conflict(
            "facilitators step down through an admin (removeGroupFacilitator)",
        )),
        _ => Err(ApiError::conflict("you are not a member of this group")),
    }
}

/// Removing someone, from their membership: facilitators are removed by an
/// admin; removing a removed member changes nothing.
pub fn remove(current: Option<(GroupRole, MembershipStatus)>) -> ApiResult<Change> {
    match current {
        Some((GroupRole::Facilitator, _)) => Err(ApiError::conflict(
            "facilitators are removed by an admin (removeGroupFacilitator)",
        )),
        Some((_, MembershipStatus::Removed)) => Ok(Change::Keep),
        Some(_) => Ok(Change::To(MembershipStatus::Removed)),
        None => Err(ApiError::NotFound("member")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use GroupRole::*;
    use MembershipStatus::*;

    #[test]
    fn formats_need_their_location_and_link() {
        let field = |r: Result<(), InputError>| r.err().map(|e| e.field);
        use MeetingFormat::*;
        assert_eq!(field(check_format(InPerson, None, None)), Some("location"));
        assert_eq!(field(check_format(InPerson, Some("Room 2"), None)), None);
        assert_eq!(field(check_format(Virtual, None, None)), Some("meetingUrl"));
        assert_eq!(
            field(check_format(Hybrid, Some("Room 2"), None)),
            Some("meetingUrl")
        );
        assert_eq!(field(check_format(Hybrid, Some("Room 2"), Some("u"))), None);
    }

    #[test]
    fn aliases_are_short_and_printable() {
        assert_eq!(check_alias(None).ok(), Some(None));
        assert_eq!(check_alias(Some("  ")).ok(), Some(None));
        assert_eq!(
            check_alias(Some(" Sky ")).ok(),
            Some(Some("Sky".to_owned()))
        );
        assert!(check_alias(Some("a\u{7}b")).is_err());
        assert!(check_alias(Some(&"x".repeat(MAX_ALIAS_CHARS + 1))).is_err());
    }

    #[test]
    fn members_are_patients_and_family_supporters() {
        let family = SupportGroupKind::Family.as_str();
        let cohort = SupportGroupKind::TaperingCohort.as_str();
        assert!(may_be_member(&[Role::Patient], cohort));
        assert!(may_be_member(&[Role::Supporter], family));
        assert!(!may_be_member(&[Role::Supporter], cohort));
        assert!(!may_be_member(&[Role::Clinician], family));
        assert_eq!(
            check_new_member(&[], cohort).map_err(|e| e.field),
            Err("userId")
        );
        assert!(may_facilitate(&[Role::Clinician]));
        assert!(!may_facilitate(&[Role::Patient, Role::Admin]));
    }

    #[test]
    fn joining_depends_on_the_membership_and_the_policy() {
        use JoinPolicy::*;
        assert_eq!(join(None, Open).ok(), Some(Change::To(Active)));
        assert_eq!(join(Some(Left), Approval).ok(), Some(Change::To(Pending)));
        assert_eq!(join(Some(Pending), Open).ok(), Some(Change::Keep));
        assert_eq!(join(Some(Active), InviteOnly).ok(), Some(Change::Keep));
        assert!(matches!(
            join(Some(Left), InviteOnly),
            Err(ApiError::Forbidden(_))
        ));
        assert!(matches!(
            join(Some(Removed), Open),
            Err(ApiError::Conflict(_))
        ));
    }

    #[test]
    fn approving_and_adding() {
        assert_eq!(approve(Some(Pending)).ok(), Some(Change::To(Active)));
        assert_eq!(approve(Some(Active)).ok(), Some(Change::Keep));
        assert!(matches!(
            approve(Some(Left)),
            Err(ApiError::NotFound("membership request"))
        ));
        assert_eq!(add(Some(Active)), Change::Keep);
        assert_eq!(add(Some(Removed)), Change::To(Active));
        assert_eq!(add(None), Change::To(Active));
    }

    #[test]
    fn leaving_and_removal() {
        assert!(leave(Some((Member, Pending))).is_ok());
        assert!(leave(Some((Member, Left))).is_err());
        assert!(leave(Some((Facilitator, Active))).is_err());
        assert!(leave(None).is_err());
        assert_eq!(
            remove(Some((Member, Active))).ok(),
            Some(Change::To(Removed))
        );
        assert_eq!(remove(Some((Member, Removed))).ok(), Some(Change::Keep));
        assert!(matches!(
            remove(Some((Facilitator, Active))),
            Err(ApiError::Conflict(_))
        ));
        assert!(matches!(remove(None), Err(ApiError::NotFound("member"))));
    }
}
