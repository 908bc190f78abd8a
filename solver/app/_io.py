"""Output files are written whole or not at all (temp file in the same folder, then rename).

A command checks every output path before its work (``check_output``) and writes all its
outputs together (``write_outputs``): every temp file is written first, and only then are
they renamed into place, so a failure leaves no output half-written. A symlink is written
through (its target is replaced), a device node or FIFO is refused, and a new file gets the
permissions the umask allows (an existing file keeps its own).
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import pandas as pd

from solver.errors import InputError

Writer = Callable[[IO[str]], object]


@dataclass(frozen=True)
class Output:
    path: Path
    write: Writer  # writes the content to an open text handle
    option: str = "output"  # how the command line names it, for errors


def check_output(path: str | Path, option: str = "output") -> Path:
    """The real file to write (symlinks followed), or an InputError saying why not."""
    target = Path(os.path.realpath(Path(path).expanduser()))

    def refuse(why: str) -> InputError:
        return InputError(f"{option} {path}: {why}", source="command line")

    if target.exists() or target.is_symlink():
        mode = os.stat(target).st_mode if target.exists() else 0
        if stat.S_ISDIR(mode):
            raise refuse("is a directory, not a file")
        if not stat.S_ISREG(mode):
            raise refuse("is not a regular file (a device, FIFO or dangling link)")
    folder = target.parent
    while not folder.exists():
        folder = folder.parent
    if not folder.is_dir():
        raise refuse(f"{folder} is a file, not a folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise refuse(f"folder {folder} is not writable")
    return target


def _new_file_mode(target: Path) -> int:
    if target.exists():
        return stat.S_IMODE(os.stat(target).st_mode)
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def write_outputs(outputs: Sequence[Output]) -> list[Path]:
    """Write every output, or none of them (see the module docstring)."""
    targets = [check_output(out.path, out.option) for out in outputs]
    staged: list[tuple[str, Path]] = []
    try:
        for out, target in zip(outputs, targets, strict=True):
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp",
                                       dir=target.parent)
            staged.append((tmp, target))
            os.fchmod(fd, _new_file_mode(target))
            with os.fdopen(fd, "w", newline="", encoding="utf-8") as handle:
                out.write(handle)
        for tmp, target in staged:
            os.replace(tmp, target)
    except OSError as exc:
        raise InputError(f"cannot write the outputs ({exc.strerror or exc}); "
                         "nothing was written", source="command line") from None
    finally:
        for tmp, _ in staged:
            Path(tmp).unlink(missing_ok=True)
    return targets


def csv_writer(frame: pd.DataFrame) -> Writer:
    return lambda handle: frame.to_csv(handle, index=False)


def write_csv_atomic(frame: pd.DataFrame, path: str | Path) -> Path:
    return write_outputs([Output(Path(path), csv_writer(frame))])[0]
