-- The blog example: tables, read views and write functions.
--
-- Rerunnable: everything the example owns is dropped and recreated, so
-- `fraiseql db init --example blog` always leaves the same schema behind.
-- Reads come from v_user and tv_post (columns `id` and `data jsonb`, one
-- document per row). v_post defines a post's document; tv_post holds it finished,
-- one row per post, kept equal to v_post by triggers on the base tables, so that a
-- read costs an index scan instead of an aggregate of comments per post. Writes go
-- through fn_*(input jsonb) returns jsonb, which answer {"status", "message",
-- "object", "code"} and never raise for bad input.

DROP VIEW IF EXISTS v_post, v_user CASCADE;
DROP FUNCTION IF EXISTS fn_create_post(jsonb), fn_update_post(jsonb),
    fn_delete_post(jsonb), fn_add_comment(jsonb),
    blog_iso_utc(timestamptz), blog_try_uuid(text), blog_result(text, text, jsonb, text),
    blog_current_user_id(), blog_tags(jsonb), blog_try_timestamptz(text),
    blog_refresh_tv_post(uuid[]), blog_tv_post_on_post(), blog_tv_post_on_comment(),
    blog_tv_post_on_user(), blog_tv_post_rebuild() CASCADE;
DROP TABLE IF EXISTS tv_post, tb_comment, tb_post, tb_user CASCADE;

CREATE TABLE tb_user (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name        text NOT NULL,
    email       text NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE tb_post (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    author_id     uuid NOT NULL REFERENCES tb_user (id) ON DELETE CASCADE,
    title         text NOT NULL CHECK (btrim(title) <> ''),
    body          text NOT NULL,
    tags          text[] NOT NULL DEFAULT '{}',
    published_at  timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE tb_comment (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    post_id     uuid NOT NULL REFERENCES tb_post (id) ON DELETE CASCADE,
    author_id   uuid NOT NULL REFERENCES tb_user (id) ON DELETE CASCADE,
    body        text NOT NULL CHECK (btrim(body) <> ''),
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- v_post looks up the author by primary key and the comments by post in
-- created_at order; the foreign keys need their own indexes for the cascades.
CREATE INDEX tb_post_author_id_idx ON tb_post (author_id);
CREATE INDEX tb_post_published_at_idx ON tb_post (published_at);
CREATE INDEX tb_post_tags_idx ON tb_post USING gin (tags);
CREATE INDEX tb_comment_post_id_created_at_idx ON tb_comment (post_id, created_at, id);
CREATE INDEX tb_comment_author_id_idx ON tb_comment (author_id);

-- Timestamps are written in UTC with six fractional digits whatever the
-- session's TimeZone, so a document's text never depends on server settings.
-- STABLE like to_char itself, so that the planner inlines it into the views.
CREATE FUNCTION blog_iso_utc(ts timestamptz) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"')
$$;

CREATE VIEW v_user AS
SELECT u.id,
       jsonb_build_object(
           'id', u.id,
           'name', u.name,
           'email', u.email,
           'created_at', blog_iso_utc(u.created_at)
       ) AS data
FROM tb_user u;

-- Author and comments are scalar subqueries (not joins with GROUP BY) so that
-- `... LIMIT n` builds only n documents.
CREATE VIEW v_post AS
SELECT p.id,
       jsonb_build_object(
           'id', p.id,
           'title', p.title,
           'body', p.body,
           'published_at', blog_iso_utc(p.published_at),
           'tags', to_jsonb(p.tags),
           'author', (SELECT a.data FROM v_user a WHERE a.id = p.author_id),
           'comments', coalesce((
               SELECT jsonb_agg(
                          jsonb_build_object(
                              'id', c.id,
                              'body', c.body,
                              'created_at', blog_iso_utc(c.created_at),
                              'author', ca.data
                          )
                          ORDER BY c.created_at, c.id)
               FROM tb_comment c
               JOIN v_user ca ON ca.id = c.author_id
               WHERE c.post_id = p.id
           ), '[]'::jsonb)
       ) AS data
FROM tb_post p;

-- The projection: v_post's rows, stored. `data` is what filters and ordering read;
-- `data_text` is the same document as text, what a read returns, stored so that no
-- read converts JSONB to text again (that conversion was most of a list's database
-- time). Rows of up to 8 kB stay inline and uncompressed (toast_tuple_target), so
-- reading one is a heap fetch, not a decompression. Deleting a post deletes its row
-- by cascade.
CREATE TABLE tv_post (
    id         uuid PRIMARY KEY REFERENCES tb_post (id) ON DELETE CASCADE,
    data       jsonb NOT NULL,
    data_text  text GENERATED ALWAYS AS (data::text) STORED
) WITH (toast_tuple_target = 8160);

-- Rebuild the projection rows of `ids` from v_post. The rows are locked first, in id
-- order (concurrent refreshes of one post queue instead of deadlocking); in READ
-- COMMITTED each statement then takes a new snapshot, so a refresh that waited sees
-- the writes of the one it waited for and never stores an older document over a
-- newer one. SECURITY DEFINER: the documents are built whatever row-level policy
-- applies to the writer (tv_post has its own policy for readers, rbac.sql).
CREATE FUNCTION blog_refresh_tv_post(ids uuid[]) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
    IF cardinality(ids) = 0 THEN
        RETURN;
    END IF;
    PERFORM 1 FROM tv_post WHERE id = ANY (ids) ORDER BY id FOR UPDATE;
    INSERT INTO tv_post (id, data)
    SELECT v.id, v.data FROM v_post v WHERE v.id = ANY (ids)
    ON CONFLICT (id) DO UPDATE SET data = EXCLUDED.data
        WHERE tv_post.data IS DISTINCT FROM EXCLUDED.data;
END
$$;

-- Statement-level triggers with transition tables: one refresh per statement, so a
-- bulk write (the seed) is one set-based refresh, not one per row.
CREATE FUNCTION blog_tv_post_on_post() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        PERFORM blog_refresh_tv_post(ARRAY(SELECT id FROM new_rows UNION SELECT id FROM old_rows));
    ELSE
        PERFORM blog_refresh_tv_post(ARRAY(SELECT id FROM new_rows));
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION blog_tv_post_on_comment() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM blog_refresh_tv_post(ARRAY(SELECT DISTINCT post_id FROM new_rows));
    ELSIF TG_OP = 'UPDATE' THEN
        PERFORM blog_refresh_tv_post(ARRAY(SELECT post_id FROM new_rows UNION SELECT post_id FROM old_rows));
    ELSE
        PERFORM blog_refresh_tv_post(ARRAY(SELECT DISTINCT post_id FROM old_rows));
    END IF;
    RETURN NULL;
END
$$;

-- A user appears in the documents of their posts and of the posts they commented on.
CREATE FUNCTION blog_tv_post_on_user() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
    PERFORM blog_refresh_tv_post(ARRAY(
        SELECT p.id FROM tb_post p WHERE p.author_id IN (SELECT id FROM new_rows)
        UNION
        SELECT c.post_id FROM tb_comment c WHERE c.author_id IN (SELECT id FROM new_rows)
    ));
    RETURN NULL;
END
$$;

CREATE FUNCTION blog_tv_post_rebuild() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
    PERFORM blog_refresh_tv_post(ARRAY(SELECT id FROM tb_post));
    RETURN NULL;
END
$$;

-- A deleted post leaves tv_post by the foreign key's cascade; a deleted user takes
-- their posts and comments with them, whose own triggers refresh the rest.
CREATE TRIGGER tv_post_post_insert AFTER INSERT ON tb_post
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION blog_tv_post_on_post();
CREATE TRIGGER tv_post_post_update AFTER UPDATE ON tb_post
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION blog_tv_post_on_post();
CREATE TRIGGER tv_post_comment_insert AFTER INSERT ON tb_comment
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION blog_tv_post_on_comment();
CREATE TRIGGER tv_post_comment_update AFTER UPDATE ON tb_comment
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION blog_tv_post_on_comment();
CREATE TRIGGER tv_post_comment_delete AFTER DELETE ON tb_comment
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION blog_tv_post_on_comment();
CREATE TRIGGER tv_post_comment_truncate AFTER TRUNCATE ON tb_comment
    FOR EACH STATEMENT EXECUTE FUNCTION blog_tv_post_rebuild();
CREATE TRIGGER tv_post_user_update AFTER UPDATE ON tb_user
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION blog_tv_post_on_user();

-- Helpers shared by the write functions ------------------------------------

CREATE FUNCTION blog_result(status text, message text, object jsonb, code text DEFAULT NULL)
RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
    SELECT jsonb_strip_nulls(jsonb_build_object('status', status, 'message', message, 'code', code))
           || jsonb_build_object('object', object)
$$;

-- NULL instead of an exception for text that is not a UUID.
CREATE FUNCTION blog_try_uuid(value text) RETURNS uuid
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE
        WHEN value ~* '^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$'
        THEN value::uuid
    END
$$;

-- NULL instead of an exception for text that is not a timestamp.
CREATE FUNCTION blog_try_timestamptz(value text) RETURNS timestamptz
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN value::timestamptz;
EXCEPTION WHEN invalid_datetime_format OR datetime_field_overflow THEN
    RETURN NULL;
END
$$;

-- The user FraiseQL put in the transaction (SET LOCAL fraiseql.user_id), when
-- it is a UUID; tokens whose subject is not a UUID simply give NULL.
CREATE FUNCTION blog_current_user_id() RETURNS uuid
LANGUAGE sql STABLE AS $$
    SELECT blog_try_uuid(nullif(current_setting('fraiseql.user_id', true), ''))
$$;

-- A JSON array of strings as text[]; NULL when the value is not one.
CREATE FUNCTION blog_tags(value jsonb) RETURNS text[]
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE
        WHEN value IS NULL OR jsonb_typeof(value) = 'null' THEN '{}'::text[]
        WHEN jsonb_typeof(value) = 'array'
             AND NOT EXISTS (SELECT 1 FROM jsonb_array_elements(value) e
                             WHERE jsonb_typeof(e) <> 'string')
        THEN ARRAY(SELECT jsonb_array_elements_text(value))
    END
$$;

-- Write functions -----------------------------------------------------------

-- input: {title, body, author_id?, tags?, published_at?}; author_id defaults
-- to the request's user.
CREATE FUNCTION fn_create_post(input jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    v_author uuid := coalesce(blog_try_uuid(input->>'author_id'), blog_current_user_id());
    v_title text := btrim(coalesce(input->>'title', ''));
    v_tags text[] := blog_tags(input->'tags');
    v_id uuid;
BEGIN
    IF v_title = '' THEN
        RETURN blog_result('invalid_input', 'title must not be empty', NULL, 'EMPTY_TITLE');
    END IF;
    IF input->>'body' IS NULL THEN
        RETURN blog_result('invalid_input', 'body is required', NULL, 'MISSING_BODY');
    END IF;
    IF v_tags IS NULL THEN
        RETURN blog_result('invalid_input', 'tags must be a list of strings', NULL, 'INVALID_TAGS');
    END IF;
    IF input->>'published_at' IS NOT NULL AND blog_try_timestamptz(input->>'published_at') IS NULL THEN
        RETURN blog_result('invalid_input', 'published_at is not a timestamp', NULL, 'INVALID_TIMESTAMP');
    END IF;
    IF v_author IS NULL OR NOT EXISTS (SELECT 1 FROM tb_user WHERE id = v_author) THEN
        RETURN blog_result('not_found', 'author not found', NULL, 'AUTHOR_NOT_FOUND');
    END IF;

    INSERT INTO tb_post (author_id, title, body, tags, published_at)
    VALUES (v_author, v_title, input->>'body', v_tags, blog_try_timestamptz(input->>'published_at'))
    RETURNING id INTO v_id;

    RETURN blog_result('success', 'post created', (SELECT data FROM tv_post WHERE id = v_id));
END
$$;

-- input: {id, title?, body?, tags?, published_at?}; absent or null keys keep their
-- value (a GraphQL input object sends unset fields as null).
CREATE FUNCTION fn_update_post(input jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    v_id uuid := blog_try_uuid(input->>'id');
    v_has_tags boolean := coalesce(jsonb_typeof(input->'tags'), 'null') <> 'null';
    v_tags text[] := blog_tags(input->'tags');
BEGIN
    IF input->>'title' IS NOT NULL AND btrim(input->>'title') = '' THEN
        RETURN blog_result('invalid_input', 'title must not be empty', NULL, 'EMPTY_TITLE');
    END IF;
    IF v_has_tags AND v_tags IS NULL THEN
        RETURN blog_result('invalid_input', 'tags must be a list of strings', NULL, 'INVALID_TAGS');
    END IF;
    IF input->>'published_at' IS NOT NULL AND blog_try_timestamptz(input->>'published_at') IS NULL THEN
        RETURN blog_result('invalid_input', 'published_at is not a timestamp', NULL, 'INVALID_TIMESTAMP');
    END IF;

    UPDATE tb_post SET
        title = coalesce(btrim(input->>'title'), title),
        body = coalesce(input->>'body', body),
        tags = CASE WHEN v_has_tags THEN v_tags ELSE tags END,
        published_at = coalesce(blog_try_timestamptz(input->>'published_at'), published_at),
        updated_at = now()
    WHERE id = v_id;

    IF NOT FOUND THEN
        RETURN blog_result('not_found', 'post not found', NULL, 'POST_NOT_FOUND');
    END IF;
    RETURN blog_result('success', 'post updated', (SELECT data FROM tv_post WHERE id = v_id));
END
$$;

-- input: {id}; the object is the post as it was before deletion.
CREATE FUNCTION fn_delete_post(input jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    v_id uuid := blog_try_uuid(input->>'id');
    v_doc jsonb;
BEGIN
    SELECT data INTO v_doc FROM tv_post WHERE id = v_id;
    DELETE FROM tb_post WHERE id = v_id;
    IF NOT FOUND THEN
        RETURN blog_result('not_found', 'post not found', NULL, 'POST_NOT_FOUND');
    END IF;
    RETURN blog_result('success', 'post deleted', v_doc);
END
$$;

-- input: {post_id, body, author_id?}; the object is the comment document.
CREATE FUNCTION fn_add_comment(input jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    v_post uuid := blog_try_uuid(input->>'post_id');
    v_author uuid := coalesce(blog_try_uuid(input->>'author_id'), blog_current_user_id());
    v_body text := btrim(coalesce(input->>'body', ''));
    v_comment tb_comment;
BEGIN
    IF v_body = '' THEN
        RETURN blog_result('invalid_input', 'body must not be empty', NULL, 'EMPTY_BODY');
    END IF;
    IF v_post IS NULL OR NOT EXISTS (SELECT 1 FROM tb_post WHERE id = v_post) THEN
        RETURN blog_result('not_found', 'post not found', NULL, 'POST_NOT_FOUND');
    END IF;
    IF v_author IS NULL OR NOT EXISTS (SELECT 1 FROM tb_user WHERE id = v_author) THEN
        RETURN blog_result('not_found', 'author not found', NULL, 'AUTHOR_NOT_FOUND');
    END IF;

    INSERT INTO tb_comment (post_id, author_id, body)
    VALUES (v_post, v_author, v_body)
    RETURNING * INTO v_comment;

    RETURN blog_result('success', 'comment added', jsonb_build_object(
        'id', v_comment.id,
        'body', v_comment.body,
        'created_at', blog_iso_utc(v_comment.created_at),
        'author', (SELECT data FROM v_user WHERE id = v_author)
    ));
END
$$;
