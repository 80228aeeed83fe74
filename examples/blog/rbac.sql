-- The blog example's roles, permissions and assignments, and its row-level policy.
--
-- Applied after fraiseql/rbac/model.sql (the fraiseql_rbac tables) and the seed.
-- Rerunnable: the example's roles are deleted (with their edges, grants and
-- assignments, by cascade) and recreated.
--
--   viewer  post:read, comment:read
--   author  inherits viewer; post:create, comment:*
--   editor  inherits author; post:*
--   admin   inherits editor; *
--
-- Every seeded user is an author in every tenant; the first user by email is an
-- editor in tenant 'acme' only, and an admin nowhere.

DELETE FROM fraiseql_rbac.role WHERE name IN ('viewer', 'author', 'editor', 'admin');

INSERT INTO fraiseql_rbac.role (name, description) VALUES
    ('viewer', 'reads posts and comments'),
    ('author', 'writes posts and comments'),
    ('editor', 'changes anyone''s posts'),
    ('admin',  'everything');

INSERT INTO fraiseql_rbac.role_parent (role, parent) VALUES
    ('author', 'viewer'),
    ('editor', 'author'),
    ('admin',  'editor');

INSERT INTO fraiseql_rbac.role_permission (role, permission) VALUES
    ('viewer', 'post:read'),
    ('viewer', 'comment:read'),
    ('author', 'post:create'),
    ('author', 'comment:*'),
    ('editor', 'post:*'),
    ('admin',  '*');

INSERT INTO fraiseql_rbac.user_role (user_id, tenant_id, role)
SELECT id::text, '*', 'author' FROM tb_user;

INSERT INTO fraiseql_rbac.user_role (user_id, tenant_id, role)
SELECT id::text, 'acme', 'editor' FROM tb_user ORDER BY email LIMIT 1;

-- Row level: a draft (published_at IS NULL) is visible only to its author, the user
-- the request names through SET LOCAL fraiseql.user_id (blog_current_user_id()).
-- PostgreSQL applies policies to roles that neither own the table nor are superusers:
-- blog_reader is such a role (an app connects with options=-c role=blog_reader), and
-- v_post checks its reader's rights (security_invoker) so the policy reaches its rows.
-- tv_post, the projection the app reads, carries the same rule over its documents.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'blog_reader') THEN
        CREATE ROLE blog_reader NOLOGIN;
    END IF;
END
$$;

GRANT USAGE ON SCHEMA public, fraiseql_rbac TO blog_reader;
GRANT SELECT ON tb_user, tb_post, tb_comment, v_user, v_post, tv_post TO blog_reader;
GRANT SELECT ON ALL TABLES IN SCHEMA fraiseql_rbac TO blog_reader;

ALTER VIEW v_post SET (security_invoker = true);
ALTER TABLE tb_post ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS tb_post_drafts_by_author ON tb_post;
CREATE POLICY tb_post_drafts_by_author ON tb_post FOR SELECT
    USING (published_at IS NOT NULL OR author_id = blog_current_user_id());

ALTER TABLE tv_post ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS tv_post_drafts_by_author ON tv_post;
CREATE POLICY tv_post_drafts_by_author ON tv_post FOR SELECT
    USING (data->>'published_at' IS NOT NULL
           OR (data->'author'->>'id')::uuid = blog_current_user_id());
