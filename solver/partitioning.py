"""Partitioned routing's public kernel: what an engine adapter (Spark, a process pool, a
plain loop) calls. The rules of decomposition and the kernel live in ``solver._partition``;
a batch that does not decompose raises :class:`solver.errors.PartitionError`."""

from __future__ import annotations

from solver._partition import (
    ERROR_STATUS,
    OUTPUT_COLUMNS,
    PartitionJob,
    Scorer,
    as_of_for,
    check_accounts,
    failed_partitions,
    plan_job,
    route_partition,
    route_partitions,
    with_batch_as_of,
)

__all__ = [
    "ERROR_STATUS",
    "OUTPUT_COLUMNS",
    "PartitionJob",
    "Scorer",
    "as_of_for",
    "check_accounts",
    "failed_partitions",
    "plan_job",
    "route_partition",
    "route_partitions",
    "with_batch_as_of",
]
