"""Compile .tex to PDF with a real TeX (pdflatex, never with shell escape), close to TeX's own speed.

Three things make a command's PDFs cost little more than TeX's floor (one pdflatex pass per document):

- Formats. Loading the packages (TikZ most of all) is a large part of a short document's time. The
  document's head -- `\\documentclass` and the package lines right after it -- is dumped once into a
  pdfTeX format, cached under `$XDG_CACHE_HOME/derive/` (default `~/.cache/derive/`), and the
  document is compiled on it. The .tex files stay as they are (a user compiles them with plain
  pdflatex): the format is given on the command line, and TeX reads a build copy whose head lines
  are blanked out, so that line numbers in errors stay right. The PDF is the one plain pdflatex
  makes, byte for byte. A missing, stale or corrupt format is rebuilt, a head that cannot be dumped
  is compiled without one: a format is never an error.
- Passes. One pdflatex pass, called directly; latexmk only when the log asks for more (references,
  a table of contents), which derive's own documents never do.
- Side by side. The documents of one command compile in parallel, as many as there are cores.

A failure becomes one DeriveError whose details are the relevant lines of TeX's log.
"""
from __future__ import annotations

import gzip
import hashlib
import heapq
import itertools
import json
import math
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import zlib
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path

from ..errors import DeriveError
from .cache import cache_dir

PACKAGES = ("latexmk texlive-latex-base texlive-latex-recommended texlive-pictures "
            "texlive-fonts-recommended lmodern cm-super poppler-utils")
TIMEOUT = 300
# TeX may neither run programs nor stop to ask; -file-line-error gives "file:line: message" lines.
SAFETY = ["-no-shell-escape", "-interaction=nonstopmode", "-halt-on-error", "-file-line-error"]
# The build folder beside the .tex files. No leading dot: with openin_any=p TeX refuses to read a
# file below a dot folder, and the build copy of a document is read from here.
BUILD = "derive-build"
FORMAT_RECIPE = 1       # raise when the way formats are dumped changes: every cached format is rebuilt
MAX_FORMATS = 4         # formats kept in the cache (about 20 MB each); the least recently used go
GZIP_MAGIC = b"\x1f\x8b"


def require_tex() -> None:
    missing = [tool for tool in ("latexmk", "pdflatex") if shutil.which(tool) is None]
    if missing:
        raise DeriveError(f"{' and '.join(missing)} not found; install TeX with: "
                          f"sudo apt-get install {PACKAGES} (or use --no-pdf)")


@dataclass(frozen=True)
class Compiled:
    """One compiled document: where its PDF is, how many pdflatex passes it took, on which format."""
    pdf: Path
    passes: int
    format: Path | None


def compile_all(folder: Path, names: list[str], single_run: bool = False) -> list[Compiled]:
    """Compile the named .tex files of `folder` side by side and keep only the PDFs beside them.

    As many TeX runs at a time as there are cores, the largest documents first (so that a long one
    does not start last). Documents whose head has a valid cached format are compiled on it; a
    missing format is dumped alongside (for the next run) while this run compiles without it.
    `single_run`: one pdflatex pass even if the log asks for more (documents known to need one).
    The results are in the order of `names`; the first failure is raised after all have finished.
    """
    folder = Path(folder).resolve()
    sizes = {name: (folder / name).stat().st_size for name in names}
    with Batch(folder, single_run) as batch:
        futures = {name: batch.submit(name) for name in sorted(names, key=sizes.get, reverse=True)}
    return [futures[name].result() for name in names]


class Stopped(Exception):
    """A TeX run of a batch that was stopped (Ctrl-C, SIGTERM): ended, or never started."""


class Running:
    """The TeX processes a batch has running, each in a process group of its own, so that a
    batch that is stopped (Ctrl-C, SIGTERM) ends them at once instead of waiting for them:
    latexmk's pdflatex children too, since the whole group gets the signal."""

    def __init__(self):
        self._lock = threading.Lock()
        self._processes: set[subprocess.Popen] = set()
        self._stopped = False

    def run(self, command: list[str], cwd: Path, env: dict, timeout: float) -> subprocess.CompletedProcess:
        """subprocess.run(command) with its output in .stdout (stderr merged), in a new process
        group; its group is killed should it time out or the caller be interrupted."""
        with self._lock:
            if self._stopped:
                raise Stopped(command[0])
            process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                       stdin=subprocess.DEVNULL, cwd=cwd, env=env, process_group=0)
            self._processes.add(process)
        try:
            output, _ = process.communicate(timeout=timeout)
        except BaseException:          # TimeoutExpired, KeyboardInterrupt, a SIGTERM raised here
            _signal_group(process, signal.SIGKILL)
            process.communicate()
            raise
        finally:
            with self._lock:
                self._processes.discard(process)
        if self._stopped:              # ended by `stop`: not a TeX error (no retry, no failed format)
            raise Stopped(command[0])
        return subprocess.CompletedProcess(command, process.returncode, output)

    def stop(self) -> None:
        """End every running process group (SIGTERM, as a user's kill would) and refuse new runs."""
        with self._lock:
            self._stopped = True
            processes = list(self._processes)
        for process in processes:
            if process.returncode is None:         # not yet reaped: its group is still its own
                _signal_group(process, signal.SIGTERM)


def _signal_group(process: subprocess.Popen, signum: int) -> None:
    try:
        os.killpg(process.pid, signum)
    except (ProcessLookupError, PermissionError):      # ended (and reaped) meanwhile
        pass


class Batch:
    """Documents compiled while the program writes the next ones: as many TeX runs at a time as there
    are cores, the waiting document of highest priority first (by default the largest).

    `submit` starts a document as soon as its .tex is written (a long one need not wait for the
    short ones to be written, nor a core sit idle while Python renders). Leaving the `with` block
    waits for every run, removes the build folder and raises the first failure (in the order of
    submission); leaving it on an exception cancels the documents not yet started (the running ones
    finish), and on an interruption (Ctrl-C, SIGTERM; in the block or while waiting) also ends the
    running TeX processes at once: a user who stops derive is not kept waiting for TeX.
    """

    def __init__(self, folder: Path, single_run: bool = False, workers: int | None = None):
        require_tex()
        self.folder = Path(folder).resolve()
        self.build = self.folder / BUILD
        self.single_run = single_run
        self.workers = workers or max(1, os.cpu_count() or 1)
        self._queue: list = []                     # heap of (priority, order, job, future)
        self._order = itertools.count()
        self._ready = threading.Condition()
        self._closed = False
        self._threads: list[threading.Thread] = []
        self._submitted: list[Future] = []
        self._formats: dict[bytes, Path | None] = {}
        self._running = Running()

    def __enter__(self) -> "Batch":
        return self

    def submit(self, name: str, priority: float | None = None, then=None, keep: bool = True) -> Future:
        """Queue folder/name (a path below the folder). Its future gives the Compiled, or what
        `then(compiled)` returns (run right after TeX, before the build folder goes). `keep`: the PDF
        is moved beside the .tex; without it the PDF stays in the build folder for `then`."""
        path = self.folder / name
        text = path.read_bytes()
        fmt = self._format(head_of(text))
        # by-products in the build folder (a document already there: beside it)
        build_dir = (self.build if path.parent == self.folder else path.parent) / path.stem

        def job():
            compiled = compile_pdf(path, build_dir, self.single_run, fmt, text, self._running)
            if keep:
                target = path.with_suffix(".pdf")
                shutil.move(str(compiled.pdf), target)
                if keep_logs():
                    shutil.move(str(compiled.pdf.with_suffix(".log")), self.build / (path.stem + ".log"))
                compiled = Compiled(target, compiled.passes, compiled.format)
            return compiled if then is None else then(compiled)

        future = self._push(-len(text) if priority is None else priority, job)
        self._submitted.append(future)
        return future

    def _format(self, head: bytes) -> Path | None:
        """The cached format of `head`; when there is none, its dump is queued first (for next time)."""
        if head and head not in self._formats:
            self._formats[head] = cached_format(head)
            if self._formats[head] is None and not _failed_before(head):
                self._push(-math.inf, lambda: build_format(head, self._running))
        return self._formats.get(head)

    def _push(self, priority: float, job) -> Future:
        future: Future = Future()
        with self._ready:
            heapq.heappush(self._queue, (priority, next(self._order), job, future))
            if len(self._threads) < self.workers:
                thread = threading.Thread(target=self._work, name="derive-tex")
                thread.start()
                self._threads.append(thread)
            self._ready.notify()
        return future

    def _work(self) -> None:
        while True:
            with self._ready:
                while not self._queue and not self._closed:
                    self._ready.wait()
                if not self._queue:
                    return
                _, _, job, future = heapq.heappop(self._queue)
            if future.set_running_or_notify_cancel():
                try:
                    future.set_result(job())
                except BaseException as exc:
                    future.set_exception(exc)

    def __exit__(self, kind, value, traceback) -> None:
        if kind is not None:
            self._cancel()
            if not issubclass(kind, Exception):     # Ctrl-C, SIGTERM: no TeX run is waited for
                self._running.stop()
        with self._ready:
            self._closed = True
            self._ready.notify_all()
        try:
            try:
                for thread in self._threads:
                    thread.join()
            except BaseException:      # interrupted while waiting: stop TeX, then let the threads end
                self._cancel()
                self._running.stop()
                for thread in self._threads:
                    thread.join()
                raise
        finally:
            if keep_logs() and self.build.is_dir():
                for sub in [p for p in self.build.iterdir() if p.is_dir()]:
                    shutil.rmtree(sub, ignore_errors=True)
            else:
                shutil.rmtree(self.build, ignore_errors=True)
        if kind is None:
            for future in self._submitted:
                if future.exception() is not None:
                    raise future.exception()

    def _cancel(self) -> None:
        """Cancel the documents not yet started."""
        with self._ready:
            for _, _, _, future in self._queue:
                future.cancel()
            self._queue.clear()


def compile_pdf(tex_path: Path, build_dir: Path, single_run: bool = False, fmt: Path | None = None,
                text: bytes | None = None, running: Running | None = None) -> Compiled:
    """Compile one document; by-products stay in `build_dir` (below the .tex file's folder).

    One pdflatex pass; if its log asks for another (references, a table of contents) and not
    `single_run`, latexmk takes over and runs as many as needed. With `fmt` (a format dumped from
    this document's head) TeX reads a build copy whose head lines are blanked; should that fail, the
    document is compiled again without the format and the format is not used again: a format is
    only ever a shortcut, never the reason a document fails. `running`: the batch's processes (that
    stop together); without it, this call's own.
    """
    require_tex()
    running = running or Running()
    tex_path = tex_path.resolve()
    build_dir = build_dir.resolve()
    if text is None:
        text = tex_path.read_bytes()
    if fmt is not None:
        try:
            return _compile(tex_path, build_dir, single_run, fmt, text, running)
        except DeriveError:
            shutil.rmtree(build_dir, ignore_errors=True)
            compiled = _compile(tex_path, build_dir, single_run, None, text, running)
            if fmt.exists():          # not merely removed meanwhile (by another process's pruning)
                _mark_failed(head_of(text), "a document failed on this format and compiled without it: "
                                            + tex_path.name)
            return compiled
    return _compile(tex_path, build_dir, single_run, None, text, running)


def _compile(tex_path: Path, build_dir: Path, single_run: bool, fmt: Path | None, text: bytes,
             running: Running) -> Compiled:
    build_dir.mkdir(parents=True, exist_ok=True)
    # Relative paths: TeX runs in the .tex file's folder and may write only below it.
    outdir = build_dir.relative_to(tex_path.parent)
    stem = tex_path.stem
    if fmt is None:
        command = ["pdflatex", *SAFETY, f"-output-directory={outdir}", tex_path.name]
        source = tex_path.name
    else:
        source = f"{outdir}/{stem}.tex"
        (build_dir / f"{stem}.tex").write_bytes(body_of(text))
        command = ["pdflatex", f"-fmt={fmt}", *SAFETY, f"-jobname={stem}", f"-output-directory={outdir}",
                   source]
    # Should the format vanish meanwhile, TeX must fail (and the document be compiled without it),
    # not run mktexfmt, which would try to make a system format of that name.
    result = _run(running, command, tex_path, (tex_environment() | {"MKTEXFMT": "0"}) if fmt is not None else None)
    pdf = build_dir / (stem + ".pdf")
    log_path = build_dir / (stem + ".log")
    log = log_path.read_text(errors="replace") if log_path.exists() else ""
    if result.returncode != 0 or not pdf.exists():
        details = log_excerpt((log or result.stdout.decode(errors="replace")).replace(source, tex_path.name))
        raise DeriveError(f"TeX failed (pdflatex exit status {result.returncode}); the log says:",
                          file=tex_path.name, details=details)
    if single_run or not needs_another_pass(log):
        return Compiled(pdf, 1, fmt)
    return Compiled(pdf, 1 + _latexmk(tex_path, outdir, running), None)


def _latexmk(tex_path: Path, outdir: Path, running: Running) -> int:
    """latexmk after a first pass that asked for more; returns how many pdflatex passes it ran."""
    command = ["latexmk", "-pdf", *SAFETY, f"-outdir={outdir}", tex_path.name]
    result = _run(running, command, tex_path)
    if result.returncode != 0:
        log = tex_path.parent / outdir / (tex_path.stem + ".log")
        details = log_excerpt(log.read_text(errors="replace") if log.exists() else result.stdout.decode(errors="replace"))
        raise DeriveError(f"TeX failed (latexmk exit status {result.returncode}); the log says:",
                          file=tex_path.name, details=details)
    return len(re.findall(r"Run number \d+ of rule '(?:pdf)?latex", result.stdout.decode(errors="replace")))


def _run(running: Running, command: list[str], tex_path: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    try:
        return running.run(command, tex_path.parent, env or tex_environment(), TIMEOUT)
    except subprocess.TimeoutExpired:
        raise DeriveError(f"TeX took longer than {TIMEOUT} s", file=tex_path.name) from None


def tex_environment() -> dict:
    env = dict(os.environ)
    env["openout_any"] = "p"     # TeX may write only below the current folder
    env["openin_any"] = "p"      # ... and read only below it (plus its own tree)
    env.setdefault("SOURCE_DATE_EPOCH", "0")
    env["FORCE_SOURCE_DATE"] = "1"
    return env


# -- passes ------------------------------------------------------------------------------------
# What LaTeX and its packages print when the next pass would differ: labels, references and
# citations, rerun requests, and auxiliary files read before this pass wrote them (not the .aux:
# every first pass misses it, and without labels the next pass reads nothing from it).
_ANOTHER_PASS = re.compile(r"\bRerun\b|\brerun LaTeX|Label\(s\) may have changed|There were undefined|"
                           r"\(re\)run|^No file \S+\.(?:toc|lof|lot|out|bbl|ind|gls|nav|snm)\.$",
                           re.MULTILINE | re.IGNORECASE)


def needs_another_pass(log: str) -> bool:
    """Whether a first pass's log asks for another (cross-references, contents, bibliography)."""
    return bool(_ANOTHER_PASS.search(log))


# -- formats -----------------------------------------------------------------------------------
# A head line: \documentclass, \usepackage and their kin, with an optional [options] and one {argument}
# without nested braces, nothing else on the line but a comment. Anything else ends the head, so a
# head never stops inside a command, and whatever a format could not hold stays in the document.
_HEAD_COMMAND = (r"\\(?:documentclass|usepackage|RequirePackage|PassOptionsToPackage|PassOptionsToClass|"
                 r"use[a-z]*library|pgfplotsset)\s*(?:\[[^\]\[{}%]*\])?\s*\{[^{}%\\]*\}(?:\s*\[[^\]\[{}%]*\])?")
_HEAD_LINE = re.compile(rb"\s*(?:" + _HEAD_COMMAND.encode() + rb"\s*)+(?:%.*)?")
_CLASS_LINE = re.compile(rb"\s*\\documentclass\b")
_BLANK_OR_COMMENT = re.compile(rb"\s*(?:%.*)?")


def head_of(text: bytes) -> bytes:
    """The lines of `text` that go into a format (b"" when none): `\\documentclass` on the first
    line that is not blank or a comment, and the package lines right after it."""
    lines = text.split(b"\n")
    end = 0
    seen_class = False
    for i, line in enumerate(lines):
        if i == 0 and line.startswith(b"%&"):          # the document names its own format
            return b""
        if _BLANK_OR_COMMENT.fullmatch(line):
            continue
        if not seen_class:
            if not (_CLASS_LINE.match(line) and _HEAD_LINE.fullmatch(line)):
                return b""
            seen_class = True
        elif not _HEAD_LINE.fullmatch(line):
            break
        end = i + 1
    return b"\n".join(lines[:end]) + b"\n" if end else b""


def body_of(text: bytes) -> bytes:
    """The build copy of a document for its format: the head's lines replaced by one line that puts
    back what the head left on the page (see `_dump_source`), then comment lines, so that every
    other line keeps its number."""
    count = head_of(text).count(b"\n")
    return b"\n".join([b"\\deriveresume"] + [b"%"] * (count - 1) + text.split(b"\n")[count:])


# pdfTeX keeps these outside of what \dump saves (font maps, colour stacks, document info): a head
# that uses them cannot become a format and is compiled without one.
_LOST_IN_A_FORMAT = ("pdfmapfile", "pdfmapline", "pdfcolorstackinit", "pdfinfo", "pdfcatalog", "pdfnames",
                     "pdftrailer", "pdftrailerid")


def _dump_source(head: bytes) -> bytes:
    """The ini run's input: the head, then \\dump.

    Around the head, the pdfTeX primitives whose effect a format loses raise an error. After it,
    the nodes the head left on the main vertical list (LaTeX's \\documentclass leaves a \\write,
    xcolor a colour push) are taken off the page into box 32767 with a one-off output routine, and
    \\deriveresume, the first line of the build copy, puts them back together with \\prevdepth: the
    PDF on the format is then the PDF without it, byte for byte.
    """
    # \pdfcolorstackinit expands to a number: its stand-in gives one (0) before the error, so that
    # the error is this one and not "Missing number".
    guard = "".join(f"\\let\\derivekept{p}\\{p}\\def\\{p}{{{'0' if p == 'pdfcolorstackinit' else ''}"
                    f"\\errmessage{{derive: \\string\\{p}\\space is lost in a format}}}}\n"
                    for p in _LOST_IN_A_FORMAT)
    restore = "".join(f"\\let\\{p}\\derivekept{p}\\let\\derivekept{p}\\undefined\n" for p in _LOST_IN_A_FORMAT)
    tail = (r"\edef\deriveresume{\noexpand\unvbox32767 \prevdepth=\the\prevdepth\relax" "\n"
            r"  \global\outputpenalty=\the\outputpenalty\relax\global\let\noexpand\deriveresume\noexpand\undefined}" "\n"
            r"\begingroup\vsize=\maxdimen" "\n"
            r"\output={\global\setbox32767\vbox{\unvbox255 \setbox0\lastbox\unskip}}" "\n"
            r"\hbox{}\penalty-10000 \endgroup" "\n"
            r"\deadcycles=0 \dump" "\n")
    return guard.encode() + head + restore.encode() + tail.encode()


def _tex_identity() -> list:
    """What identifies this TeX without running it: the pdftex program (resolved path, size, time),
    the TeX search variables, and the recipe of the dump. A TeX upgrade replaces the program; an
    update of the packages or of LaTeX itself is caught by the recorded inputs of each format."""
    program = shutil.which("pdflatex")
    real = os.path.realpath(program) if program else ""
    stat = os.stat(real) if real else None
    return [FORMAT_RECIPE, real, stat.st_size if stat else 0, stat.st_mtime_ns if stat else 0,
            sorted((k, v) for k, v in os.environ.items() if k.startswith("TEX"))]


def format_key(head: bytes) -> str:
    """The cache key of a head: a hash of the head and of TeX's identity."""
    digest = hashlib.sha256(json.dumps(_tex_identity()).encode() + b"\0" + head)
    return "pdflatex-" + digest.hexdigest()[:32]


def _paths(head: bytes) -> tuple[Path, Path, Path]:
    key = format_key(head)
    folder = cache_dir()
    return folder / f"{key}.fmt", folder / f"{key}.json", folder / f"{key}.failed"


_verified: set[tuple] = set()     # formats whose checksum this process has seen right


def cached_format(head: bytes) -> Path | None:
    """The cached format of `head` if it is there and sound: its manifest readable, its checksum
    right, and every file the dump read unchanged since (else None, and it is rebuilt)."""
    fmt, manifest, _ = _paths(head)
    try:
        entry = json.loads(manifest.read_text())
        for path, size, mtime in entry["inputs"]:
            stat = os.stat(path)
            if (stat.st_size, stat.st_mtime_ns) != (size, mtime):
                return None
        stat = os.stat(fmt)
        seen = (str(fmt), stat.st_ino, stat.st_size, stat.st_mtime_ns, entry["sha256"])
        if seen not in _verified:
            if hashlib.sha256(fmt.read_bytes()).hexdigest() != entry["sha256"]:
                return None
            _verified.add(seen)
        os.utime(manifest)            # recently used: kept when the cache is pruned
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return fmt


def build_format(head: bytes, running: Running | None = None) -> Path | None:
    """Dump `head` into a format in the cache; None when it cannot be (the reason goes into a
    .failed note, so that the next run does not try again with the same TeX).

    The dump runs in a private temporary folder; the finished files replace the cached ones with
    os.replace, so two processes dumping the same head at once leave one sound format behind. A dump
    that writes or reads any file of its own folder but its input depends on the document's name or
    folder, and is refused.
    """
    fmt, manifest, failed = _paths(head)
    key = fmt.stem
    try:
        fmt.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="dump-", dir=fmt.parent) as work:
            work = Path(work)
            (work / f"{key}.tex").write_bytes(_dump_source(head))
            command = ["pdflatex", "-ini", "-recorder", *SAFETY, f"-jobname={key}", "&pdflatex", f"{key}.tex"]
            try:
                result = (running or Running()).run(command, work, tex_environment(), TIMEOUT)
            except subprocess.TimeoutExpired:
                return None
            log = (work / f"{key}.log").read_text(errors="replace") if (work / f"{key}.log").exists() else ""
            inputs, outputs = _recorded(work / f"{key}.fls", work)
            own = {f"{key}.tex", f"{key}.log", f"{key}.fmt"}
            strange = sorted((set(outputs) | {p for p in inputs if not os.path.isabs(p)}) - own)
            if result.returncode != 0 or not (work / f"{key}.fmt").exists() or strange:
                reason = (f"the head reads or writes files of its own: {', '.join(strange)}" if strange
                          else log_excerpt(log or result.stdout.decode(errors="replace")))
                _write_atomic(failed, ("pdflatex could not dump this head into a format:\n" + reason + "\n\n"
                                       + head.decode(errors="replace")).encode())
                return None
            data = (work / f"{key}.fmt").read_bytes()
            if data.startswith(GZIP_MAGIC):
                # pdfTeX dumps gzip-compressed and reads either: stored plain, the format loads in
                # 0.05 s instead of 0.13 s (20 MB instead of 7 MB on disk).
                data = gzip.decompress(data)
            entry = {"sha256": hashlib.sha256(data).hexdigest(), "tex": log.split("\n", 1)[0],
                     "head": head.decode(errors="replace"),
                     "inputs": [[p, os.stat(p).st_size, os.stat(p).st_mtime_ns]
                                for p in sorted(set(inputs)) if os.path.isabs(p)]}
            _write_atomic(fmt, data)
            _write_atomic(manifest, json.dumps(entry, indent=1).encode())
        _prune(fmt.parent)
        return fmt
    except (OSError, EOFError, zlib.error):
        return None


def _recorded(fls: Path, work: Path) -> tuple[list[str], list[str]]:
    """The INPUT and OUTPUT files of a -recorder list; paths in `work` made relative to it."""
    inputs, outputs = [], []
    if not fls.exists():
        return inputs, outputs
    for line in fls.read_text(errors="replace").splitlines():
        kind, _, path = line.partition(" ")
        if path.startswith(str(work) + os.sep):
            path = path[len(str(work)) + 1:]
        elif path.startswith("./"):
            path = path[2:]
        if kind == "INPUT":
            inputs.append(path)
        elif kind == "OUTPUT":
            outputs.append(path)
    return inputs, outputs


def _write_atomic(path: Path, data: bytes) -> None:
    """Write `data` to a temporary file beside `path`, then rename it over `path` (atomic)."""
    handle, temp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _failed_before(head: bytes) -> bool:
    return _paths(head)[2].exists()


def _mark_failed(head: bytes, reason: str) -> None:
    """Note that `head`'s format must not be used again with this TeX, and drop it."""
    if not head:
        return
    fmt, manifest, failed = _paths(head)
    try:
        _write_atomic(failed, (reason + "\n\n" + head.decode(errors="replace")).encode())
        manifest.unlink(missing_ok=True)
        fmt.unlink(missing_ok=True)
    except OSError:
        pass


def _prune(folder: Path) -> None:
    """Keep the MAX_FORMATS most recently used formats (by their manifest's time)."""
    dated = []
    for manifest in folder.glob("pdflatex-*.json"):
        try:
            dated.append((manifest.stat().st_mtime_ns, manifest))
        except OSError:                # removed meanwhile by another process
            pass
    for _, old in sorted(dated, reverse=True)[MAX_FORMATS:]:
        old.unlink(missing_ok=True)
        old.with_suffix(".fmt").unlink(missing_ok=True)


# -- errors ------------------------------------------------------------------------------------
_ERROR_LINE = re.compile(r"^(!|\S+\.tex:\d+: )", re.MULTILINE)   # TeX errors (-file-line-error)


def log_excerpt(log: str, context: int = 3, limit: int = 20) -> str:
    """The lines of a TeX log around its errors (lines starting with '!' or 'file:line: ')."""
    lines = log.splitlines()
    picked: list[int] = []
    for i, line in enumerate(lines):
        if _ERROR_LINE.match(line):
            picked.extend(range(max(0, i - 1), min(len(lines), i + context + 1)))
    if not picked:
        picked = list(range(max(0, len(lines) - limit), len(lines)))
    seen: list[int] = []
    for i in picked:
        if i not in seen:
            seen.append(i)
    return "\n".join("  " + lines[i] for i in seen[:limit])


KEEP_LOGS = "DERIVE_KEEP_LOGS"   # set (to anything but "" or "0"): TeX's logs stay in derive-build/


def keep_logs() -> bool:
    """Whether TeX's logs stay beside the PDFs (in derive-build/NAME.log), for the page tests to read
    every Overfull box; by default only the PDFs are kept."""
    return os.environ.get(KEEP_LOGS, "") not in ("", "0")
