-- FraiseQL's RBAC model, in the schema fraiseql_rbac. Idempotent: safe to apply again.
--
--   role             a named role
--   role_parent      role inherits every permission (and the name) of parent
--   role_permission  'resource:action'; '*' on either side is a wildcard, '*' alone is all
--   user_role        an assignment; tenant_id '*' means in every tenant
--   version          one counter, bumped by a statement trigger on each of the above, so a
--                    process can tell with one cheap SELECT that its cached grants are stale
CREATE SCHEMA IF NOT EXISTS fraiseql_rbac;

CREATE TABLE IF NOT EXISTS fraiseql_rbac.role (
    name         text PRIMARY KEY CHECK (name ~ '^[A-Za-z0-9_.-]+$'),
    description  text NOT NULL DEFAULT ''
);

CREATE TABLE IF NOT EXISTS fraiseql_rbac.role_parent (
    role    text NOT NULL REFERENCES fraiseql_rbac.role (name) ON DELETE CASCADE,
    parent  text NOT NULL REFERENCES fraiseql_rbac.role (name) ON DELETE CASCADE,
    PRIMARY KEY (role, parent)
);

CREATE TABLE IF NOT EXISTS fraiseql_rbac.role_permission (
    role        text NOT NULL REFERENCES fraiseql_rbac.role (name) ON DELETE CASCADE,
    permission  text NOT NULL
        CHECK (permission = '*' OR permission ~ '^(\*|[A-Za-z0-9_.-]+):(\*|[A-Za-z0-9_.-]+)$'),
    PRIMARY KEY (role, permission)
);

CREATE TABLE IF NOT EXISTS fraiseql_rbac.user_role (
    user_id    text NOT NULL,
    tenant_id  text NOT NULL DEFAULT '*',
    role       text NOT NULL REFERENCES fraiseql_rbac.role (name) ON DELETE CASCADE,
    PRIMARY KEY (user_id, tenant_id, role)
);

CREATE TABLE IF NOT EXISTS fraiseql_rbac.version (
    singleton  boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    value      bigint NOT NULL DEFAULT 0
);
INSERT INTO fraiseql_rbac.version (singleton, value) VALUES (true, 0) ON CONFLICT DO NOTHING;

CREATE OR REPLACE FUNCTION fraiseql_rbac.bump_version() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE fraiseql_rbac.version SET value = value + 1;
    RETURN NULL;
END
$$;

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['role', 'role_parent', 'role_permission', 'user_role'] LOOP
        EXECUTE format('DROP TRIGGER IF EXISTS bump_version ON fraiseql_rbac.%I', t);
        EXECUTE format('CREATE TRIGGER bump_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE '
                       'ON fraiseql_rbac.%I FOR EACH STATEMENT '
                       'EXECUTE FUNCTION fraiseql_rbac.bump_version()', t);
    END LOOP;
END
$$;
