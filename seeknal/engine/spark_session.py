"""One SparkSession per process, built from the profile's `master:` and `conf:`.

Starting Spark's JVM takes seconds, so the session outlives one engine: every run of the process
(and every test of a test session) reuses it while master and settings stay the same. The
defaults suit a small local cluster; the profile's `conf:` overrides any of them.
"""

from __future__ import annotations

import atexit
import os
import tempfile
import threading
import warnings
from collections.abc import Mapping
from typing import Any

from seeknal.errors import ExecutionError

DEFAULT_MASTER = "local[2]"

# Spark's defaults are made for big clusters: 200 shuffle partitions cost seconds per node on
# a small one. Timestamps without a time zone, as DuckDB's, are what CAST(x AS TIMESTAMP)
# means in DuckDB SQL; parquet timestamps are written as plain microseconds, as DuckDB does.
DEFAULTS = {
    "spark.sql.shuffle.partitions": "2",
    "spark.default.parallelism": "2",
    "spark.sql.adaptive.enabled": "true",
    "spark.sql.adaptive.coalescePartitions.enabled": "true",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.timestampType": "TIMESTAMP_NTZ",
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
    "spark.sql.parquet.compression.codec": "snappy",
    "spark.sql.sources.partitionOverwriteMode": "static",
    "spark.sql.legacy.createHiveTableByDefault": "false",
}

LOG4J = """rootLogger.level = off
rootLogger.appenderRef.stderr.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{HH:mm:ss} %p %c{1}: %m%n
"""

_lock = threading.Lock()
_current: dict[str, Any] = {}  # "key": (master, conf) of the live session, "session"


def pyspark() -> Any:
    """The pyspark.sql module; a clear error when the extra is not installed."""
    try:
        with warnings.catch_warnings():  # pyspark's notes about the pandas version it prefers
            warnings.simplefilter("ignore")
            import pyspark.sql
    except ImportError:
        raise ExecutionError(
            "The spark engine needs pyspark, which is not installed.",
            "Install it: pip install 'seeknal[spark]' (Spark also needs Java 17 or newer).",
        ) from None
    return pyspark.sql


def spark_session(master: str | None, conf: Mapping[str, str]) -> Any:
    """The process's SparkSession for `master` and `conf` (started on first use)."""
    sql = pyspark()
    master = master or DEFAULT_MASTER
    settings = {**DEFAULTS, **_local_dirs(), **conf}
    key = (master, tuple(sorted(settings.items())))
    with _lock:
        session = _current.get("session")
        if session is not None and _current.get("key") == key:
            return session
        if session is not None:
            session.stop()
        _current["session"] = session = _start(sql, master, settings)
        _current["key"] = key
        return session


def _start(sql: Any, master: str, settings: Mapping[str, str]) -> Any:
    builder = sql.SparkSession.builder.appName("seeknal")
    builder = builder.remote(master) if master.startswith("sc://") else builder.master(master)
    for name, value in settings.items():
        builder = builder.config(name, value)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            session = builder.getOrCreate()
    except Exception as exc:  # noqa: BLE001 - a missing JVM and a bad master look alike here
        first = " ".join(str(exc).strip().splitlines()[:2])
        raise ExecutionError(
            f"Spark could not start with master '{master}': {first}",
            "Check that Java 17+ is installed (java -version) and that the profile's master: "
            "is reachable; see docs/spark.md.",
        ) from None
    if not master.startswith("sc://"):
        session.sparkContext.setLogLevel("OFF")
    return session


def _local_dirs() -> dict[str, str]:
    """Spark's scratch folders in one temp folder per process, so nothing lands in the cwd."""
    base = _current.get("dirs")
    if base is None:
        base = tempfile.mkdtemp(prefix="seeknal-spark-")
        _current["dirs"] = base
        atexit.register(_cleanup, base)
    logs = os.path.join(base, "log4j2.properties")
    if not os.path.exists(logs):
        # Spark's own log lines are noise beside seeknal's report; errors reach it as exceptions
        with open(logs, "w", encoding="utf-8") as handle:
            handle.write(LOG4J)
    java = f"-Dderby.system.home={os.path.join(base, 'derby')} -Dlog4j2.configurationFile={logs}"
    return {
        "spark.sql.warehouse.dir": os.path.join(base, "warehouse"),
        "spark.driver.extraJavaOptions": java,
    }


def _cleanup(base: str) -> None:
    import shutil

    shutil.rmtree(base, ignore_errors=True)


def stop_session() -> None:
    """Stop the process's session (tests and the bench use it; runs leave it for the next)."""
    with _lock:
        session = _current.pop("session", None)
        _current.pop("key", None)
        if session is not None:
            session.stop()
