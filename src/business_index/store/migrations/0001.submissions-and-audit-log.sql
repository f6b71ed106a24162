-- The submissions store as it shipped before migrations: name submissions and the audit log.
-- Written to be safe on a store created by that version (every statement IF NOT EXISTS).

CREATE TABLE IF NOT EXISTS name_submissions (
        submission_id TEXT PRIMARY KEY,
        uprn BIGINT NOT NULL,
        business_name TEXT NOT NULL,
        note TEXT,
        status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
        submitted_by TEXT NOT NULL,
        submitted_at TEXT NOT NULL,
        single_line_address TEXT,
        name_at_submission TEXT,
        gazetteer_name_at_submission TEXT,
        index_version TEXT,
        decided_by TEXT,
        decided_at TEXT,
        decision_reason TEXT,
        idempotency_key TEXT,
        request_hash TEXT,
        UNIQUE (submitted_by, idempotency_key));

CREATE INDEX IF NOT EXISTS name_submissions_uprn ON name_submissions (uprn, status);

CREATE INDEX IF NOT EXISTS name_submissions_status ON name_submissions (status, submitted_at);

CREATE TABLE IF NOT EXISTS audit_log (
        entry_id TEXT PRIMARY KEY,
        at TEXT NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        entity TEXT NOT NULL,
        entity_id TEXT NOT NULL,
        before_json TEXT,
        after_json TEXT);

CREATE INDEX IF NOT EXISTS audit_log_at ON audit_log (at);
