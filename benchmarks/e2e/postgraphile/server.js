// PostGraphile 4 serving the blog example's tables (tb_user, tb_post, tb_comment) for
// benchmarks/e2e. Started by bench_e2e.py: DATABASE_URL and PORT come from the
// environment; it listens on 127.0.0.1 only.
//
// Settings follow PostGraphile's production advice (no query log, no GraphiQL, no
// schema watching, setof functions without nulls). Smart tags give the tables the same
// GraphQL names as the other servers (post, user, comment) and hide the example's
// views, projection table and SQL functions, which FraiseQL uses but PostGraphile does
// not need.
// Simplify-inflector plus simpleCollections "only" make lists plain arrays:
// posts(first: 20, orderBy: ID_ASC) { id author { name } comments { body } }.
"use strict";

const http = require("http");
const { postgraphile } = require("postgraphile");
const { makeJSONPgSmartTagsPlugin } = require("graphile-utils");
const PgSimplifyInflectorPlugin = require("@graphile-contrib/pg-simplify-inflector");

const omitted = { tags: { omit: true } };
const SmartTags = makeJSONPgSmartTagsPlugin({
  version: 1,
  config: {
    class: {
      tb_user: { tags: { name: "user" } },
      tb_post: { tags: { name: "post" } },
      tb_comment: { tags: { name: "comment" } },
      v_user: omitted,
      v_post: omitted,
      tv_post: omitted,
    },
    constraint: {
      // comment.post_id does not match the table's SQL name (tb_post), so the inflector
      // would say commentsByPostId; name the back relation like the other servers do.
      tb_comment_post_id_fkey: {
        tags: { foreignFieldName: "comments", foreignSimpleFieldName: "comments" },
      },
    },
    procedure: Object.fromEntries(
      [
        "fn_create_post", "fn_update_post", "fn_delete_post", "fn_add_comment",
        "blog_iso_utc", "blog_try_uuid", "blog_try_timestamptz", "blog_result",
        "blog_current_user_id", "blog_tags", "blog_refresh_tv_post",
      ].map((name) => [name, omitted]),
    ),
  },
});

const handler = postgraphile(process.env.DATABASE_URL, "public", {
  appendPlugins: [PgSimplifyInflectorPlugin, SmartTags],
  simpleCollections: "only",
  graphileBuildOptions: { pgOmitListSuffix: true },
  setofFunctionsContainNulls: false,
  ignoreRBAC: false,
  legacyRelations: "omit",
  disableQueryLog: true,
  graphiql: false,
  watchPg: false,
  retryOnInitFail: false,
  dynamicJson: true,
});

const port = Number(process.env.PORT || 5000);
http.createServer(handler).listen(port, "127.0.0.1", () => {
  console.log(`postgraphile listening on http://127.0.0.1:${port}/graphql`);
});
