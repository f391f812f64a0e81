"""Writing results so that a failure never leaves anything half-written.

Files go to a temporary sibling first and are moved into place only when everything succeeded.
"""
from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
import shutil
import tempfile
from typing import Iterator

from ..errors import DeriveError


def dumps_json(data) -> str:
    """Deterministic JSON: same data, same bytes."""
    return json.dumps(data, indent=2, sort_keys=False, allow_nan=False) + "\n"


def write_file(path: str | Path, text: str) -> None:
    """Write one file atomically (temporary file in the same folder, then rename)."""
    path = Path(path)
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise DeriveError("cannot write: the folder does not exist", file=str(path))
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=parent)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(Exception):
            os.unlink(tmp)
        raise DeriveError(f"cannot write ({exc.strerror or exc})", file=str(path)) from None


@contextlib.contextmanager
def staged_folder(target: str | Path) -> Iterator[Path]:
    """A temporary folder that replaces `target` only if the block finishes without error.

    On any error the temporary folder is removed and `target` is left exactly as it was.
    """
    target = Path(target)
    parent = target.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        stage = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=parent))
    except OSError as exc:
        raise DeriveError(f"cannot write the output folder ({exc.strerror or exc})", file=str(target)) from None
    mask = os.umask(0)
    os.umask(mask)
    os.chmod(stage, 0o777 & ~mask)
    try:
        yield stage
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    try:
        if target.is_dir():
            old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=parent))
            os.replace(target, old / "previous")
            os.replace(stage, target)
            shutil.rmtree(old, ignore_errors=True)
        elif target.exists():
            raise DeriveError("cannot write the output folder: a file of that name exists", file=str(target))
        else:
            os.replace(stage, target)
    except OSError as exc:
        shutil.rmtree(stage, ignore_errors=True)
        raise DeriveError(f"cannot write the output folder ({exc.strerror or exc})", file=str(target)) from None
    except DeriveError:
        shutil.rmtree(stage, ignore_errors=True)
        raise
