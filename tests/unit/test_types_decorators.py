import dataclasses
import datetime
import enum

import pytest

import fraiseql.types as ft
from fraiseql.types.annotations import AnnotationError, TypeRef, parse_annotation
from fraiseql.types.definitions import definition_of
from fraiseql.types.documents import document_shape, from_document
from fraiseql.types.registry import RegistryError


@pytest.fixture
def registry() -> ft.Registry:
    return ft.Registry()


def test_decorated_classes_stay_usable(registry: ft.Registry) -> None:
    @ft.type(sql_source="v_user", registry=registry)
    class User:
        """Someone who writes."""

        id: ft.ID
        name: str
        nickname: str | None = None

    user = User(id="1", name="Ann")
    assert (user.id, user.name, user.nickname) == ("1", "Ann", None)
    assert dataclasses.is_dataclass(User)
    definition = definition_of(User)
    assert definition.sql_source == "v_user"
    assert definition.description == "Someone who writes."
    assert list(definition.fields) == ["id", "name", "nickname"]


def test_field_names_and_computed_fields(registry: ft.Registry) -> None:
    @ft.type(registry=registry)
    class Post:
        published_at: datetime.datetime | None
        body: str

        @ft.field
        def excerpt(self, info, length: int = 80) -> str:
            return self.body[:length]

    definition = definition_of(Post)
    assert definition.fields["published_at"].graphql_name == "publishedAt"
    computed = definition.computed["excerpt"]
    assert [a.python_name for a in computed.arguments] == ["length"]
    assert computed.arguments[0].default == 80
    # The method is still a method.
    assert Post(published_at=None, body="hello").excerpt(None, 2) == "he"


def test_annotations() -> None:
    assert parse_annotation(list[str] | None) == TypeRef(list, True, TypeRef(str))
    assert parse_annotation(ft.ID | None) == TypeRef(ft.ID, True)
    with pytest.raises(AnnotationError, match="unions other than"):
        parse_annotation(int | str)
    with pytest.raises(AnnotationError, match="item type"):
        parse_annotation(list)


def test_enum_requires_an_enum(registry: ft.Registry) -> None:
    with pytest.raises(TypeError, match="enum.Enum subclass"):
        ft.enum(registry=registry)(int)


def test_duplicate_names_are_rejected(registry: ft.Registry) -> None:
    @ft.type(name="Thing", registry=registry)
    class A:
        x: int

    with pytest.raises(RegistryError, match="'Thing' is already declared"):
        @ft.type(name="Thing", registry=registry)
        class B:
            x: int


def test_queries_and_mutations_register(registry: ft.Registry) -> None:
    @ft.type(sql_source="v_item", registry=registry)
    class Item:
        id: ft.ID

    ft.list_query(Item, registry=registry)
    ft.get_query(Item, registry=registry)
    ft.connection_query(Item, registry=registry)

    @ft.query(registry=registry)
    def item_total(info) -> int:
        return 0

    assert [q.graphql_name for q in registry.queries] == [
        "items", "item", "itemsConnection", "itemTotal",
    ]
    assert item_total(None) == 0

    @ft.type(registry=registry)
    class Done:
        message: str

    @ft.input(registry=registry)
    class CreateItemInput:
        name: str

    @ft.mutation(registry=registry)
    class CreateItem:
        input: CreateItemInput
        success: Done
        error: Done

    (mutation,) = registry.mutations
    assert (mutation.graphql_name, mutation.function) == ("createItem", "fn_create_item")


def test_view_queries_need_a_view(registry: ft.Registry) -> None:
    @ft.type(registry=registry)
    class Loose:
        id: ft.ID

    with pytest.raises(TypeError, match="needs @type\\(sql_source=...\\)"):
        ft.list_query(Loose, registry=registry)


def test_a_projection_table_names_the_view_it_stores(registry: ft.Registry) -> None:
    @ft.type(sql_source="tv_item", projection_of="v_item", text_column="data_text", registry=registry)
    class Item:
        id: ft.ID

    definition = definition_of(Item)
    assert (definition.sql_source, definition.projection_of) == ("tv_item", "v_item")
    assert definition.text_column == "data_text"
    for options in ({"projection_of": "v_item"}, {"text_column": "data_text"}):
        with pytest.raises(TypeError, match="need sql_source"):
            ft.type(registry=registry, **options)


def test_documents_become_instances(registry: ft.Registry) -> None:
    @ft.enum(registry=registry)
    class Status(enum.Enum):
        DRAFT = "draft"

    @ft.type(registry=registry)
    class Author:
        name: str

    @ft.type(sql_source="v_doc", registry=registry)
    class Doc:
        status: Status
        at: datetime.datetime | None
        author: Author
        tags: list[str]

    doc = from_document(Doc, {"status": "DRAFT", "at": "2024-01-02T03:04:05+00:00",
                              "author": {"name": "Ann"}})
    assert doc.status is Status.DRAFT
    assert doc.at.year == 2024
    assert doc.author.name == "Ann"
    assert doc.tags is None  # a missing key is None, not an error
    shape = document_shape(Doc)
    assert shape.fields["author"].nested.fields["name"].kind == "string"
    assert shape.fields["tags"].is_list
    assert shape.lookup("at") == ("at", shape.fields["at"])
