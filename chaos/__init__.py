"""The FraiseQL resilience harness."""
