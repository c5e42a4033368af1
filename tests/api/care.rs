//! Care as the clinic lives it: an admin runs a program, the care team
//! enrolls a patient and moves them through its phases, a clinician books
//! sessions without double-booking and writes notes only the care team
//! reads, and the patient keeps a recovery plan their supporters may read.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde_json::{Value, json};

use crate::authz_matrix::{Expect, check};
use crate::harness::{GqlReply, Person, TestApp, World, spawn_app};

const CREATE_PROGRAM: &str = "mutation($input: CreateProgramInput!) { createProgram(input: $input) {
  program { id name modality durationWeeks description therapyKinds groupSessionsPerWeek followUpEveryDays } } }";
const ENROLL: &str = "mutation($input: EnrollPatientInput!) { enrollPatient(input: $input) {
  enrollment { id phase startsOn expectedEndOn program { id durationWeeks } } } }";
const ADVANCE: &str =
    "mutation($input: AdvanceEnrollmentInput!) { advanceEnrollment(input: $input) {
  enrollment { id phase aftercarePlan dischargeReason dischargedAt
    history { fromPhase toPhase reason aftercarePlan actor { id } at } } } }";
const APPOINTMENT_FIELDS: &str = "id kind status startsAt endsAt virtual location meetingUrl statusReason
  clinician { id } patient { id } familyParticipants { id } history { kind reason previousStartsAt actor { id } }";
const ADD_NOTE: &str = "mutation($input: AddClinicalNoteInput!) { addClinicalNote(input: $input) {
  note { id body author { id } createdAt appointmentId amendsNoteId } } }";
const UPDATE_PLAN: &str = "mutation($input: UpdateCarePlanInput!) { updateCarePlan(input: $input) {
  carePlan { triggers copingStrategies warningSigns supportContacts updatedAt version updatedBy { id } } } }";

/// `hour:minute` UTC, `days` from today, as RFC 3339.
fn at(days: i64, hour: u32, minute: u32) -> String {
    (Utc::now().date_naive() + Duration::days(days))
        .and_hms_opt(hour, minute, 0)
        .unwrap()
        .and_utc()
        .to_rfc3339()
}

fn time(value: &Value) -> DateTime<Utc> {
    value.as_str().unwrap().parse().unwrap()
}

fn today() -> NaiveDate {
    // World patients live in America/Chicago.
    Utc::now()
        .with_timezone(&chrono_tz::America::Chicago)
        .date_naive()
}

fn field(reply: &GqlReply) -> &Value {
    &reply.body["errors"][0]["extensions"]["field"]
}

fn id(value: &Value) -> String {
    value.as_str().unwrap().to_owned()
}

async fn create_program(app: &TestApp, who: &Person, name: &str, weeks: i64) -> GqlReply {
    app.graphql(
        CREATE_PROGRAM,
        json!({ "input": { "name": name, "modality": "INTENSIVE_OUTPATIENT", "durationWeeks": weeks,
            "description": "Individual and group therapy with family sessions" } }),
        Some(&who.token),
    )
    .await
}

async fn program(app: &TestApp, w: &World, name: &str) -> String {
    id(&create_program(app, &w.admin, name, 16).await.ok()["createProgram"]["program"]["id"])
}

async fn enroll(app: &TestApp, who: &Person, patient: &Person, program: &str) -> GqlReply {
    app.graphql(
        ENROLL,
        json!({ "input": { "programId": program, "patientId": patient.patient(), "startsOn": today().to_string() } }),
        Some(&who.token),
    )
    .await
}

async fn advance(app: &TestApp, who: &Person, enrollment: &str, input: Value) -> GqlReply {
    let mut full = json!({ "enrollmentId": enrollment });
    for (k, v) in input.as_object().unwrap() {
        full[k] = v.clone();
    }
    app.graphql(ADVANCE, json!({ "input": full }), Some(&who.token))
        .await
}

/// `scheduleAppointment` for the world's patient: a virtual CBT session
/// unless `input` says otherwise.
async fn schedule(app: &TestApp, who: &Person, patient: &Person, input: Value) -> GqlReply {
    let mut full = json!({
        "patientId": patient.patient(),
        "kind": "INDIVIDUAL_CBT",
        "startsAt": at(2, 15, 0),
        "endsAt": at(2, 16, 0),
        "virtual": true,
        "meetingUrl": "https://meet.example.org/cbt-1",
    });
    for (k, v) in input.as_object().unwrap() {
        full[k] = v.clone();
    }
    app.graphql(
        &format!("mutation($input: ScheduleAppointmentInput!) {{ scheduleAppointment(input: $input) {{ appointment {{ {APPOINTMENT_FIELDS} }} }} }}"),
        json!({ "input": full }),
        Some(&who.token),
    )
    .await
}

async fn booked(app: &TestApp, who: &Person, patient: &Person, input: Value) -> String {
    id(&schedule(app, who, patient, input).await.ok()["scheduleAppointment"]["appointment"]["id"])
}

async fn reschedule(
    app: &TestApp,
    who: &Person,
    appointment: &str,
    starts: String,
    ends: String,
) -> GqlReply {
    app.graphql(
        &format!("mutation($input: RescheduleAppointmentInput!) {{ rescheduleAppointment(input: $input) {{ appointment {{ {APPOINTMENT_FIELDS} }} }} }}"),
        json!({ "input": { "appointmentId": appointment, "startsAt": starts, "endsAt": ends, "reason": "clinician's request" } }),
        Some(&who.token),
    )
    .await
}

async fn set_status(
    app: &TestApp,
    who: &Person,
    appointment: &str,
    status: &str,
    reason: Option<&str>,
) -> GqlReply {
    app.graphql(
        &format!("mutation($input: SetAppointmentStatusInput!) {{ setAppointmentStatus(input: $input) {{ appointment {{ {APPOINTMENT_FIELDS} }} }} }}"),
        json!({ "input": { "appointmentId": appointment, "status": status, "reason": reason } }),
        Some(&who.token),
    )
    .await
}

async fn patient_field(app: &TestApp, who: &Person, patient: &Person, selection: &str) -> GqlReply {
    app.graphql(
        &format!("query($id: UUID!) {{ patient(id: $id) {{ {selection} }} }}"),
        json!({ "id": patient.patient() }),
        Some(&who.token),
    )
    .await
}

async fn update_plan(app: &TestApp, who: &Person, patient: &Person, input: Value) -> GqlReply {
    let mut full = json!({
        "patientId": patient.patient(),
        "triggers": ["payday", "arguments at home"],
        "copingStrategies": ["call my sister", "walk 20 minutes"],
        "warningSigns": ["skipping meals"],
        "supportContacts": ["Sam 555-0100"],
    });
    for (k, v) in input.as_object().unwrap() {
        full[k] = v.clone();
    }
    app.graphql(UPDATE_PLAN, json!({ "input": full }), Some(&who.token))
        .await
}

#[tokio::test]
async fn an_admin_runs_a_16_week_program_and_the_care_team_moves_an_enrollment_forward() {
    let app = spawn_app().await;
    let w = app.world().await;

    // Zero-length and over-long programs are refused, naming the field.
    for weeks in [0, -1, 105] {
        let reply = create_program(&app, &w.admin, "Too short", weeks).await;
        assert_eq!(reply.error_code(), Some("BAD_USER_INPUT"), "{weeks} weeks");
        assert_eq!(field(&reply), "durationWeeks");
    }
    let reply = app
        .graphql(
            CREATE_PROGRAM,
            json!({ "input": { "name": "Stepdown IOP", "modality": "INTENSIVE_OUTPATIENT", "durationWeeks": 16,
                "description": "CBT, group counselling and family sessions",
                "therapyKinds": ["INDIVIDUAL_CBT", "GROUP_COUNSELING", "FAMILY_THERAPY", "PHYSICAL_THERAPY", "INDIVIDUAL_CBT"],
                "groupSessionsPerWeek": 3, "followUpEveryDays": 14 } }),
            Some(&w.admin.token),
        )
        .await;
    let program = reply.ok()["createProgram"]["program"].clone();
    assert_eq!(program["durationWeeks"], 16);
    assert_eq!(program["modality"], "INTENSIVE_OUTPATIENT");
    assert_eq!(
        program["therapyKinds"],
        json!([
            "INDIVIDUAL_CBT",
            "GROUP_COUNSELING",
            "FAMILY_THERAPY",
            "PHYSICAL_THERAPY"
        ])
    );
    assert_eq!(program["groupSessionsPerWeek"], 3);
    let program_id = id(&program["id"]);
    // Names are unique within the organization.
    assert_eq!(
        create_program(&app, &w.admin, "Stepdown IOP", 8)
            .await
            .error_code(),
        Some("CONFLICT")
    );
    // Everyone in the organization can see the programs on offer.
    let list = app
        .graphql(
            "{ programs { id name } }",
            json!({}),
            Some(&w.patient.token),
        )
        .await;
    assert_eq!(list.ok()["programs"][0]["id"], program_id.as_str());
    let other = app
        .graphql(
            "{ programs { id } }",
            json!({}),
            Some(&w.other_org_admin.token),
        )
        .await;
    assert!(other.ok()["programs"].as_array().unwrap().is_empty());

    // A care-team clinician enrolls the patient: the end is 16 weeks on.
    let reply = enroll(&app, &w.clinician, &w.patient, &program_id).await;
    let enrollment = reply.ok()["enrollPatient"]["enrollment"].clone();
    assert_eq!(enrollment["phase"], "INTAKE");
    assert_eq!(enrollment["startsOn"], today().to_string());
    assert_eq!(
        enrollment["expectedEndOn"],
        (today() + Duration::weeks(16)).to_string()
    );
    let enrollment_id = id(&enrollment["id"]);
    // One open enrollment per patient and program.
    assert_eq!(
        enroll(&app, &w.admin, &w.patient, &program_id)
            .await
            .error_code(),
        Some("CONFLICT")
    );

    // Forward to ACTIVE; never back to INTAKE, never to where it is.
    let reply = advance(
        &app,
        &w.clinician,
        &enrollment_id,
        json!({ "phase": "ACTIVE", "reason": "intake assessment done" }),
    )
    .await;
    assert_eq!(
        reply.ok()["advanceEnrollment"]["enrollment"]["phase"],
        "ACTIVE"
    );
    for phase in ["INTAKE", "ACTIVE"] {
        let reply = advance(
            &app,
            &w.clinician,
            &enrollment_id,
            json!({ "phase": phase, "reason": "oops" }),
        )
        .await;
        assert_eq!(reply.error_code(), Some("CONFLICT"), "to {phase}");
    }
    // A discharge needs a reason; the admin may move it on too.
    let reply = advance(
        &app,
        &w.admin,
        &enrollment_id,
        json!({ "phase": "DISCHARGED" }),
    )
    .await;
    assert_eq!(reply.error_code(), Some("BAD_USER_INPUT"));
    assert_eq!(field(&reply), "reason");
    let reply = advance(
        &app,
        &w.admin,
        &enrollment_id,
        json!({ "phase": "AFTERCARE", "aftercarePlan": "Monthly follow-up visits; weekly peer group" }),
    )
    .await;
    assert_eq!(
        reply.ok()["advanceEnrollment"]["enrollment"]["aftercarePlan"],
        "Monthly follow-up visits; weekly peer group"
    );
    let reply = advance(
        &app,
        &w.clinician,
        &enrollment_id,
        json!({ "phase": "DISCHARGED", "reason": "program completed" }),
    )
    .await;
    let discharged = reply.ok()["advanceEnrollment"]["enrollment"].clone();
    assert_eq!(discharged["phase"], "DISCHARGED");
    assert_eq!(discharged["dischargeReason"], "program completed");
    assert!(discharged["dischargedAt"].is_string());
    let history = discharged["history"].as_array().unwrap();
    let moves: Vec<(Value, Value)> = history
        .iter()
        .map(|h| (h["fromPhase"].clone(), h["toPhase"].clone()))
        .collect();
    assert_eq!(
        moves,
        [
            (Value::Null, json!("INTAKE")),
            (json!("INTAKE"), json!("ACTIVE")),
            (json!("ACTIVE"), json!("AFTERCARE")),
            (json!("AFTERCARE"), json!("DISCHARGED")),
        ]
    );
    assert_eq!(history[1]["reason"], "intake assessment done");
    assert_eq!(history[1]["actor"]["id"], w.clinician.user_id.to_string());
    assert_eq!(history[2]["actor"]["id"], w.admin.user_id.to_string());
    // A discharged enrollment no longer moves; the patient may enroll anew.
    let reply = advance(
        &app,
        &w.clinician,
        &enrollment_id,
        json!({ "phase": "DISCHARGED", "reason": "again" }),
    )
    .await;
    assert_eq!(reply.error_code(), Some("CONFLICT"));
    enroll(&app, &w.clinician, &w.patient, &program_id)
        .await
        .ok();

    // The patient sees their enrollments; skipping phases is allowed.
    let reply = patient_field(
        &app,
        &w.patient,
        &w.patient,
        "enrollments { id phase program { name } }",
    )
    .await;
    let enrollments = reply.ok()["patient"]["enrollments"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(enrollments.len(), 2);
    let open = id(&enrollments.iter().find(|e| e["phase"] == "INTAKE").unwrap()["id"]);
    let reply = advance(
        &app,
        &w.clinician,
        &open,
        json!({ "phase": "DISCHARGED", "reason": "moved away" }),
    )
    .await;
    assert_eq!(
        reply.ok()["advanceEnrollment"]["enrollment"]["phase"],
        "DISCHARGED"
    );

    // Unknown programs and enrollments are NOT_FOUND.
    let reply = enroll(
        &app,
        &w.clinician,
        &w.patient,
        &uuid::Uuid::now_v7().to_string(),
    )
    .await;
    assert_eq!(reply.error_code(), Some("NOT_FOUND"));
    let reply = advance(
        &app,
        &w.clinician,
        &uuid::Uuid::now_v7().to_string(),
        json!({ "phase": "ACTIVE" }),
    )
    .await;
    assert_eq!(reply.error_code(), Some("NOT_FOUND"));
}

#[tokio::test]
async fn a_clinician_books_a_virtual_cbt_session_the_patient_sees() {
    let app = spawn_app().await;
    let w = app.world().await;
    let reply = schedule(&app, &w.clinician, &w.patient, json!({})).await;
    let appointment = reply.ok()["scheduleAppointment"]["appointment"].clone();
    assert_eq!(appointment["kind"], "INDIVIDUAL_CBT");
    assert_eq!(appointment["status"], "SCHEDULED");
    assert_eq!(appointment["virtual"], true);
    assert_eq!(appointment["meetingUrl"], "https://meet.example.org/cbt-1");
    assert_eq!(
        appointment["clinician"]["id"],
        w.clinician.user_id.to_string()
    );
    assert_eq!(time(&appointment["startsAt"]), time(&json!(at(2, 15, 0))));
    assert_eq!(appointment["history"][0]["kind"], "SCHEDULED");

    // The patient sees it among their upcoming appointments, not their past.
    let selection = |from: &str, to: &str| {
        format!(
            "appointments{} {{ id kind startsAt clinician {{ displayName }} meetingUrl }}",
            match (from, to) {
                ("", "") => String::new(),
                (from, "") => format!("(from: \"{from}\")"),
                ("", to) => format!("(to: \"{to}\")"),
                (from, to) => format!("(from: \"{from}\", to: \"{to}\")"),
            }
        )
    };
    let now = Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let upcoming = patient_field(&app, &w.patient, &w.patient, &selection(&now, "")).await;
    let list = upcoming.ok()["patient"]["appointments"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["id"], appointment["id"]);
    assert_eq!(list[0]["clinician"]["displayName"], "Dr Care");
    let past = patient_field(&app, &w.patient, &w.patient, &selection("", &now)).await;
    assert!(
        past.ok()["patient"]["appointments"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let reply = patient_field(&app, &w.patient, &w.patient, &selection(&now, &now)).await;
    assert_eq!(reply.error_code(), Some("BAD_USER_INPUT"));
    assert_eq!(field(&reply), "to");

    // A supporter reads appointments only with the APPOINTMENTS consent.
    let reply = patient_field(&app, &w.supporter, &w.patient, &selection("", "")).await;
    assert_eq!(reply.error_code(), Some("FORBIDDEN"));
    app.grant_consent(&w.patient, &w.supporter, &["APPOINTMENTS"])
        .await;
    let reply = patient_field(&app, &w.supporter, &w.patient, &selection("", "")).await;
    assert_eq!(
        reply.ok()["patient"]["appointments"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let reply = app
        .graphql(
            "query($id: UUID!) { appointment(id: $id) { id kind } }",
            json!({ "id": appointment["id"] }),
            Some(&w.supporter.token),
        )
        .await;
    assert_eq!(reply.ok()["appointment"]["kind"], "INDIVIDUAL_CBT");

    // An in-person physiotherapy session: a location instead of a link.
    let reply = schedule(
        &app,
        &w.clinician,
        &w.patient,
        json!({ "kind": "PHYSICAL_THERAPY", "virtual": false, "meetingUrl": null, "location": "Clinic, room 4",
                "startsAt": at(3, 9, 0), "endsAt": at(3, 10, 0) }),
    )
    .await;
    let physio = &reply.ok()["scheduleAppointment"]["appointment"];
    assert_eq!(physio["location"], "Clinic, room 4");
    assert!(physio["meetingUrl"].is_null());
}

#[tokio::test]
async fn no_scheduling_off_the_care_team() {
    let app = spawn_app().await;
    let w = app.world().await;
    // The other clinician is not on the patient's care team: no such patient.
    let reply = schedule(&app, &w.other_clinician, &w.patient, json!({})).await;
    assert_eq!(reply.error_code(), Some("NOT_FOUND"));
    // Nor can a non-clinician book, whoever they are.
    for who in [&w.patient, &w.admin, &w.supporter, &w.facilitator] {
        let reply = schedule(&app, who, &w.patient, json!({})).await;
        assert_eq!(reply.error_code(), Some("FORBIDDEN"));
    }
    // Nothing was booked.
    let reply = patient_field(&app, &w.clinician, &w.patient, "appointments { id }").await;
    assert!(
        reply.ok()["patient"]["appointments"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn a_clinician_is_never_double_booked() {
    let app = spawn_app().await;
    let w = app.world().await;
    app.put_on_care_team(&w.other_patient, &w.clinician).await;
    app.put_on_care_team(&w.other_patient, &w.other_clinician)
        .await;
    let slot = |h1: u32, m1: u32, h2: u32, m2: u32| json!({ "startsAt": at(2, h1, m1), "endsAt": at(2, h2, m2) });

    let first = booked(&app, &w.clinician, &w.patient, slot(15, 0, 16, 0)).await;
    // Back to back, before and after, is fine (half-open intervals).
    booked(&app, &w.clinician, &w.other_patient, slot(16, 0, 17, 0)).await;
    booked(&app, &w.clinician, &w.patient, slot(14, 0, 15, 0)).await;
    // Any overlap, by a minute or entirely, is CONFLICT, whoever the patient.
    for (name, input) in [
        ("a minute over the start", slot(13, 30, 14, 1)),
        ("a minute into the next", slot(16, 59, 17, 30)),
        ("the same slot", slot(15, 0, 16, 0)),
        ("inside", slot(15, 15, 15, 45)),
        ("around", slot(13, 0, 18, 0)),
    ] {
        let reply = schedule(&app, &w.clinician, &w.other_patient, input).await;
        assert_eq!(
            reply.error_code(),
            Some("CONFLICT"),
            "{name}: {}",
            reply.body
        );
    }
    // Another clinician's calendar is their own.
    booked(
        &app,
        &w.other_clinician,
        &w.other_patient,
        slot(15, 0, 16, 0),
    )
    .await;

    // A cancelled appointment frees its time.
    set_status(
        &app,
        &w.clinician,
        &first,
        "CANCELLED",
        Some("patient unwell"),
    )
    .await
    .ok();
    let second = booked(&app, &w.clinician, &w.other_patient, slot(15, 0, 16, 0)).await;

    // Rescheduling follows the same rule, ignoring the appointment itself.
    let reply = reschedule(&app, &w.clinician, &second, at(2, 16, 30), at(2, 17, 30)).await;
    assert_eq!(reply.error_code(), Some("CONFLICT"));
    let reply = reschedule(&app, &w.clinician, &second, at(2, 15, 30), at(2, 16, 0)).await;
    let moved = &reply.ok()["rescheduleAppointment"]["appointment"];
    assert_eq!(time(&moved["startsAt"]), time(&json!(at(2, 15, 30))));
    let change = &moved["history"][1];
    assert_eq!(change["kind"], "RESCHEDULED");
    assert_eq!(change["reason"], "clinician's request");
    assert_eq!(
        time(&change["previousStartsAt"]),
        time(&json!(at(2, 15, 0)))
    );
    let reply = reschedule(&app, &w.clinician, &second, at(2, 18, 0), at(2, 17, 0)).await;
    assert_eq!(field(&reply), "endsAt");
}

#[tokio::test]
async fn concurrent_bookings_of_one_slot_land_once() {
    let app = spawn_app().await;
    let w = app.world().await;
    app.put_on_care_team(&w.other_patient, &w.clinician).await;
    let input = json!({ "startsAt": at(4, 10, 0), "endsAt": at(4, 11, 0) });
    let patients = [&w.patient, &w.other_patient];
    let replies = futures_util::future::join_all(
        (0..10).map(|i| schedule(&app, &w.clinician, patients[i % 2], input.clone())),
    )
    .await;
    let landed = replies
        .iter()
        .filter(|r| r.body.get("errors").is_none())
        .count();
    assert_eq!(
        landed,
        1,
        "{:?}",
        replies.iter().map(|r| &r.body).collect::<Vec<_>>()
    );
    for reply in replies.iter().filter(|r| r.body.get("errors").is_some()) {
        assert_eq!(reply.error_code(), Some("CONFLICT"), "{}", reply.body);
    }
}

#[tokio::test]
async fn bad_appointment_input_names_the_field() {
    let app = spawn_app().await;
    let w = app.world().await;
    for (input, expected) in [
        (
            json!({ "startsAt": at(2, 16, 0), "endsAt": at(2, 15, 0) }),
            "endsAt",
        ),
        (
            json!({ "startsAt": at(2, 16, 0), "endsAt": at(2, 16, 0) }),
            "endsAt",
        ),
        (
            json!({ "startsAt": at(2, 6, 0), "endsAt": at(2, 19, 0) }),
            "endsAt",
        ),
        (
            json!({ "startsAt": at(-10, 9, 0), "endsAt": at(-10, 10, 0) }),
            "startsAt",
        ),
        (json!({ "meetingUrl": null }), "meetingUrl"),
        (json!({ "meetingUrl": "meet.example.org/x" }), "meetingUrl"),
        (json!({ "virtual": false, "meetingUrl": null }), "location"),
        (json!({ "virtual": false, "location": "   " }), "location"),
        (
            json!({ "familyParticipantIds": [w.supporter.user_id] }),
            "familyParticipantIds",
        ),
    ] {
        let reply = schedule(&app, &w.clinician, &w.patient, input.clone()).await;
        assert_eq!(
            reply.error_code(),
            Some("BAD_USER_INPUT"),
            "{input}: {}",
            reply.body
        );
        assert_eq!(field(&reply), expected, "{input}");
    }
    // Unknown kinds never reach the resolver.
    let reply = schedule(
        &app,
        &w.clinician,
        &w.patient,
        json!({ "kind": "HYPNOSIS" }),
    )
    .await;
    assert_eq!(reply.error_code(), Some("BAD_USER_INPUT"));

    // Family members join with the patient's APPOINTMENTS consent, and only
    // when they are the patient's supporters.
    let mother = app.new_person(w.org, "Mary Mother", &["SUPPORTER"]).await;
    let stranger = app.new_person(w.org, "Stan Stranger", &["SUPPORTER"]).await;
    app.link_supporter(&w.patient, &mother).await;
    let family = json!({ "kind": "FAMILY_THERAPY", "familyParticipantIds": [mother.user_id] });
    let reply = schedule(&app, &w.clinician, &w.patient, family.clone()).await;
    assert_eq!(
        field(&reply),
        "familyParticipantIds",
        "linked, no consent yet"
    );
    app.grant_consent(&w.patient, &mother, &["APPOINTMENTS"])
        .await;
    app.grant_consent(&w.patient, &stranger, &["APPOINTMENTS"])
        .await;
    let reply = schedule(
        &app,
        &w.clinician,
        &w.patient,
        json!({ "kind": "FAMILY_THERAPY", "familyParticipantIds": [mother.user_id, stranger.user_id] }),
    )
    .await;
    assert_eq!(field(&reply), "familyParticipantIds", "consent, not linked");
    let reply = schedule(&app, &w.clinician, &w.patient, family).await;
    let session = &reply.ok()["scheduleAppointment"]["appointment"];
    assert_eq!(
        session["familyParticipants"][0]["id"],
        mother.user_id.to_string()
    );
    // The mother sees the session she joins.
    let reply = patient_field(
        &app,
        &mother,
        &w.patient,
        "appointments { id kind familyParticipants { id } }",
    )
    .await;
    assert_eq!(
        reply.ok()["patient"]["appointments"][0]["kind"],
        "FAMILY_THERAPY"
    );
}

#[tokio::test]
async fn appointment_statuses_move_once() {
    let app = spawn_app().await;
    let w = app.world().await;
    let yesterday = booked(
        &app,
        &w.clinician,
        &w.patient,
        json!({ "startsAt": at(-1, 15, 0), "endsAt": at(-1, 16, 0) }),
    )
    .await;
    let earlier = booked(
        &app,
        &w.clinician,
        &w.patient,
        json!({ "startsAt": at(-2, 15, 0), "endsAt": at(-2, 16, 0) }),
    )
    .await;
    let upcoming = booked(&app, &w.clinician, &w.patient, json!({})).await;

    let reply = set_status(&app, &w.clinician, &yesterday, "COMPLETED", None).await;
    assert_eq!(
        reply.ok()["setAppointmentStatus"]["appointment"]["status"],
        "COMPLETED"
    );
    let reply = set_status(&app, &w.clinician, &earlier, "NO_SHOW", None).await;
    assert_eq!(
        reply.ok()["setAppointmentStatus"]["appointment"]["status"],
        "NO_SHOW"
    );
    // Done is done: no cancelling or rescheduling what happened.
    for (appointment, status) in [
        (&yesterday, "CANCELLED"),
        (&earlier, "COMPLETED"),
        (&yesterday, "SCHEDULED"),
    ] {
        let reply = set_status(
            &app,
            &w.clinician,
            appointment,
            status,
            Some("change of mind"),
        )
        .await;
        assert_eq!(reply.error_code(), Some("CONFLICT"), "{status}");
    }
    let reply = reschedule(&app, &w.clinician, &yesterday, at(3, 9, 0), at(3, 10, 0)).await;
    assert_eq!(reply.error_code(), Some("CONFLICT"));

    // A session not yet begun cannot be completed or missed.
    let reply = set_status(&app, &w.clinician, &upcoming, "COMPLETED", None).await;
    assert_eq!(reply.error_code(), Some("CONFLICT"));
    // Cancelling needs a reason.
    let reply = set_status(&app, &w.clinician, &upcoming, "CANCELLED", Some("  ")).await;
    assert_eq!(reply.error_code(), Some("BAD_USER_INPUT"));
    assert_eq!(field(&reply), "reason");
    let reply = set_status(
        &app,
        &w.clinician,
        &upcoming,
        "CANCELLED",
        Some("clinician ill"),
    )
    .await;
    let cancelled = &reply.ok()["setAppointmentStatus"]["appointment"];
    assert_eq!(cancelled["status"], "CANCELLED");
    assert_eq!(cancelled["statusReason"], "clinician ill");
    let kinds: Vec<&str> = cancelled["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["SCHEDULED", "CANCELLED"]);
    assert_eq!(
        cancelled["history"][1]["actor"]["id"],
        w.clinician.user_id.to_string()
    );
}

#[tokio::test]
async fn my_agenda_is_the_clinicians_own_calendar() {
    let app = spawn_app().await;
    let w = app.world().await;
    app.put_on_care_team(&w.other_patient, &w.other_clinician)
        .await;
    let morning = booked(
        &app,
        &w.clinician,
        &w.patient,
        json!({ "startsAt": at(2, 9, 0), "endsAt": at(2, 10, 0) }),
    )
    .await;
    let afternoon = booked(
        &app,
        &w.clinician,
        &w.patient,
        json!({ "startsAt": at(2, 14, 0), "endsAt": at(2, 15, 0) }),
    )
    .await;
    let next_week = booked(
        &app,
        &w.clinician,
        &w.patient,
        json!({ "startsAt": at(9, 9, 0), "endsAt": at(9, 10, 0) }),
    )
    .await;
    booked(
        &app,
        &w.other_clinician,
        &w.other_patient,
        json!({ "startsAt": at(2, 9, 0), "endsAt": at(2, 10, 0) }),
    )
    .await;
    set_status(
        &app,
        &w.clinician,
        &afternoon,
        "CANCELLED",
        Some("rebooking"),
    )
    .await
    .ok();

    let agenda = |from: String, to: String, cancelled: bool| {
        let app = &app;
        let token = w.clinician.token.clone();
        async move {
            app.graphql(
                "query($from: DateTime!, $to: DateTime!, $c: Boolean) { myAgenda(from: $from, to: $to, includeCancelled: $c) { id status patient { id user { displayName } } } }",
                json!({ "from": from, "to": to, "c": cancelled }),
                Some(&token),
            )
            .await
        }
    };
    let ids = |reply: &GqlReply| -> Vec<String> {
        reply.ok()["myAgenda"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| id(&a["id"]))
            .collect()
    };
    // The window is half-open and overlap-based: 09:30 catches the 9–10 session.
    let reply = agenda(at(2, 9, 30), at(3, 0, 0), false).await;
    assert_eq!(ids(&reply), std::slice::from_ref(&morning));
    assert_eq!(
        reply.ok()["myAgenda"][0]["patient"]["user"]["displayName"],
        "Pat Patient"
    );
    let reply = agenda(at(2, 0, 0), at(3, 0, 0), true).await;
    assert_eq!(ids(&reply), [morning.clone(), afternoon]);
    let reply = agenda(at(1, 0, 0), at(14, 0, 0), false).await;
    assert_eq!(ids(&reply), [morning, next_week]);
    let reply = agenda(at(2, 10, 0), at(2, 14, 0), false).await;
    assert!(
        ids(&reply).is_empty(),
        "touching the window's edges is outside"
    );

    for (from, to) in [
        (at(3, 0, 0), at(2, 0, 0)),
        (at(2, 0, 0), at(2, 0, 0)),
        (at(0, 0, 0), at(100, 0, 0)),
    ] {
        let reply = agenda(from, to, false).await;
        assert_eq!(reply.error_code(), Some("BAD_USER_INPUT"));
        assert_eq!(field(&reply), "to");
    }
    let reply = app
        .graphql(
            "query($from: DateTime!, $to: DateTime!) { myAgenda(from: $from, to: $to) { id } }",
            json!({ "from": at(0, 0, 0), "to": at(7, 0, 0) }),
            Some(&w.patient.token),
        )
        .await;
    assert_eq!(reply.error_code(), Some("FORBIDDEN"));
}

#[tokio::test]
async fn clinical_notes_are_for_the_care_team_alone() {
    let app = spawn_app().await;
    let w = app.world().await;
    // A supporter holding every category a patient can grant still reads no notes.
    let all_consent = app.new_person(w.org, "Al Allconsent", &["SUPPORTER"]).await;
    app.grant_consent(
        &w.patient,
        &all_consent,
        &[
            "TAPER",
            "SYMPTOMS",
            "CHECK_INS",
            "GROUP_ACTIVITY",
            "APPOINTMENTS",
            "CARE_PLAN",
        ],
    )
    .await;
    let session = booked(
        &app,
        &w.clinician,
        &w.patient,
        json!({ "startsAt": at(-1, 15, 0), "endsAt": at(-1, 16, 0) }),
    )
    .await;
    let reply = app
        .graphql(
            ADD_NOTE,
            json!({ "input": { "patientId": w.patient.patient(), "appointmentId": session,
                "body": "CBT session 3: worked on payday trigger; cravings 4/10." } }),
            Some(&w.clinician.token),
        )
        .await;
    let note = reply.ok()["addClinicalNote"]["note"].clone();
    assert_eq!(note["author"]["id"], w.clinician.user_id.to_string());
    assert_eq!(note["appointmentId"], session.as_str());
    let note_id = id(&note["id"]);

    // Amendments are new notes; the original stays as written.
    let reply = app
        .graphql(
            ADD_NOTE,
            json!({ "input": { "patientId": w.patient.patient(), "amendsNoteId": note_id,
                "body": "Correction: cravings 5/10." } }),
            Some(&w.clinician.token),
        )
        .await;
    let amendment = &reply.ok()["addClinicalNote"]["note"];
    assert_eq!(amendment["amendsNoteId"], note_id.as_str());
    assert_eq!(
        amendment["appointmentId"],
        session.as_str(),
        "inherits the appointment"
    );

    // The confidentiality matrix.
    let read = "notes: clinicalNotes { id body amendsNoteId author { id } }";
    let mut callers = w.callers();
    callers.push(("supporter with every consent", &all_consent));
    for (name, person) in callers {
        let expect = match name {
            "care-team clinician" => Expect::Allowed,
            "other clinician"
            | "other patient"
            | "facilitator without consent"
            | "other organization's admin" => Expect::NotFound,
            _ => Expect::Forbidden,
        };
        let reply = patient_field(&app, person, &w.patient, read).await;
        check(&reply, expect, &format!("Patient.clinicalNotes as {name}"));
        if expect == Expect::Allowed {
            let notes = reply.ok()["patient"]["notes"].as_array().unwrap().clone();
            assert_eq!(notes.len(), 2);
            assert_eq!(
                notes[1]["body"],
                "CBT session 3: worked on payday trigger; cravings 4/10."
            );
        }
    }

    // Every read is audited: each note read, and each refusal.
    let reply = app
        .graphql(
            "query($p: UUID) { auditEvents(first: 100, patientId: $p) { edges { node { action actorUserId resourceType resourceId allowed } } } }",
            json!({ "p": w.patient.patient() }),
            Some(&w.admin.token),
        )
        .await;
    let events = reply.ok()["auditEvents"]["edges"]
        .as_array()
        .unwrap()
        .clone();
    let reads: Vec<&Value> = events
        .iter()
        .map(|e| &e["node"])
        .filter(|n| n["action"] == "clinicalNote.read")
        .collect();
    assert_eq!(reads.len(), 2);
    assert!(
        reads
            .iter()
            .all(|n| n["actorUserId"] == w.clinician.user_id.to_string()
                && n["resourceType"] == "ClinicalNote")
    );
    let refused = events
        .iter()
        .map(|e| &e["node"])
        .filter(|n| n["action"] == "patient.clinicalNotes" && n["allowed"] == false)
        .count();
    assert_eq!(
        refused, 5,
        "patient, facilitator with consent, two supporters, admin"
    );

    // Links must be the same patient's: a note on the other patient cannot
    // record this patient's session or amend this patient's note.
    app.put_on_care_team(&w.other_patient, &w.clinician).await;
    for (input, expected) in [
        (json!({ "appointmentId": session }), "appointmentId"),
        (
            json!({ "appointmentId": uuid::Uuid::now_v7() }),
            "appointmentId",
        ),
        (
            json!({ "amendsNoteId": uuid::Uuid::now_v7() }),
            "amendsNoteId",
        ),
        (json!({ "body": "   " }), "body"),
    ] {
        let mut full = json!({ "patientId": w.other_patient.patient(), "body": "note" });
        for (k, v) in input.as_object().unwrap() {
            full[k] = v.clone();
        }
        if expected == "amendsNoteId" {
            full["amendsNoteId"] = json!(note_id); // the first patient's note
        }
        let reply = app
            .graphql(ADD_NOTE, json!({ "input": full }), Some(&w.clinician.token))
            .await;
        assert_eq!(reply.error_code(), Some("BAD_USER_INPUT"), "{}", reply.body);
        assert_eq!(field(&reply), expected);
    }

    // Writing notes: care-team clinicians only.
    for (name, person) in w.callers() {
        let expect = match name {
            "care-team clinician" => Expect::Allowed,
            "other clinician" => Expect::NotFound,
            _ => Expect::Forbidden,
        };
        let reply = app
            .graphql(
                ADD_NOTE,
                json!({ "input": { "patientId": w.patient.patient(), "body": format!("note by {name}") } }),
                Some(&person.token),
            )
            .await;
        check(&reply, expect, &format!("addClinicalNote as {name}"));
    }
}

#[tokio::test]
async fn the_patient_keeps_a_recovery_plan_with_its_history() {
    let app = spawn_app().await;
    let w = app.world().await;
    let plan =
        "carePlan { triggers copingStrategies warningSigns supportContacts updatedAt version }";
    // No plan yet: an empty one.
    let reply = patient_field(&app, &w.patient, &w.patient, plan).await;
    let empty = &reply.ok()["patient"]["carePlan"];
    assert!(empty["updatedAt"].is_null());
    assert_eq!(empty["version"], 0);
    assert_eq!(empty["triggers"], json!([]));

    // The patient writes it; the care team adds to it.
    let reply = update_plan(
        &app,
        &w.patient,
        &w.patient,
        json!({ "triggers": ["  payday "] }),
    )
    .await;
    let first = &reply.ok()["updateCarePlan"]["carePlan"];
    assert_eq!(first["triggers"], json!(["payday"]));
    assert_eq!(first["version"], 1);
    assert_eq!(first["updatedBy"]["id"], w.patient.user_id.to_string());
    assert!(first["updatedAt"].is_string());
    let reply = update_plan(
        &app,
        &w.clinician,
        &w.patient,
        json!({ "triggers": ["payday", "chronic back pain flare"], "expectedVersion": 1 }),
    )
    .await;
    assert_eq!(reply.ok()["updateCarePlan"]["carePlan"]["version"], 2);
    // An edit from a stale copy is refused rather than lost.
    let reply = update_plan(
        &app,
        &w.patient,
        &w.patient,
        json!({ "expectedVersion": 1 }),
    )
    .await;
    assert_eq!(reply.error_code(), Some("CONFLICT"));

    // The history keeps every version in full: who, when, what.
    let reply = patient_field(
        &app,
        &w.patient,
        &w.patient,
        "carePlanHistory { edges { node { version triggers copingStrategies editedBy { id } editedAt } } }",
    )
    .await;
    let history: Vec<Value> = reply.ok()["patient"]["carePlanHistory"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"].clone())
        .collect();
    assert_eq!(history.len(), 2);
    assert_eq!(history[0]["version"], 2);
    assert_eq!(
        history[0]["editedBy"]["id"],
        w.clinician.user_id.to_string()
    );
    assert_eq!(history[1]["triggers"], json!(["payday"]));
    assert_eq!(
        history[1]["copingStrategies"],
        json!(["call my sister", "walk 20 minutes"])
    );
    assert_eq!(history[1]["editedBy"]["id"], w.patient.user_id.to_string());
    // It pages, newest first.
    let page = "carePlanHistory(first: 1) { edges { node { version } } pageInfo { hasNextPage endCursor } }";
    let reply = patient_field(&app, &w.patient, &w.patient, page).await;
    let first = reply.ok()["patient"]["carePlanHistory"].clone();
    assert_eq!(first["edges"][0]["node"]["version"], 2);
    assert_eq!(first["pageInfo"]["hasNextPage"], true);
    let cursor = first["pageInfo"]["endCursor"].as_str().unwrap();
    let next = format!(
        "carePlanHistory(first: 1, after: \"{cursor}\") {{ edges {{ node {{ version }} }} pageInfo {{ hasNextPage }} }}"
    );
    let reply = patient_field(&app, &w.patient, &w.patient, &next).await;
    let second = &reply.ok()["patient"]["carePlanHistory"];
    assert_eq!(second["edges"][0]["node"]["version"], 1);
    assert_eq!(second["pageInfo"]["hasNextPage"], false);

    // Another patient cannot edit it; nor can roles that never edit plans.
    let reply = update_plan(&app, &w.other_patient, &w.patient, json!({})).await;
    assert_eq!(reply.error_code(), Some("NOT_FOUND"));
    for who in [&w.admin, &w.supporter, &w.consented_facilitator] {
        assert_eq!(
            update_plan(&app, who, &w.patient, json!({}))
                .await
                .error_code(),
            Some("FORBIDDEN")
        );
    }
    assert_eq!(
        update_plan(&app, &w.other_clinician, &w.patient, json!({}))
            .await
            .error_code(),
        Some("NOT_FOUND")
    );

    // Bad lists name their field.
    for (input, expected) in [
        (
            json!({ "copingStrategies": ["ok", " "] }),
            "copingStrategies",
        ),
        (json!({ "warningSigns": vec!["x"; 51] }), "warningSigns"),
        (
            json!({ "supportContacts": ["x".repeat(501)] }),
            "supportContacts",
        ),
    ] {
        let reply = update_plan(&app, &w.patient, &w.patient, input).await;
        assert_eq!(reply.error_code(), Some("BAD_USER_INPUT"));
        assert_eq!(field(&reply), expected);
    }

    // Supporters read it with the CARE_PLAN consent, history included.
    let both = "carePlan { triggers updatedBy { id } } carePlanHistory { edges { node { version editedBy { id } } } }";
    let reply = patient_field(&app, &w.supporter, &w.patient, both).await;
    assert_eq!(reply.error_code(), Some("FORBIDDEN"));
    app.grant_consent(&w.patient, &w.supporter, &["CARE_PLAN"])
        .await;
    let reply = patient_field(&app, &w.supporter, &w.patient, both).await;
    assert_eq!(
        reply.ok()["patient"]["carePlan"]["triggers"],
        json!(["payday", "chronic back pain flare"])
    );
    let edges = reply.ok()["patient"]["carePlanHistory"]["edges"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(edges.len(), 2);
    // They learn the patient's own edits, not who on the care team edited.
    assert!(reply.ok()["patient"]["carePlan"]["updatedBy"].is_null());
    assert!(edges[0]["node"]["editedBy"].is_null());
    assert_eq!(
        edges[1]["node"]["editedBy"]["id"],
        w.patient.user_id.to_string()
    );
}

/// Every care operation × every caller kind.
#[tokio::test]
async fn care_authorization_matrix() {
    let app = spawn_app().await;
    let w = app.world().await;

    // Creating programs: admins only (their own organization's).
    for (name, person) in w.callers() {
        let expect = match name {
            "admin" | "other organization's admin" => Expect::Allowed,
            _ => Expect::Forbidden,
        };
        let reply = create_program(&app, person, &format!("Program of {name}"), 12).await;
        check(&reply, expect, &format!("createProgram as {name}"));
    }

    // Enrolling: the care team or an admin.
    for (name, person) in w.callers() {
        let expect = match name {
            "care-team clinician" | "admin" => Expect::Allowed,
            "other clinician" | "other organization's admin" => Expect::NotFound,
            _ => Expect::Forbidden,
        };
        let program = program(&app, &w, &format!("Enrolled by {name}")).await;
        let reply = enroll(&app, person, &w.patient, &program).await;
        check(&reply, expect, &format!("enrollPatient as {name}"));
    }

    // Advancing: the care team or an admin.
    for (name, person) in w.callers() {
        let expect = match name {
            "care-team clinician" | "admin" => Expect::Allowed,
            "other clinician" | "other organization's admin" => Expect::NotFound,
            _ => Expect::Forbidden,
        };
        let program = program(&app, &w, &format!("Advanced by {name}")).await;
        let enrollment = id(
            &enroll(&app, &w.admin, &w.patient, &program).await.ok()["enrollPatient"]["enrollment"]
                ["id"],
        );
        let reply = advance(&app, person, &enrollment, json!({ "phase": "ACTIVE" })).await;
        check(&reply, expect, &format!("advanceEnrollment as {name}"));
    }

    // Reading enrollments: the patient, the care team, admins.
    for (name, person) in w.callers() {
        let expect = match name {
            "patient" | "care-team clinician" | "admin" => Expect::Allowed,
            "facilitator with consent" | "supporter with consent" => Expect::Forbidden,
            _ => Expect::NotFound,
        };
        let reply = patient_field(&app, person, &w.patient, "enrollments { id }").await;
        check(&reply, expect, &format!("Patient.enrollments as {name}"));
    }

    // Scheduling: care-team clinicians.
    for (hour, (name, person)) in (8..).zip(w.callers()) {
        let expect = match name {
            "care-team clinician" => Expect::Allowed,
            "other clinician" => Expect::NotFound,
            _ => Expect::Forbidden,
        };
        let reply = schedule(
            &app,
            person,
            &w.patient,
            json!({ "startsAt": at(5, hour, 0), "endsAt": at(5, hour, 30) }),
        )
        .await;
        check(&reply, expect, &format!("scheduleAppointment as {name}"));
    }

    // Rescheduling and setting a status: care-team clinicians.
    let appointment = booked(
        &app,
        &w.clinician,
        &w.patient,
        json!({ "startsAt": at(6, 8, 0), "endsAt": at(6, 9, 0) }),
    )
    .await;
    for (hour, (name, person)) in (10..).zip(w.callers()) {
        let expect = match name {
            "care-team clinician" => Expect::Allowed,
            "other clinician" => Expect::NotFound,
            _ => Expect::Forbidden,
        };
        let reply = reschedule(&app, person, &appointment, at(6, hour, 0), at(6, hour, 30)).await;
        check(&reply, expect, &format!("rescheduleAppointment as {name}"));
    }
    for (name, person) in w.callers() {
        let expect = match name {
            "care-team clinician" => Expect::Allowed,
            "other clinician" => Expect::NotFound,
            _ => Expect::Forbidden,
        };
        let fresh = booked(
            &app,
            &w.clinician,
            &w.patient,
            json!({ "startsAt": at(7, 8, 0), "endsAt": at(7, 9, 0) }),
        )
        .await;
        let reply = set_status(&app, person, &fresh, "CANCELLED", Some("matrix")).await;
        check(&reply, expect, &format!("setAppointmentStatus as {name}"));
        if expect != Expect::Allowed {
            set_status(&app, &w.clinician, &fresh, "CANCELLED", Some("matrix"))
                .await
                .ok();
        }
    }

    // Reading appointments: the patient, the care team, APPOINTMENTS
    // consent holders (here a facilitator holding APPOINTMENTS and CARE_PLAN).
    let holder = app.new_person(w.org, "Hal Holder", &["FACILITATOR"]).await;
    app.grant_consent(&w.patient, &holder, &["APPOINTMENTS", "CARE_PLAN"])
        .await;
    let mut callers = w.callers();
    callers.push(("consent holder", &holder));
    for (name, person) in callers.iter().copied() {
        let (field_expect, one_expect) = match name {
            "patient" | "care-team clinician" | "consent holder" => {
                (Expect::Allowed, Expect::Allowed)
            }
            "facilitator with consent" | "supporter with consent" | "admin" => {
                (Expect::Forbidden, Expect::NotFound)
            }
            _ => (Expect::NotFound, Expect::NotFound),
        };
        let reply = patient_field(&app, person, &w.patient, "appointments { id }").await;
        check(
            &reply,
            field_expect,
            &format!("Patient.appointments as {name}"),
        );
        let reply = app
            .graphql(
                "query($id: UUID!) { appointment(id: $id) { id } }",
                json!({ "id": appointment }),
                Some(&person.token),
            )
            .await;
        check(&reply, one_expect, &format!("appointment(id) as {name}"));
    }

    // The agenda: clinicians (their own).
    for (name, person) in w.callers() {
        let expect = match name {
            "care-team clinician" | "other clinician" => Expect::Allowed,
            _ => Expect::Forbidden,
        };
        let reply = app
            .graphql(
                "query($from: DateTime!, $to: DateTime!) { myAgenda(from: $from, to: $to) { id } }",
                json!({ "from": at(0, 0, 0), "to": at(30, 0, 0) }),
                Some(&person.token),
            )
            .await;
        check(&reply, expect, &format!("myAgenda as {name}"));
        if name == "other clinician" {
            assert!(reply.ok()["myAgenda"].as_array().unwrap().is_empty());
        }
    }

    // Editing the recovery plan: the patient or the care team.
    for (name, person) in w.callers() {
        let expect = match name {
            "patient" | "care-team clinician" => Expect::Allowed,
            "other patient" | "other clinician" => Expect::NotFound,
            _ => Expect::Forbidden,
        };
        let reply = update_plan(&app, person, &w.patient, json!({})).await;
        check(&reply, expect, &format!("updateCarePlan as {name}"));
    }
    // Reading it: the patient, the care team, CARE_PLAN consent holders.
    for (name, person) in callers {
        let expect = match name {
            "patient" | "care-team clinician" | "consent holder" => Expect::Allowed,
            "facilitator with consent" | "supporter with consent" | "admin" => Expect::Forbidden,
            _ => Expect::NotFound,
        };
        let reply = patient_field(
            &app,
            person,
            &w.patient,
            "carePlan { version } carePlanHistory { edges { node { version } } }",
        )
        .await;
        check(&reply, expect, &format!("Patient.carePlan as {name}"));
    }
}

#[tokio::test]
async fn absurd_dates_in_agendas_appointments_and_reschedules_are_bad_input() {
    let app = spawn_app().await;
    let w = app.world().await;
    let agenda =
        "query($from: DateTime!, $to: DateTime!) { myAgenda(from: $from, to: $to) { id } }";
    for (from, to, named) in [
        ("9999-12-30T00:00:00Z", "9999-12-31T00:00:00Z", "from"),
        ("0001-01-01T00:00:00Z", "0001-01-02T00:00:00Z", "from"),
        (&at(0, 0, 0) as &str, "9999-12-31T00:00:00Z", "to"),
    ] {
        let reply = app
            .graphql(
                agenda,
                json!({ "from": from, "to": to }),
                Some(&w.clinician.token),
            )
            .await;
        assert_eq!(reply.error_code(), Some("BAD_USER_INPUT"), "{}", reply.body);
        assert_eq!(field(&reply), named, "{}", reply.body);
    }
    let reply = app
        .graphql(
            "query($id: UUID!, $from: DateTime) { patient(id: $id) { appointments(from: $from) { id } } }",
            json!({ "id": w.patient.patient(), "from": "9999-12-31T00:00:00Z" }),
            Some(&w.clinician.token),
        )
        .await;
    assert_eq!(reply.error_code(), Some("BAD_USER_INPUT"), "{}", reply.body);
    assert_eq!(field(&reply), "from");

    let booked = booked(&app, &w.clinician, &w.patient, json!({})).await;
    let reply = reschedule(
        &app,
        &w.clinician,
        &booked,
        "9999-12-31T10:00:00Z".into(),
        "9999-12-31T11:00:00Z".into(),
    )
    .await;
    assert_eq!(reply.error_code(), Some("BAD_USER_INPUT"), "{}", reply.body);
    assert_eq!(field(&reply), "startsAt", "{}", reply.body);
    let reply = reschedule(&app, &w.clinician, &booked, at(800, 10, 0), at(800, 11, 0)).await;
    assert_eq!(reply.error_code(), Some("BAD_USER_INPUT"), "{}", reply.body);
    assert_eq!(field(&reply), "startsAt", "{}", reply.body);
}
