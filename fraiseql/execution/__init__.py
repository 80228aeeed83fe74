"""Request execution: parsed-document cache, static limits, the executor."""
