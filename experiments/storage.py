"""Writing results: atomic files, plain JSON, stale temporary files.

Every file a command writes goes through ``atomic_write``: the bytes go to a temporary name in
the same folder (``.<name>.<pid>.tmp``), which is then renamed onto the final name, so the final
name only ever holds a complete file. A writer that raises removes its temporary file; one that
is killed leaves it behind, and ``remove_stale_temps`` clears it at the end of the next batch.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

_PLAIN = frozenset({str, int, bool, type(None)})


def to_plain(value: Any) -> Any:
    """``value`` as plain JSON data: dicts with text keys, lists, Python numbers, None for
    NaN and infinities (which JSON cannot hold), numpy scalars and arrays unwrapped."""
    # Plain values first, by exact type: a run id hashes ~200 parameters, mostly these, and
    # the checks below (an abstract-class isinstance first) cost several times more.
    kind = type(value)
    if kind is float:
        return value if math.isfinite(value) else None
    if kind in _PLAIN:
        return value
    if isinstance(value, Mapping):  # dicts and the model's Parameters
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_plain(v) for v in value]
    if hasattr(value, "tolist"):  # numpy scalars and arrays
        return to_plain(value.tolist())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def json_text(data: Any) -> str:
    """``data`` as indented JSON text (``to_plain`` first; anything else by its ``str``)."""
    return json.dumps(to_plain(data), indent=2, default=str) + "\n"


def temp_name(path: Path) -> Path:
    """The temporary name ``atomic_write`` uses for ``path`` in this process."""
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


def atomic_write(path: Path | str, data: bytes | str) -> Path:
    """Write ``data`` (text as UTF-8) to ``path`` through a temporary file and a rename;
    creates the folder. Returns ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_name(path)
    try:
        with open(tmp, "wb") as fh:
            fh.write(data.encode("utf-8") if isinstance(data, str) else data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def write_json(data: Any, path: Path | str) -> Path:
    """Write ``data`` as JSON (``json_text``), atomically."""
    return atomic_write(path, json_text(data))


def write_parquet(df: Any, path: Path | str, metadata: Mapping[str, str] | None = None
                  ) -> Path:
    """Write a pandas table as Parquet (no index, Snappy-compressed), atomically;
    ``metadata`` is added to the file's key-value metadata (its schema's).

    Dictionary encoding and column statistics (min, max, nulls) are written for every column
    but the float ones: for labels, ids, replications, steps, what a reader filters on. Why:
    every run's table is written as it ends, and for its ~57 float columns they cost 0.3 ms
    of the 1.1 ms a file took, several percent of a small run with the rest of the storage,
    while making the file larger (24 instead of 31 KiB for a run table of 61 months): floats
    rarely repeat, so a dictionary only adds its page. Both are optional in Parquet, so every
    reader reads the file as before; a query that filters on a float column reads that
    column and checks its rows instead of first skipping files by their min and max.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = arrow_table(df)
    if table is None:
        table = pa.Table.from_pandas(df, preserve_index=False)
    if metadata:
        table = table.replace_schema_metadata({**(table.schema.metadata or {}),
                                               **{k.encode(): v.encode()
                                                  for k, v in metadata.items()}})
    not_floats = [f.name for f in table.schema if not pa.types.is_floating(f.type)]
    buffer = pa.BufferOutputStream()
    pq.write_table(table, buffer, use_dictionary=not_floats, write_statistics=not_floats)
    return atomic_write(path, buffer.getvalue().to_pybytes())


def arrow_table(df: Any) -> Any:
    """``df`` as an Arrow table built from its numpy blocks, or None if it has a column that
    needs pandas' own conversion.

    Why: every run's table is written as it ends, and pandas' conversion to Arrow costs about
    60 us a column (it builds metadata column by column), 3.5 ms for a run table of 61
    columns, several percent of a small run. Here each block of float, integer or bool
    columns of one dtype is converted by one call, and each column is a zero-copy slice of
    it: a conversion call costs microseconds whatever its length, so one a column was still
    most of the cost. It covers tables whose column names are distinct strings and whose
    columns are float, integer, bool or pandas' text dtype; anything else (object, category,
    dates, nullable integers) returns None. Such a table reads back (``pd.read_parquet``) as
    pandas wrote it: the same dtypes, a RangeIndex, NaN stored as null.
    """
    import numpy as np
    import pandas as pd
    import pyarrow as pa

    names = df.columns.tolist()  # (list() of a text Index goes through it item by item)
    if not all(isinstance(n, str) for n in names) or len(set(names)) != len(names):
        return None
    groups: dict[Any, list[int]] = {}
    for i, dtype in enumerate(df.dtypes):
        groups.setdefault(dtype, []).append(i)
    arrays: list[Any] = [None] * len(names)
    rows = len(df)
    for dtype, where in groups.items():
        if isinstance(dtype, np.dtype) and dtype.kind in "fiub":
            # Adjacent columns as a slice: a view of their block, not a copy.
            cols = (slice(where[0], where[-1] + 1) if where[-1] - where[0] == len(where) - 1
                    else where)
            block = np.ascontiguousarray(df.iloc[:, cols].to_numpy().T)  # one row a column
            flat = pa.array(block.ravel(), from_pandas=True)  # NaN -> null, as pandas writes
            for k, i in enumerate(where):
                arrays[i] = flat.slice(k * rows, rows)
        elif isinstance(dtype, pd.StringDtype):
            for i in where:
                # The column's own array converts itself (``__arrow_array__``, as in pandas'
                # conversion); given the Series, pyarrow would go through it item by item.
                arrays[i] = pa.array(df[names[i]].array, from_pandas=True)
        else:
            return None
    return pa.Table.from_arrays(arrays, names=names)


def remove_stale_temps(folder: Path, pattern: str, started: float) -> None:
    """Remove temporary files (``.<name>.<pid>.tmp``) that no writer will rename any more.

    A file is stale if it predates ``started`` (a ``time.time()``, by 2 s, for coarse file
    clocks) or its writer is no longer a living process on this machine; a temporary file of a
    living writer created since (say, a worker orphaned by a killed batch that still finishes
    its run) is left to that writer.
    """
    for tmp in folder.glob(pattern):
        try:
            pid = int(tmp.name.rsplit(".", 2)[-2])
        except ValueError:
            continue
        try:
            if tmp.stat().st_mtime < started - 2.0 or not _alive(pid):
                tmp.unlink(missing_ok=True)
        except OSError:
            pass  # renamed or removed meanwhile


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, owned by someone else
    return True
