"""FraiseQL: GraphQL over PostgreSQL with a Rust response pipeline."""
