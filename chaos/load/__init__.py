"""Load for the harness: locust in its own process, every request logged as a JSON line.

Example::

    with LoadProcess(LoadOptions(app_url=url, users=2, rate_per_s=5, mix={"read_posts": 1},
                                 duration_s=10, seed=1, log_path="requests.jsonl")) as load:
        load.wait()
    records, offset = read_log("requests.jsonl", 0)
"""

from chaos.load.log import FIELDS, LogWriter, read_log
from chaos.load.process import LoadError, LoadOptions, LoadProcess, require_loopback

__all__ = ["FIELDS", "LoadError", "LoadOptions", "LoadProcess", "LogWriter", "read_log", "require_loopback"]
