// Diesel's view of the tables, in the layout `diesel print-schema` gives for schema/postgres.
// The test `schema_matches_migrations` checks it against the migrations of both backends.

diesel::table! {
    offices (id) {
        id -> Int8,
        code -> Text,
        government -> Text,
        name -> Text,
        unit -> Nullable<Text>,
        address -> Text,
        city -> Text,
        postal_code -> Nullable<Text>,
        phone -> Nullable<Text>,
        website -> Nullable<Text>,
        email -> Nullable<Text>,
        emblem_path -> Nullable<Text>,
        time_zone -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    people (id) {
        id -> Int8,
        username -> Text,
        full_name -> Text,
        nip -> Nullable<Text>,
        nik -> Nullable<Text>,
        email -> Nullable<Text>,
        rank -> Nullable<Text>,
        position -> Nullable<Text>,
        organization -> Nullable<Text>,
        password_hash -> Nullable<Text>,
        active -> Bool,
        created_at -> Timestamp,
    }
}

diesel::table! {
    person_roles (id) {
        id -> Int8,
        person_id -> Int8,
        office_id -> Int8,
        role -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    sop_versions (id) {
        id -> Int8,
        office_id -> Int8,
        version -> Int4,
        code -> Text,
        title -> Text,
        definition -> Text,
        sha256 -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    requests (id) {
        id -> Int8,
        office_id -> Int8,
        sop_version_id -> Int8,
        applicant_id -> Int8,
        applicant_organization -> Text,
        application_name -> Text,
        subdomain -> Nullable<Text>,
        application_type -> Nullable<Text>,
        current_step -> Nullable<Text>,
        status -> Text,
        filed_at -> Timestamp,
        updated_at -> Timestamp,
        finished_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    letters (id) {
        id -> Int8,
        office_id -> Int8,
        request_id -> Nullable<Int8>,
        kind -> Text,
        public_id -> Text,
        status -> Text,
        letter_date -> Nullable<Date>,
        sifat -> Text,
        hal -> Text,
        sender -> Text,
        addressee -> Text,
        classification_code -> Nullable<Text>,
        fields -> Text,
        created_by -> Nullable<Int8>,
        created_at -> Timestamp,
        voided_at -> Nullable<Timestamp>,
        void_reason -> Nullable<Text>,
    }
}

diesel::table! {
    letter_revisions (id) {
        id -> Int8,
        letter_id -> Int8,
        revision -> Int4,
        purpose -> Text,
        sha256 -> Text,
        size -> Int8,
        pdf -> Bytea,
        actor_id -> Nullable<Int8>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    number_registers (id) {
        id -> Int8,
        office_id -> Int8,
        code -> Text,
        name -> Text,
        kind -> Text,
        pattern -> Text,
        settings -> Text,
        letter_kind -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    register_counters (register_id, year) {
        register_id -> Int8,
        year -> Int4,
        last_seq -> Int4,
        last_date -> Nullable<Date>,
    }
}

diesel::table! {
    issued_numbers (id) {
        id -> Int8,
        register_id -> Int8,
        year -> Int4,
        seq -> Int4,
        sub -> Int4,
        number -> Text,
        letter_date -> Date,
        status -> Text,
        letter_id -> Nullable<Int8>,
        reason -> Nullable<Text>,
        issued_by -> Int8,
        issued_at -> Timestamp,
        void_reason -> Nullable<Text>,
        voided_by -> Nullable<Int8>,
        voided_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    audit_log (id) {
        id -> Int8,
        at -> Timestamp,
        actor_id -> Nullable<Int8>,
        office_id -> Nullable<Int8>,
        action -> Text,
        subject -> Text,
        detail -> Text,
        prev_hash -> Text,
        hash -> Text,
        chain -> Int8,
        seq -> Int8,
    }
}

diesel::table! {
    office_calendars (office_id) {
        office_id -> Int8,
        working_days -> Text,
        opens -> Text,
        closes -> Text,
        day_reading -> Text,
    }
}

diesel::table! {
    office_holidays (id) {
        id -> Int8,
        office_id -> Int8,
        day -> Date,
        name -> Text,
    }
}

diesel::table! {
    request_steps (id) {
        id -> Int8,
        request_id -> Int8,
        step_no -> Text,
        entered_at -> Timestamp,
        deadline_at -> Nullable<Timestamp>,
        completed_at -> Nullable<Timestamp>,
        completed_by -> Nullable<Int8>,
        decision -> Nullable<Text>,
        next_step -> Nullable<Text>,
        note -> Nullable<Text>,
    }
}

diesel::table! {
    request_items (id) {
        id -> Int8,
        request_id -> Int8,
        kind -> Text,
        item -> Text,
        value -> Text,
        content -> Nullable<Bytea>,
        sha256 -> Nullable<Text>,
        step_no -> Nullable<Text>,
        created_by -> Int8,
        created_at -> Timestamp,
    }
}

diesel::table! {
    api_tokens (id) {
        id -> Int8,
        person_id -> Int8,
        name -> Text,
        token_sha256 -> Text,
        created_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    classification_codes (id) {
        id -> Int8,
        office_id -> Int8,
        code -> Text,
        title -> Text,
        updated_by -> Nullable<Int8>,
        updated_at -> Timestamp,
        retired_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    letter_signatures (id) {
        id -> Int8,
        letter_id -> Int8,
        revision -> Int4,
        person_id -> Int8,
        field_name -> Text,
        kind -> Text,
        level -> Text,
        signer -> Text,
        signed_at -> Timestamp,
    }
}

diesel::table! {
    report_runs (id) {
        id -> Int8,
        office_id -> Int8,
        kind -> Text,
        period -> Text,
        letter_id -> Nullable<Int8>,
        made_by -> Text,
        instance -> Text,
        made_at -> Timestamp,
    }
}

diesel::table! {
    inbox (id) {
        id -> Int8,
        person_id -> Int8,
        kind -> Text,
        subject -> Text,
        letter_id -> Nullable<Int8>,
        created_at -> Timestamp,
        read_at -> Nullable<Timestamp>,
        request_id -> Nullable<Int8>,
    }
}

diesel::table! {
    account_handovers (id) {
        id -> Int8,
        request_id -> Int8,
        account -> Text,
        sealed -> Nullable<Bytea>,
        created_by -> Int8,
        created_at -> Timestamp,
        revealed_by -> Nullable<Int8>,
        revealed_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    jobs (id) {
        id -> Int8,
        person_id -> Int8,
        kind -> Text,
        total -> Int4,
        done -> Int4,
        failed -> Int4,
        status -> Text,
        message -> Nullable<Text>,
        outcomes -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        finished_at -> Nullable<Timestamp>,
        instance -> Nullable<Text>,
    }
}

diesel::table! {
    notifications (id) {
        id -> Int8,
        event -> Text,
        office_id -> Int8,
        request_id -> Nullable<Int8>,
        letter_id -> Nullable<Int8>,
        payload -> Text,
        created_at -> Timestamp,
        fanned_out_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    notification_deliveries (id) {
        id -> Int8,
        notification_id -> Int8,
        channel -> Text,
        target -> Text,
        status -> Text,
        attempts -> Int4,
        next_attempt_at -> Timestamp,
        delivered_at -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
    }
}

diesel::table! {
    retention_schedule (office_id, code) {
        office_id -> Int8,
        code -> Text,
        active_years -> Int4,
        inactive_years -> Int4,
        disposition -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    sessions (id) {
        id -> Int8,
        token_sha256 -> Text,
        person_id -> Int8,
        csrf -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    attempts (scope, subject) {
        scope -> Text,
        subject -> Text,
        failures -> Int4,
        locked_until -> Nullable<Timestamp>,
        updated_at -> Timestamp,
    }
}

diesel::joinable!(person_roles -> people (person_id));
diesel::joinable!(person_roles -> offices (office_id));
diesel::joinable!(sop_versions -> offices (office_id));
diesel::joinable!(requests -> offices (office_id));
diesel::joinable!(requests -> sop_versions (sop_version_id));
diesel::joinable!(requests -> people (applicant_id));
diesel::joinable!(letters -> offices (office_id));
diesel::joinable!(letters -> requests (request_id));
diesel::joinable!(letters -> people (created_by));
diesel::joinable!(letter_revisions -> letters (letter_id));
diesel::joinable!(letter_revisions -> people (actor_id));
diesel::joinable!(number_registers -> offices (office_id));
diesel::joinable!(register_counters -> number_registers (register_id));
diesel::joinable!(issued_numbers -> number_registers (register_id));
diesel::joinable!(issued_numbers -> letters (letter_id));
diesel::joinable!(audit_log -> people (actor_id));
diesel::joinable!(audit_log -> offices (office_id));
diesel::joinable!(office_calendars -> offices (office_id));
diesel::joinable!(office_holidays -> offices (office_id));
diesel::joinable!(request_steps -> requests (request_id));
diesel::joinable!(request_steps -> people (completed_by));
diesel::joinable!(request_items -> requests (request_id));
diesel::joinable!(request_items -> people (created_by));
diesel::joinable!(api_tokens -> people (person_id));
diesel::joinable!(classification_codes -> offices (office_id));
diesel::joinable!(letter_signatures -> letters (letter_id));
diesel::joinable!(letter_signatures -> people (person_id));
diesel::joinable!(report_runs -> offices (office_id));
diesel::joinable!(report_runs -> letters (letter_id));
diesel::joinable!(inbox -> people (person_id));
diesel::joinable!(inbox -> letters (letter_id));
diesel::joinable!(inbox -> requests (request_id));
diesel::joinable!(account_handovers -> requests (request_id));
diesel::joinable!(jobs -> people (person_id));
diesel::joinable!(notifications -> offices (office_id));
diesel::joinable!(notifications -> requests (request_id));
diesel::joinable!(notifications -> letters (letter_id));
diesel::joinable!(notification_deliveries -> notifications (notification_id));
diesel::joinable!(retention_schedule -> offices (office_id));
diesel::joinable!(sessions -> people (person_id));

diesel::allow_tables_to_appear_in_same_query!(
    offices,
    people,
    person_roles,
    sop_versions,
    requests,
    letters,
    letter_revisions,
    number_registers,
    register_counters,
    issued_numbers,
    audit_log,
    office_calendars,
    office_holidays,
    request_steps,
    request_items,
    api_tokens,
    classification_codes,
    letter_signatures,
    report_runs,
    inbox,
    account_handovers,
    jobs,
    notifications,
    notification_deliveries,
    retention_schedule,
    sessions,
    attempts,
);
