"""Writing results so that a failure never leaves anything half-written, and never touching the user's files.

An output folder is derive's alone: it carries a manifest (`.derive-manifest.json`) listing the files
derive wrote there. `--out` refuses a folder holding other files (unless `--force`, and even then only
derive's own files are replaced), the current folder or one holding it, and a folder holding the spec.
A folder written before manifests existed counts as derive's when it holds only the file names the
command writes (`known`).

Everything is written into a staging folder first and moved into place only when everything
succeeded. Staging and the previous copy live in ONE hidden sibling, `.NAME.derive/`, guarded by a
lock file (`fcntl.flock`) that is held for the whole run: concurrent runs on one folder wait for each
other instead of failing, a run that was killed leaves a staging folder whose lock nobody holds, and
the next run sweeps it. The sibling is removed when the run ends.
"""
from __future__ import annotations

import contextlib
import fcntl
import fnmatch
import json
import os
from pathlib import Path
import re
import shutil
import tempfile
import time
from typing import Iterable, Iterator

from ..errors import DeriveError

MANIFEST = ".derive-manifest.json"
LEGACY_STALE = 3600     # seconds: a `.NAME.tmp-*`/`.NAME.old-*` of the derive before manifests is junk after this


def dumps_json(data) -> str:
    """Deterministic JSON: same data, same bytes."""
    return json.dumps(data, indent=2, sort_keys=False, allow_nan=False) + "\n"


def umask() -> int:
    """The process's umask, read without changing it (os.umask would race with other threads)."""
    with contextlib.suppress(OSError, ValueError):
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


# derive's version, as pyproject.toml gives it (a test keeps the two equal). Written here rather
# than read from the installed package's metadata: importing importlib.metadata costs 0.03 s.
VERSION = "0.1.0"


def version() -> str:
    return VERSION


# ---------------------------------------------------------------------------------------- single files

def write_file(path: str | Path, text: str, inputs: Iterable[str | Path] = ()) -> None:
    """Write one file atomically (temporary file in the same folder, then rename).

    The new file gets the permissions an ordinary `>` redirection would give (0666 minus the umask;
    an existing file keeps its own). A folder is never replaced, nor one of the command's `inputs`.
    A symbolic link is written through, as the shell does.
    """
    given = str(path)
    if not given.strip():
        raise DeriveError("expected a file name, got an empty one", field="-o")
    try:
        _write_file(Path(os.path.realpath(path)), given, text, inputs)
    except OSError as exc:
        raise DeriveError(f"cannot write ({exc.strerror or exc})", file=given) from None


def _write_file(path: Path, given: str, text: str, inputs: Iterable[str | Path]) -> None:
    if path.is_dir():
        raise DeriveError("cannot write: this is a folder; give the name of a file (in it, or beside it)",
                          file=given)
    for source in inputs:
        with contextlib.suppress(OSError):
            if path.exists() and os.path.samefile(path, source):
                raise DeriveError("cannot write: this is the input file; give another name for the output",
                                  file=given)
    if not path.parent.is_dir():
        raise DeriveError("cannot write: the folder does not exist", file=given)
    try:
        mode = path.stat().st_mode & 0o777 if path.is_file() else 0o666 & ~umask()
    except OSError:
        mode = 0o666 & ~umask()
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            os.fchmod(handle.fileno(), mode)
        os.replace(tmp, path)
    except BaseException:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        raise


# ---------------------------------------------------------------------------------------- folders

def check_target(out: str | Path, inputs: Iterable[str | Path] = ()) -> Path:
    """The absolute path of the output folder `out`, or a DeriveError saying why derive will not write there.

    Refused: an empty name, the current folder or any folder holding it (replacing it would pull the
    floor from under the shell), a folder holding one of the `inputs` (the spec), a file and a link
    to no folder. A link to a folder is followed (the link itself is never replaced).
    """
    given = str(out)
    if not given.strip():
        raise DeriveError("expected a folder name, got an empty one; e.g. --out output/lecture", field="--out")
    try:
        return _check_target(given, inputs)
    except OSError as exc:
        raise DeriveError(f"cannot write there ({exc.strerror or exc})", field=f"--out {given}") from None


def _check_target(given: str, inputs: Iterable[str | Path]) -> Path:
    where = f"--out {given}"
    target = Path(os.path.abspath(given))
    real = Path(os.path.realpath(given))
    cwd = Path(os.path.realpath(os.getcwd()))
    if cwd == real:
        raise DeriveError("is the current folder; derive writes a folder of its own: give a new one, "
                          "e.g. --out ./output", field=where)
    if cwd.is_relative_to(real):
        raise DeriveError("holds the current folder; give a new folder for derive's files, "
                          "e.g. --out ./output", field=where)
    for source in inputs:
        if os.path.exists(source) and Path(os.path.realpath(source)).is_relative_to(real):
            raise DeriveError(f"holds the spec {source}; give a new folder for derive's files, "
                              f"e.g. --out {Path(given) / 'output'}", field=where)
    if target.is_symlink():
        if not real.is_dir():
            raise DeriveError("is a symbolic link to no folder; give a new folder", field=where)
        target = real                             # a link to a folder (on another disk, say) is followed
    if target.exists() and not target.is_dir():
        raise DeriveError("is a file, not a folder; give a new folder", field=where)
    return target


def _listing(folder: Path) -> tuple[list[str], list[str]]:
    """Every file (or link) and every empty folder below `folder`, as relative POSIX paths."""
    files, empty = [], []
    for root, dirs, names in os.walk(folder):
        base = Path(root)
        for d in list(dirs):
            if (base / d).is_symlink():           # a link to a folder is an entry, never followed
                dirs.remove(d)
                names.append(d)
        if base != folder and not dirs and not names:
            empty.append(base.relative_to(folder).as_posix())
        files.extend((base / n).relative_to(folder).as_posix() for n in names)
    return sorted(files), sorted(empty)


def _read_manifest(folder: Path) -> set[str] | None:
    try:
        data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        files = data["files"]
        if isinstance(files, list) and all(isinstance(f, str) for f in files):
            return set(files)
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return None


def _legacy(path: str, known: Iterable[str]) -> bool:
    return any(fnmatch.fnmatchcase(path, pattern) for pattern in known)


def ownership(folder: Path, known: Iterable[str] = ()) -> tuple[set[str], list[str]]:
    """(derive's files, the other entries) of an existing folder.

    derive's files are those its manifest lists; without a manifest (a folder of the derive before
    manifests), all of them when every file matches one of the `known` patterns, else none.
    """
    if not folder.is_dir():
        return set(), []
    files, empty = _listing(folder)
    listed = _read_manifest(folder)
    if listed is None and (files or empty):
        known = list(known)
        folders = {str(parent) for p in known for parent in Path(p).parents} - {"."}
        if all(_legacy(f, known) for f in files if f != MANIFEST) and all(_legacy(e, folders) for e in empty):
            listed = set(files)
    listed = (listed or set()) & set(files)
    others = [f for f in files if f not in listed and f != MANIFEST] + empty
    return listed, others


def _refuse_others(given: str, others: list[str]) -> None:
    shown = ", ".join(others[:3]) + (", ..." if len(others) > 3 else "")
    raise DeriveError(f"holds files derive did not write ({shown}); give a new or empty folder, "
                      "or add --force to write derive's files beside them (yours are kept)",
                      field=f"--out {given}")


@contextlib.contextmanager
def _side_lock(side: Path) -> Iterator[None]:
    """Hold `side/lock` exclusively; `side` is created if need be and removed (when empty) at the end.

    A finishing run removes the lock file, so a waiting run may get the lock of a removed file: it
    then checks that the lock it holds is still the one at that path, and tries again if not.
    """
    if side.is_symlink():
        raise DeriveError("a link of this name is in the way of derive's staging folder; move it away",
                          file=str(side))
    while True:
        try:
            with contextlib.suppress(FileExistsError):
                os.mkdir(side)
            fd = os.open(side / "lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
        except (FileNotFoundError, NotADirectoryError):
            if side.is_symlink() or (side.exists() and not side.is_dir()):
                raise DeriveError("a file of this name is in the way of derive's staging folder; "
                                  "move it away", file=str(side)) from None
            continue                              # removed by a run finishing at this moment
        except OSError as exc:
            raise DeriveError(f"cannot write the output folder ({exc.strerror or exc})",
                              file=str(side.parent)) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            now = os.stat(side / "lock")
            held = os.fstat(fd)
            if (now.st_dev, now.st_ino) == (held.st_dev, held.st_ino):
                break
        except FileNotFoundError:
            pass
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            os.unlink(side / "lock")
        with contextlib.suppress(OSError):
            os.rmdir(side)
        os.close(fd)


def _sweep(side: Path, target: Path) -> None:
    """Remove what killed runs left (their lock is free, so they are dead): staging folders, and old
    copies, which are put back first when the folder itself is missing (killed between two renames)."""
    for entry in sorted(side.iterdir()):
        if entry.name.startswith("old-") and entry.is_dir():
            previous = entry / "previous"
            if previous.is_dir() and not target.exists():
                with contextlib.suppress(OSError):
                    os.replace(previous, target)
        if entry.name.startswith(("stage-", "old-")) and entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
    # what the derive before manifests left beside the folder when it was killed
    pattern = re.compile(rf"\.{re.escape(target.name)}\.(tmp|old)-[a-z0-9_]{{8}}")
    with contextlib.suppress(OSError):
        for entry in target.parent.iterdir():
            if pattern.fullmatch(entry.name) and entry.is_dir() and not entry.is_symlink() \
                    and time.time() - entry.stat().st_mtime > LEGACY_STALE:
                shutil.rmtree(entry, ignore_errors=True)


def _make_parents(folder: Path) -> list[Path]:
    """Create `folder` and its missing parents; return those created (outermost first)."""
    missing = []
    for p in [folder, *folder.parents]:
        if p.exists() or p.is_symlink():
            break
        missing.append(p)
    created = []
    for p in reversed(missing):
        try:
            p.mkdir()
            created.append(p)
        except FileExistsError:
            pass
        except OSError as exc:
            _remove_empty(created)
            raise DeriveError(f"cannot create the folder ({exc.strerror or exc})", file=str(p)) from None
    return created


def _remove_empty(folders: list[Path]) -> None:
    for p in reversed(folders):
        with contextlib.suppress(OSError):
            p.rmdir()


def _write_manifest(folder: Path, files: Iterable[str]) -> None:
    data = {"derive": version(), "note": "the files derive wrote here; derive replaces only these",
            "files": sorted(set(files))}
    tmp = folder / f".{MANIFEST}.new"
    tmp.write_text(dumps_json(data), encoding="utf-8")
    os.replace(tmp, folder / MANIFEST)


def _replace_whole(stage: Path, target: Path, side: Path) -> None:
    """Two renames: the previous folder into `side`, the staging folder into its place; an error
    (or a signal) between them puts the previous folder back."""
    if not target.exists():
        os.replace(stage, target)
        return
    old = Path(tempfile.mkdtemp(prefix="old-", dir=side))
    os.replace(target, old / "previous")
    try:
        os.replace(stage, target)
    except BaseException:
        if not target.exists():
            os.replace(old / "previous", target)
        raise
    shutil.rmtree(old, ignore_errors=True)


def _replace_ours(stage: Path, target: Path, given: str, ours: set[str], new: list[str]) -> None:
    """--force into a folder holding other files: move derive's new files in one by one, remove the
    files of derive's previous run that this one no longer writes; nothing else is touched."""
    for name in new:
        path = target / name
        for parent in [*reversed(Path(name).parents[:-1])]:
            p = target / parent
            if p.is_symlink() or (p.exists() and not p.is_dir()):
                raise DeriveError(f"{parent.as_posix()} is in the way of derive's {name}; move it away",
                                  field=f"--out {given}")
        if path.is_dir() and not path.is_symlink():
            raise DeriveError(f"a folder {name} is in the way of derive's file of that name; move it away",
                              field=f"--out {given}")
    _write_manifest(target, ours | set(new))      # a run killed from here on leaves only listed files
    for name in new:
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        os.replace(stage / name, target / name)
    for name in sorted(ours - set(new)):
        with contextlib.suppress(OSError):
            (target / name).unlink()
        _remove_empty([target / p for p in reversed(Path(name).parents[:-1])])
    _write_manifest(target, new)


@contextlib.contextmanager
def staged_folder(out: str | Path, *, force: bool = False, inputs: Iterable[str | Path] = (),
                  known: Iterable[str] = ()) -> Iterator[Path]:
    """A staging folder whose files replace derive's files in `out` only if the block finishes without error.

    Without `force`, `out` must be new, empty or derive's (its manifest, or only `known` names) and is
    replaced as a whole; with `force` derive's files are written beside the others. On any error
    (also Ctrl-C or SIGTERM) the staging folder is removed, folders created for `out` are removed
    again, and `out` is left exactly as it was.
    """
    given = str(out)
    inputs, known = list(inputs), list(known)
    target = check_target(out, inputs)
    side = target.parent / f".{target.name}.derive"
    created = _make_parents(target.parent)
    try:
        with _side_lock(side):
            try:
                _sweep(side, target)
                ours, others = ownership(target, known)
                if others and not force:
                    _refuse_others(given, others)
                stage = Path(tempfile.mkdtemp(prefix="stage-", dir=side))
                os.chmod(stage, 0o777 & ~umask())
            except OSError as exc:
                raise DeriveError(f"cannot write the output folder ({exc.strerror or exc})", file=given) from None
            try:
                yield stage
                new, empty = _listing(stage)
                new = [f for f in new if f != MANIFEST]
                ours, others = ownership(target, known)        # again: the user may have added files
                if others and not force:
                    _refuse_others(given, others)
                if others:
                    _replace_ours(stage, target, given, ours, new)
                else:
                    _write_manifest(stage, new)
                    _replace_whole(stage, target, side)
            except OSError as exc:
                raise DeriveError(f"cannot write the output folder ({exc.strerror or exc})", file=given) from None
            finally:
                shutil.rmtree(stage, ignore_errors=True)
    except BaseException:
        _remove_empty(created)
        raise
