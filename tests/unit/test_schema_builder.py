"""The generated schema: SDL, metadata for the fast path, mutation outcomes."""

import datetime
import enum
from types import SimpleNamespace

import pytest
from graphql import graphql_sync, print_schema, print_type

import fraiseql.types as ft
from fraiseql.schema import FieldMeta, RootFieldMeta, SchemaError, TypeMeta, build_schema
from fraiseql.schema.mutations import input_payload, mutation_outcome


def declare_blog(registry: ft.Registry) -> SimpleNamespace:
    r = {"registry": registry}

    @ft.enum(**r)
    class PostStatus(enum.Enum):
        DRAFT = "draft"
        PUBLISHED = "published"

    @ft.type(sql_source="v_user", **r)
    class User:
        id: ft.ID
        name: str
        created_at: datetime.datetime

    @ft.type(**r)
    class Comment:
        id: ft.ID
        body: str
        author: User

    @ft.type(sql_source="v_post", **r)
    class Post:
        id: ft.ID
        title: str
        body: str
        published_at: datetime.datetime | None
        tags: list[str]
        author: User
        comments: list[Comment]
        status: PostStatus

        @ft.field
        def excerpt(self, info, length: int = 80) -> str:
            return self.body[:length]

    ft.list_query(Post, name="posts", **r)
    ft.get_query(Post, name="post", **r)
    ft.connection_query(Post, name="postsConnection", **r)

    @ft.query(**r)
    def post_count(info, status: PostStatus | None = None) -> int:
        return 0

    @ft.input(**r)
    class CreatePostInput:
        title: str
        author_id: ft.ID
        tags: list[str] | None = None
        status: PostStatus = PostStatus.DRAFT
        idempotency_key: str | None = None

    @ft.type(**r)
    class CreatePostSuccess:
        message: str
        post: Post

    @ft.type(**r)
    class CreatePostError:
        message: str
        code: str

    @ft.mutation(function="fn_create_post", invalidates=("tb_post",), **r)
    class CreatePost:
        input: CreatePostInput
        success: CreatePostSuccess
        error: CreatePostError

    return SimpleNamespace(**locals())


@pytest.fixture(scope="module")
def blog() -> SimpleNamespace:
    registry = ft.Registry()
    declared = declare_blog(registry)
    declared.schema = build_schema(registry)
    return declared


def signature(field) -> str:
    args = ", ".join(f"{name}: {arg.type}" for name, arg in field.args.items())
    return f"({args}): {field.type}"


def test_root_fields_sdl(blog: SimpleNamespace) -> None:
    fields = blog.schema.query_type.fields
    assert signature(fields["posts"]) == (
        "(where: PostWhereInput, orderBy: [PostOrderByInput!], limit: Int, offset: Int): [Post!]!"
    )
    assert signature(fields["post"]) == "(id: ID!): Post"
    assert signature(fields["postsConnection"]) == (
        "(first: Int, after: String, where: PostWhereInput, orderBy: [PostOrderByInput!])"
        ": PostConnection!"
    )
    assert signature(fields["postCount"]) == "(status: PostStatus): Int!"
    sdl = print_schema(blog.schema)
    assert "createPost(input: CreatePostInput!): CreatePostResult!" in sdl
    assert "union CreatePostResult = CreatePostSuccess | CreatePostError" in sdl


def test_object_types_use_camel_case(blog: SimpleNamespace) -> None:
    post = print_type(blog.schema.get_type("Post"))
    assert "publishedAt: DateTime\n" in post
    assert "tags: [String!]!" in post
    assert "excerpt(length: Int! = 80): String!" in post
    assert "status: PostStatus!" in post


def test_filter_and_order_inputs(blog: SimpleNamespace) -> None:
    where = print_type(blog.schema.get_type("PostWhereInput"))
    for line in ("title: StringFilter", "publishedAt: DateTimeFilter", "tags: StringListFilter",
                 "author: UserWhereInput", "status: PostStatusFilter", "and: [PostWhereInput!]",
                 "or: [PostWhereInput!]", "not: PostWhereInput"):
        assert line in where
    assert "comments" not in where  # lists of objects are not filterable
    assert print_type(blog.schema.get_type("PostOrderByInput")).endswith(
        "input PostOrderByInput {\n  field: PostOrderField!\n"
        "  direction: OrderDirection = ASC\n  nulls: NullsOrder\n}"
    )
    order_fields = list(blog.schema.get_type("PostOrderField").values)
    assert order_fields == ["id", "title", "body", "publishedAt", "status"]
    assert list(blog.schema.get_type("StringListFilter").fields) == ["contains", "isNull"]
    assert "contains" not in blog.schema.get_type("IDFilter").fields


def test_connection_types(blog: SimpleNamespace) -> None:
    assert print_type(blog.schema.get_type("PostConnection")).splitlines()[2:4] == [
        "  edges: [PostEdge!]!", "  pageInfo: PageInfo!",
    ]
    assert list(blog.schema.get_type("PageInfo").fields) == [
        "hasNextPage", "hasPreviousPage", "startCursor", "endCursor",
    ]


def test_metadata_for_the_fast_path(blog: SimpleNamespace) -> None:
    post_type = blog.schema.get_type("Post")
    meta = post_type.extensions["fraiseql"]
    assert isinstance(meta, TypeMeta)
    assert (meta.cls, meta.graphql_name, meta.sql_source) == (blog.Post, "Post", "v_post")
    assert meta.fields["publishedAt"] == FieldMeta("published_at", "publishedAt", "published_at")
    assert meta.fields["excerpt"].computed
    assert post_type.fields["publishedAt"].extensions["fraiseql"].source_key == "published_at"
    assert blog.schema.get_type("Comment").extensions["fraiseql"].sql_source is None
    assert meta.projection_of is None

    fields = blog.schema.query_type.fields
    kinds = {name: f.extensions["fraiseql"].kind for name, f in fields.items()}
    assert kinds == {"posts": "list", "post": "one", "postsConnection": "connection",
                     "postCount": "custom"}
    posts_meta: RootFieldMeta = fields["posts"].extensions["fraiseql"]
    assert posts_meta.type_meta is meta
    query, params = posts_meta.build_sql({"where": {"title": {"eq": "x"}}, "limit": 3})
    assert params == {"p0": "x", "p1": 3}
    query, params = fields["post"].extensions["fraiseql"].build_sql({"id": "abc"})
    assert params == {"p0": "abc"}

    create = blog.schema.mutation_type.fields["createPost"].extensions["fraiseql"]
    assert (create.kind, create.function, create.invalidates) == (
        "mutation", "fn_create_post", ("tb_post",)
    )


def test_introspection(blog: SimpleNamespace) -> None:
    result = graphql_sync(
        blog.schema, '{ __type(name: "Post") { fields { name } } __schema { types { name } } }'
    )
    assert result.errors is None
    assert "publishedAt" in [f["name"] for f in result.data["__type"]["fields"]]
    assert {"PostWhereInput", "PostConnection", "DateTime"} <= {
        t["name"] for t in result.data["__schema"]["types"]
    }


def test_mutation_outcome_selects_the_type_by_status(blog: SimpleNamespace) -> None:
    document = {"id": "1", "title": "Hi"}
    success = mutation_outcome(
        {"status": "success", "message": "created", "object": document},
        blog.CreatePostSuccess, blog.CreatePostError,
    )
    assert success.typename == "CreatePostSuccess"
    assert success == {"message": "created", "post": document}
    error = mutation_outcome(
        {"status": "noop:duplicate", "message": "exists", "object": None},
        blog.CreatePostSuccess, blog.CreatePostError,
    )
    assert error.typename == "CreatePostError"
    assert error == {"message": "exists", "code": "noop:duplicate"}
    coded = mutation_outcome({"status": "failed", "message": "m", "code": "E42"},
                             blog.CreatePostSuccess, blog.CreatePostError)
    assert coded["code"] == "E42"


def test_mutation_input_gets_defaults_and_json_values(blog: SimpleNamespace) -> None:
    assert input_payload(blog.CreatePostInput, {"title": "t", "author_id": "a"}) == {
        "title": "t", "author_id": "a", "tags": None, "status": "DRAFT", "idempotency_key": None,
    }


def test_bad_arguments_surface_as_graphql_errors(blog: SimpleNamespace) -> None:
    result = graphql_sync(blog.schema, '{ posts(where: {title: {between: "a"}}) { id } }')
    assert "between" in result.errors[0].message
    result = graphql_sync(blog.schema, '{ posts(where: {publishedAt: {gt: "soon"}}) { id } }')
    assert "DateTime must be an ISO 8601 string" in result.errors[0].message


def test_a_schema_needs_a_query() -> None:
    with pytest.raises(SchemaError, match="at least one query"):
        build_schema(ft.Registry())


def test_type_metadata_carries_the_view_a_projection_stores() -> None:
    import importlib

    example = importlib.import_module("examples.blog.app")
    meta = example.schema.get_type("Post").extensions["fraiseql"]
    assert (meta.sql_source, meta.projection_of) == ("tv_post", "v_post")
