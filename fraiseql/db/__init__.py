"""Database access: the async pool, the repository, a throwaway local cluster."""
