"""The response pipeline: JSON rows + a selection plan -> the response body.

``compile_plan`` and ``build_response`` are the Rust implementation
(``fraiseql._fraiseql_rs``); ``reference`` is the pure-Python oracle of the same
contract; ``plan`` turns a GraphQL selection into a plan spec.

Example::

    from fraiseql.pipeline import build_response, compile_plan

    plan = compile_plan((("field", "createdAt", "created_at", None),))
    build_response([("rows", "posts", plan, ['{"created_at": "2024-01-02"}'], False, False)])
    # b'{"data":{"posts":[{"createdAt":"2024-01-02"}]}}'
"""

from fraiseql._fraiseql_rs import PipelineInputError, Plan, build_response, compile_plan
from fraiseql.pipeline import reference

__all__ = ["PipelineInputError", "Plan", "build_response", "compile_plan", "reference"]
