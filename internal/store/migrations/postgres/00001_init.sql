-- +goose Up
CREATE TABLE plans (
    id                      BIGSERIAL PRIMARY KEY,
    name                    VARCHAR(50)  NOT NULL UNIQUE,
    stripe_price_id_monthly VARCHAR(100),
    stripe_price_id_yearly  VARCHAR(100),
    description             TEXT         NOT NULL DEFAULT '',
    created_at              TIMESTAMPTZ  NOT NULL DEFAULT now(),
    "order"                 INTEGER      NOT NULL DEFAULT 10 CHECK ("order" >= 0)
);
CREATE INDEX plan_order_name_idx ON plans ("order", name);
CREATE INDEX plan_price_monthly_idx ON plans (stripe_price_id_monthly);
CREATE INDEX plan_price_yearly_idx ON plans (stripe_price_id_yearly);

CREATE TABLE users (
    id                         BIGSERIAL PRIMARY KEY,
    password                   VARCHAR(255) NOT NULL,
    last_login                 TIMESTAMPTZ,
    is_superuser               BOOLEAN      NOT NULL DEFAULT FALSE,
    username                   VARCHAR(150) NOT NULL,
    -- case-folded copies carry the case-insensitive uniqueness (REFERENCE §14 items 4 and 6)
    username_fold              VARCHAR(150) NOT NULL,
    first_name                 VARCHAR(150) NOT NULL DEFAULT '',
    last_name                  VARCHAR(150) NOT NULL DEFAULT '',
    email                      VARCHAR(254) NOT NULL DEFAULT '',
    email_fold                 VARCHAR(254) NOT NULL DEFAULT '',
    email_verified             BOOLEAN      NOT NULL DEFAULT FALSE,
    is_staff                   BOOLEAN      NOT NULL DEFAULT FALSE,
    is_active                  BOOLEAN      NOT NULL DEFAULT TRUE,
    date_joined                TIMESTAMPTZ  NOT NULL DEFAULT now(),
    date_of_birth              VARCHAR(10),
    plan_id                    BIGINT REFERENCES plans (id) ON DELETE SET NULL,
    stripe_subscription_id     VARCHAR(255),
    stripe_subscription_status VARCHAR(50),
    stripe_customer_id         VARCHAR(255),
    updated_at                 TIMESTAMPTZ  NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX user_username_fold_uq ON users (username_fold);
CREATE UNIQUE INDEX user_email_fold_uq ON users (email_fold) WHERE email_fold <> '';
CREATE INDEX user_date_joined_idx ON users (date_joined);
CREATE INDEX user_plan_status_idx ON users (plan_id, stripe_subscription_status);
CREATE INDEX user_stripe_customer_idx ON users (stripe_customer_id);
CREATE INDEX user_stripe_subscription_idx ON users (stripe_subscription_id);

CREATE TABLE social_accounts (
    id          BIGSERIAL PRIMARY KEY,
    user_id     BIGINT       NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    provider    VARCHAR(30)  NOT NULL,
    uid         VARCHAR(191) NOT NULL,
    extra_data  TEXT         NOT NULL DEFAULT '{}',
    date_joined TIMESTAMPTZ  NOT NULL DEFAULT now(),
    last_login  TIMESTAMPTZ,
    UNIQUE (provider, uid)
);
CREATE INDEX social_user_idx ON social_accounts (user_id);

-- Refresh tokens are tracked by family so that a reused (already rotated)
-- token revokes every token descended from the same login.
CREATE TABLE refresh_tokens (
    jti        VARCHAR(64) PRIMARY KEY,
    family     VARCHAR(64) NOT NULL,
    user_id    BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    issued_at  TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    used_at    TIMESTAMPTZ,
    revoked_at TIMESTAMPTZ
);
CREATE INDEX refresh_family_idx ON refresh_tokens (family);
CREATE INDEX refresh_user_idx ON refresh_tokens (user_id);
CREATE INDEX refresh_expires_idx ON refresh_tokens (expires_at);

CREATE TABLE questionnaires (
    id                   BIGSERIAL PRIMARY KEY,
    user_id              BIGINT       NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    position             VARCHAR(255) NOT NULL,
    industry             VARCHAR(255) NOT NULL,
    experience_level     VARCHAR(10)  NOT NULL,
    company_size         VARCHAR(10)  NOT NULL,
    location             VARCHAR(255),
    application_timeline VARCHAR(20)  NOT NULL,
    job_description      TEXT,
    submitted_at         TIMESTAMPTZ  NOT NULL DEFAULT now(),
    resume               VARCHAR(255),
    resume_name          VARCHAR(100),
    resume_text          TEXT,
    resume_status        VARCHAR(16)  NOT NULL DEFAULT 'none',
    resume_error         TEXT,
    updated_at           TIMESTAMPTZ  NOT NULL DEFAULT now()
);
CREATE INDEX cv_user_submitted_idx ON questionnaires (user_id, submitted_at);
CREATE INDEX cv_submitted_at_idx ON questionnaires (submitted_at);

CREATE TABLE ai_responses (
    id               BIGSERIAL PRIMARY KEY,
    questionnaire_id BIGINT      NOT NULL REFERENCES questionnaires (id) ON DELETE CASCADE,
    user_id          BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    response_text    TEXT        NOT NULL DEFAULT '',
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    status           VARCHAR(16) NOT NULL DEFAULT 'pending',
    error            TEXT,
    error_status     INTEGER,
    provider         VARCHAR(32) NOT NULL DEFAULT '',
    model            VARCHAR(100) NOT NULL DEFAULT '',
    prompt           TEXT        NOT NULL DEFAULT '',
    match_json       TEXT,
    pdf_key          VARCHAR(255),
    finished_at      TIMESTAMPTZ
);
CREATE INDEX ai_quest_created_idx ON ai_responses (questionnaire_id, created_at);
CREATE INDEX ai_user_created_idx ON ai_responses (user_id, created_at);
CREATE INDEX ai_created_at_idx ON ai_responses (created_at);

-- Every Stripe event id is stored once: the primary key is what makes
-- processing exactly-once under concurrent deliveries.
CREATE TABLE webhook_events (
    id           VARCHAR(255) PRIMARY KEY,
    type         VARCHAR(100) NOT NULL,
    received_at  TIMESTAMPTZ  NOT NULL DEFAULT now(),
    processed_at TIMESTAMPTZ,
    outcome      VARCHAR(32)  NOT NULL DEFAULT 'processing'
);
CREATE INDEX webhook_received_idx ON webhook_events (received_at);

CREATE TABLE payments (
    id                 BIGSERIAL PRIMARY KEY,
    user_id            BIGINT       NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    stripe_invoice_id  VARCHAR(255) NOT NULL UNIQUE,
    amount             BIGINT       NOT NULL DEFAULT 0,
    currency           VARCHAR(10)  NOT NULL DEFAULT '',
    status             VARCHAR(32)  NOT NULL,
    period_start       TIMESTAMPTZ,
    period_end         TIMESTAMPTZ,
    hosted_invoice_url TEXT,
    created_at         TIMESTAMPTZ  NOT NULL DEFAULT now()
);
CREATE INDEX payment_user_created_idx ON payments (user_id, created_at);

-- Registry of stored blobs, so that orphaned files can be found without
-- listing the object store.
CREATE TABLE files (
    id           BIGSERIAL PRIMARY KEY,
    key          VARCHAR(255) NOT NULL UNIQUE,
    user_id      BIGINT REFERENCES users (id) ON DELETE SET NULL,
    kind         VARCHAR(32)  NOT NULL,
    content_type VARCHAR(100) NOT NULL DEFAULT '',
    size         BIGINT       NOT NULL DEFAULT 0,
    created_at   TIMESTAMPTZ  NOT NULL DEFAULT now()
);
CREATE INDEX files_user_idx ON files (user_id);

-- Outgoing e-mail: written in the same transaction as the change that needs
-- it, delivered by a job (or only kept here when no SMTP server is set).
CREATE TABLE outbox_emails (
    id         BIGSERIAL PRIMARY KEY,
    to_addr    VARCHAR(254) NOT NULL,
    subject    VARCHAR(255) NOT NULL,
    body_text  TEXT         NOT NULL,
    kind       VARCHAR(32)  NOT NULL,
    user_id    BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_at TIMESTAMPTZ  NOT NULL DEFAULT now(),
    sent_at    TIMESTAMPTZ,
    attempts   INTEGER      NOT NULL DEFAULT 0,
    last_error TEXT
);
CREATE INDEX outbox_created_idx ON outbox_emails (created_at);

-- +goose Down
DROP TABLE outbox_emails;
DROP TABLE files;
DROP TABLE payments;
DROP TABLE webhook_events;
DROP TABLE ai_responses;
DROP TABLE questionnaires;
DROP TABLE refresh_tokens;
DROP TABLE social_accounts;
DROP TABLE users;
DROP TABLE plans;
