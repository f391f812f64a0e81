"""Output folders are derive's alone: the user's files survive every --out, every failure and every kill.

In-process where possible; a few subprocesses for SIGTERM, SIGKILL and racing processes.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import tomllib
from pathlib import Path

import pytest

import derive.cli.key
from derive.errors import DeriveError
from derive.output.folders import MANIFEST, staged_folder, write_file

from helpers import ROOT, run_cli

LECTURE = ROOT / "examples" / "lecture.toml"
EXAM = ROOT / "examples" / "exam.toml"
WORKSHEET_FILES = [MANIFEST, "key.json", "solutions.tex", "worksheet.tex"]


def snapshot(folder: Path) -> dict[str, bytes | None]:
    """Every entry below `folder` (hidden ones too) with its bytes (None for a folder)."""
    return {p.relative_to(folder).as_posix(): (None if p.is_dir() else p.read_bytes())
            for p in sorted(folder.rglob("*"))}


def one_line(result) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("derive: ") and "Traceback" not in result.stderr
    return lines[0]


@pytest.fixture
def project(tmp_path) -> Path:
    """A user's folder: the spec and their notes."""
    folder = tmp_path / "p"
    folder.mkdir()
    shutil.copy(LECTURE, folder / "lecture.toml")
    (folder / "notes.txt").write_text("my notes\n")
    return folder


# ---------------------------------------------------------------------------------- what --out refuses

@pytest.mark.parametrize("command", ["worksheet", "exam"])
def test_the_specs_own_folder_is_refused_and_every_file_kept(project, command):
    before = snapshot(project)
    extra = ["--variants", "1", "--seed", "1"] if command == "exam" else []
    for out, cwd in [(project, None), (str(project) + "/", None), ("p", project.parent)]:
        result = run_cli(command, project / "lecture.toml", "--no-pdf", *extra, "--out", out, cwd=cwd)
        assert result.returncode == 2
        line = one_line(result)
        assert f"--out {out}" in line and "holds the spec" in line
        assert snapshot(project) == before
        assert sorted(p.name for p in project.parent.iterdir()) == ["p"]


def test_even_force_does_not_write_into_the_specs_folder(project):
    before = snapshot(project)
    result = run_cli("worksheet", project / "lecture.toml", "--no-pdf", "--force", "--out", project)
    assert result.returncode == 2 and "holds the spec" in one_line(result)
    assert snapshot(project) == before


@pytest.mark.parametrize("out, says", [(".", "is the current folder"), ("/", "holds the current folder"),
                                       ("..", "holds the current folder"), ("", "expected a folder name"),
                                       ("CWD", "is the current folder"), ("PARENT", "holds the current folder")])
def test_the_current_folder_its_parents_and_an_empty_name_are_refused(project, out, says):
    """`--out "$(pwd)"` used to leave the shell in a deleted folder; `--out .` and `/` failed half-way."""
    out = {"CWD": str(project), "PARENT": str(project.parent)}.get(out, out)
    before = snapshot(project.parent)
    result = run_cli("worksheet", LECTURE, "--no-pdf", "--out", out, cwd=project)
    assert result.returncode == 2
    line = one_line(result)
    assert says in line and "--out" in line
    assert snapshot(project.parent) == before


def test_a_folder_with_other_files_is_refused_and_force_writes_beside_them(tmp_path):
    out = tmp_path / "out"
    (out / "sub").mkdir(parents=True)
    (out / "notes.txt").write_text("mine")
    (out / "sub" / "data.csv").write_text("1,2")
    before = snapshot(out)
    result = run_cli("worksheet", LECTURE, "--no-pdf", "--out", out)
    assert result.returncode == 2
    line = one_line(result)
    assert f"--out {out}" in line and "notes.txt" in line and "--force" in line
    assert snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]

    assert run_cli("worksheet", LECTURE, "--no-pdf", "--force", "--out", out).returncode == 0
    after = snapshot(out)
    assert {k: after[k] for k in before} == before                        # every user file as it was
    assert sorted(set(after) - set(before)) == WORKSHEET_FILES
    manifest = json.loads((out / MANIFEST).read_text())
    assert manifest["files"] == ["key.json", "solutions.tex", "worksheet.tex"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]            # nothing hidden left beside


def test_force_replaces_only_derives_files_and_removes_only_those_it_no_longer_writes(tmp_path):
    out = tmp_path / "exam"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    assert run_cli("exam", EXAM, "--variants", 3, "--seed", 4, "--no-pdf", "--force", "--out", out).returncode == 0
    (out / "variants" / "mine.txt").write_text("also mine")
    (out / "keys.csv").write_text("tampered")
    assert run_cli("exam", EXAM, "--variants", 2, "--seed", 4, "--no-pdf", "--force", "--out", out).returncode == 0
    assert (out / "notes.txt").read_text() == "mine"
    assert (out / "variants" / "mine.txt").read_text() == "also mine"
    assert (out / "keys.csv").read_text().startswith("variant,out_o1")      # derive's file replaced
    assert sorted(p.name for p in (out / "variants").iterdir()) == ["001", "002", "mine.txt"]   # 003 removed
    listed = json.loads((out / MANIFEST).read_text())["files"]
    assert "variants/003/key.json" not in listed and "notes.txt" not in listed and "keys.csv" in listed


def test_force_never_removes_a_users_folder_in_the_way(tmp_path):
    out = tmp_path / "out"
    (out / "key.json").mkdir(parents=True)
    (out / "key.json" / "inside.txt").write_text("mine")
    before = snapshot(out)
    result = run_cli("worksheet", LECTURE, "--no-pdf", "--force", "--out", out)
    assert result.returncode == 2 and "key.json" in one_line(result)
    assert snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_a_second_run_replaces_the_firsts_files(tmp_path):
    out = tmp_path / "out"
    assert run_cli("worksheet", LECTURE, "--no-pdf", "--out", out).returncode == 0
    first = snapshot(out)
    (out / "key.json").write_text("tampered")
    (out / "stale.tex").write_text("x")
    os.remove(out / "stale.tex")
    assert run_cli("worksheet", LECTURE, "--no-pdf", "--out", out).returncode == 0
    assert snapshot(out) == first                       # same spec, same bytes, the manifest included
    assert sorted(first) == WORKSHEET_FILES
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_a_link_to_a_folder_is_followed_and_kept(tmp_path):
    (tmp_path / "disk").mkdir()
    (tmp_path / "out").symlink_to("disk")
    for _ in range(2):
        assert run_cli("worksheet", LECTURE, "--no-pdf", "--out", tmp_path / "out").returncode == 0
    assert (tmp_path / "out").is_symlink()
    assert sorted(p.name for p in (tmp_path / "disk").iterdir()) == WORKSHEET_FILES
    assert sorted(p.name for p in tmp_path.iterdir()) == ["disk", "out"]


def test_a_user_file_added_to_derives_folder_is_kept(tmp_path):
    out = tmp_path / "out"
    assert run_cli("worksheet", LECTURE, "--no-pdf", "--out", out).returncode == 0
    (out / "notes.txt").write_text("mine")
    result = run_cli("worksheet", LECTURE, "--no-pdf", "--out", out)
    assert result.returncode == 2 and "notes.txt" in one_line(result)
    assert (out / "notes.txt").read_text() == "mine"
    assert run_cli("worksheet", LECTURE, "--no-pdf", "--out", out, "--force").returncode == 0
    assert (out / "notes.txt").read_text() == "mine"


def test_a_folder_of_the_derive_before_manifests_counts_as_derives(tmp_path):
    """`make worksheet` a second time after upgrading: output/lecture/ has derive's names only."""
    out = tmp_path / "lecture"
    out.mkdir()
    for name in ["worksheet.tex", "solutions.tex", "key.json", "worksheet.pdf", "solutions.pdf"]:
        (out / name).write_text("old")
    assert run_cli("worksheet", LECTURE, "--no-pdf", "--out", out).returncode == 0
    assert sorted(p.name for p in out.iterdir()) == WORKSHEET_FILES
    exam = tmp_path / "exam"
    (exam / "variants" / "001").mkdir(parents=True)
    for name in ["exam.tex", "keys.csv", "moodle.xml", "variants/001/key.json"]:
        (exam / name).write_text("old")
    assert run_cli("exam", EXAM, "--variants", 1, "--seed", 1, "--no-pdf", "--out", exam).returncode == 0
    assert not (exam / "variants" / "001" / "key.json").read_text() == "old"
    (out / MANIFEST).unlink()
    (out / "extra.txt").write_text("mine")              # no manifest and a name derive never writes
    result = run_cli("worksheet", LECTURE, "--no-pdf", "--out", out)
    assert result.returncode == 2 and "extra.txt" in one_line(result)


# ---------------------------------------------------------------------------------- failures and kills

def _broken_templates(tmp_path: Path) -> Path:
    folder = tmp_path / "templates"
    shutil.copytree(ROOT / "templates", folder)
    path = folder / "solutions.tex"
    path.write_text(path.read_text().replace(r"\begin{document}", r"\begin{document}\undefinedmacro", 1))
    return folder


def test_parents_created_for_a_failed_run_are_removed(tmp_path):
    result = run_cli("worksheet", LECTURE, "--out", tmp_path / "new" / "a" / "b",
                     env={"DERIVE_TEMPLATES": str(_broken_templates(tmp_path))})
    assert result.returncode == 2 and "TeX failed" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["templates"]


def test_a_failure_inside_the_block_leaves_nothing_and_keeps_existing_parents(tmp_path):
    (tmp_path / "new").mkdir()
    with pytest.raises(DeriveError):
        with staged_folder(tmp_path / "new" / "a" / "b") as stage:
            (stage / "x.txt").write_text("x")
            raise DeriveError("boom")
    assert snapshot(tmp_path) == {"new": None}


def test_a_stale_staging_folder_of_a_dead_run_is_swept(tmp_path):
    side = tmp_path / ".out.derive"
    (side / "stage-dead1234").mkdir(parents=True)
    (side / "stage-dead1234" / "exam.pdf").write_bytes(b"x" * 5_000_000)
    (side / "lock").write_text("")                       # nobody holds it: its run is dead
    (side / "keep-me").write_text("not derive's name")   # swept only are derive's own names
    assert run_cli("worksheet", LECTURE, "--no-pdf", "--out", tmp_path / "out").returncode == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [".out.derive", "out"]
    assert sorted(p.name for p in side.iterdir()) == ["keep-me"]


def test_an_old_copy_of_a_run_killed_between_its_two_renames_is_put_back(tmp_path):
    side = tmp_path / ".out.derive"
    (side / "old-abc" / "previous").mkdir(parents=True)
    (side / "old-abc" / "previous" / "notes.txt").write_text("mine")   # whatever it held comes back
    result = run_cli("worksheet", LECTURE, "--no-pdf", "--out", tmp_path / "out")
    assert result.returncode == 2 and "notes.txt" in one_line(result)
    assert (tmp_path / "out" / "notes.txt").read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_what_the_derive_before_manifests_left_beside_the_folder_is_swept_when_an_hour_old(tmp_path):
    old, fresh, other = tmp_path / ".out.tmp-ab_cd123", tmp_path / ".out.old-zz991100", tmp_path / ".out.tmp-mine"
    for folder in (old, fresh, other):
        folder.mkdir()
        (folder / "exam.pdf").write_bytes(b"x" * 1000)
    for folder in (old, other):
        os.utime(folder, (time.time() - 7200, time.time() - 7200))
    assert run_cli("worksheet", LECTURE, "--no-pdf", "--out", tmp_path / "out").returncode == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [".out.old-zz991100", ".out.tmp-mine", "out"]


def test_an_empty_folder_is_derives_to_fill(tmp_path):
    (tmp_path / "out").mkdir()
    assert run_cli("worksheet", LECTURE, "--no-pdf", "--out", tmp_path / "out").returncode == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == WORKSHEET_FILES


def _start_exam(out: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "derive", "exam", str(EXAM), "--variants", "40", "--seed", "3",
                             "--out", str(out)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)


def _wait_for_staging(process: subprocess.Popen, side: Path) -> None:
    deadline = time.monotonic() + 120
    while not (side.is_dir() and any(p.name.startswith("stage-") and any(p.glob("*.tex"))
                                     for p in side.iterdir())):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.02)
    time.sleep(0.3)                                      # TeX is running now


def test_sigterm_cleans_up_and_exits_143_with_one_line(tmp_path):
    out = tmp_path / "exam"
    out.mkdir()
    (out / "keys.csv").write_text("an earlier run")      # a folder of the derive before manifests
    process = _start_exam(out)
    try:
        _wait_for_staging(process, tmp_path / ".exam.derive")
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=300)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert process.returncode == 143
    assert stderr.strip().splitlines() == ["derive: terminated (SIGTERM); nothing half-written was left"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["exam"]
    assert snapshot(out) == {"keys.csv": b"an earlier run"}


def _session(leader: int) -> list[str]:
    """The command lines of the processes alive in the session `leader` started (itself excepted;
    not the dead ones whose parent has yet to collect them)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != leader:
            try:
                state = (entry / "stat").read_text().rpartition(")")[2].split()[0]
                if os.getsid(int(entry.name)) == leader and state != "Z":
                    found.append((entry / "cmdline").read_bytes().replace(b"\0", b" ").decode())
            except (ProcessLookupError, PermissionError, FileNotFoundError):
                pass
    return found


def test_sigterm_during_a_long_tex_run_ends_tex_at_once(tmp_path):
    """TeX that would run forever (a real pdfTeX loop before each pdflatex: the `pdflatex` first on
    PATH runs it): SIGTERM ends derive within about 2 s, with every TeX process, exit 143, and what
    derive wrote gone (the user's file beside the output folder is kept)."""
    tools = tmp_path / "bin"
    tools.mkdir()
    (tools / "pdflatex").write_text(
        "#!/bin/sh\n"
        f"openin_any=a openout_any=a {shutil.which('pdftex')} -ini -interaction=batchmode "
        f"-output-directory={tmp_path / 'loop'} '\\catcode123=1 \\catcode125=2 \\def\\l{{\\l}}\\l' >/dev/null\n"
        f"exec {shutil.which('pdflatex')} \"$@\"\n")
    (tools / "pdflatex").chmod(0o755)
    (tmp_path / "loop").mkdir()
    user = tmp_path / "notes.txt"
    user.write_text("my notes\n")
    env = dict(os.environ, PATH=f"{tools}{os.pathsep}{os.environ['PATH']}", XDG_CACHE_HOME=str(tmp_path / "cache"))
    process = subprocess.Popen([sys.executable, "-m", "derive", "worksheet", str(LECTURE), "--out", str(tmp_path / "o")],
                               cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while sum("-ini -interaction=batchmode" in line for line in _session(process.pid)) < 2:
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline
            time.sleep(0.05)
        time.sleep(0.3)                                  # TeX loops now, in both of derive's runs
        sent = time.monotonic()
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
        took = time.monotonic() - sent
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        left = _session(process.pid)
        for pid in [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit()]:
            try:
                if os.getsid(pid) == process.pid:
                    os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
    assert took < 2.5, took
    assert left == []
    assert process.returncode == 143
    assert stderr.strip().splitlines() == ["derive: terminated (SIGTERM); nothing half-written was left"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bin", "cache", "loop", "notes.txt"]
    assert user.read_text() == "my notes\n"
    assert list((tmp_path / "cache").rglob("*.failed")) == []     # a stopped dump is no failed format


def test_after_sigkill_the_next_run_sweeps_the_staging_folder(tmp_path):
    out = tmp_path / "exam"
    side = tmp_path / ".exam.derive"
    process = _start_exam(out)
    try:
        _wait_for_staging(process, side)
    finally:
        os.killpg(process.pid, signal.SIGKILL)           # derive and its TeX, as the OOM killer would
        process.wait()
    assert any(p.name.startswith("stage-") for p in side.iterdir())
    assert not out.exists()
    assert run_cli("exam", EXAM, "--variants", 2, "--seed", 3, "--no-pdf", "--out", out).returncode == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["exam"]


def test_racing_replacements_of_one_folder_all_succeed(tmp_path):
    """20 threads replace the same folder at once: none fails, the folder is one run's whole output."""
    out = tmp_path / "nested" / "out"
    errors, barrier = [], threading.Barrier(20)

    def replace(n: int) -> None:
        try:
            barrier.wait()
            with staged_folder(out) as stage:
                for name in ("a.txt", "b.txt", "c.txt"):
                    (stage / name).write_text(f"{n}\n")
        except BaseException as exc:             # noqa: BLE001 - every failure is the test's finding
            errors.append(exc)

    threads = [threading.Thread(target=replace, args=(n,)) for n in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    contents = {(out / name).read_text() for name in ("a.txt", "b.txt", "c.txt")}
    assert len(contents) == 1
    assert sorted(p.name for p in out.iterdir()) == [MANIFEST, "a.txt", "b.txt", "c.txt"]
    assert sorted(p.name for p in out.parent.iterdir()) == ["out"]


def test_racing_processes_all_succeed(tmp_path):
    out = tmp_path / "out"
    command = [sys.executable, "-m", "derive", "worksheet", str(LECTURE), "--no-pdf", "--out", str(out)]
    processes = [subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for _ in range(3)]
    results = [(p.wait(timeout=300), p.communicate()[1]) for p in processes]
    assert results == [(0, "")] * 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    assert sorted(p.name for p in out.iterdir()) == WORKSHEET_FILES


# ---------------------------------------------------------------------------------- single files (-o)

@pytest.mark.parametrize("mask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_o_respects_the_umask(tmp_path, mask, mode):
    old = os.umask(mask)
    try:
        assert run_cli("key", LECTURE, "-o", tmp_path / "key.json").returncode == 0
        assert run_cli("style", "-o", tmp_path / "derive.sty").returncode == 0
    finally:
        os.umask(old)
    assert (tmp_path / "key.json").stat().st_mode & 0o777 == mode
    assert (tmp_path / "derive.sty").stat().st_mode & 0o777 == mode
    assert sorted(p.name for p in tmp_path.iterdir()) == ["derive.sty", "key.json"]


def test_o_keeps_the_mode_of_the_file_it_replaces(tmp_path):
    path = tmp_path / "w1.tex"
    path.write_text("old")
    path.chmod(0o640)
    assert run_cli("snippet", LECTURE, "--step", "w1+", "-o", path).returncode == 0
    assert path.stat().st_mode & 0o777 == 0o640 and path.read_text() != "old"


def test_o_never_replaces_a_folder_nor_the_spec(tmp_path):
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "a.tex").write_text("mine")
    result = run_cli("key", LECTURE, "-o", folder)
    assert result.returncode == 2 and "cannot write: this is a folder" in one_line(result)
    assert snapshot(folder) == {"a.tex": b"mine"}
    spec = tmp_path / "spec.toml"
    shutil.copy(LECTURE, spec)
    result = run_cli("key", spec, "-o", spec)
    assert result.returncode == 2 and "is the input file" in one_line(result)
    assert spec.read_bytes() == LECTURE.read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes", "spec.toml"]


def test_write_file_is_atomic_and_writes_through_a_link(tmp_path):
    write_file(tmp_path / "a.txt", "one")
    write_file(tmp_path / "a.txt", "two")
    assert snapshot(tmp_path) == {"a.txt": b"two"}
    (tmp_path / "link.txt").symlink_to("a.txt")
    write_file(tmp_path / "link.txt", "three")
    assert (tmp_path / "link.txt").is_symlink() and (tmp_path / "a.txt").read_text() == "three"


# ---------------------------------------------------------------------------------- no traceback, ever

def test_an_unexpected_exception_is_one_line_exit_1(monkeypatch):
    def boom(spec):
        raise RuntimeError("something inside broke " + "x" * 500)
    monkeypatch.setattr(derive.cli.key, "solve", boom)
    result = run_cli("key", LECTURE)
    assert result.returncode == 1
    line = one_line(result)
    assert line.startswith("derive: internal error (RuntimeError: something inside broke xxx")
    assert line.endswith("please report it with the command you ran") and len(line) < 200
    with pytest.raises(RuntimeError):
        run_cli("key", LECTURE, env={"DERIVE_DEBUG": "1"})


def test_a_huge_argument_is_not_echoed_whole(tmp_path):
    huge = "$" * 130_000
    for args in (["chain", huge], ["worksheet", LECTURE, "--no-pdf", "--out", tmp_path / huge[:1000] / "x"],
                 ["key", tmp_path / ("a" * 130_000)]):
        result = run_cli(*args)
        assert result.returncode == 2
        assert len(one_line(result)) < 500, result.stderr[:300]


def test_a_huge_argument_in_a_usage_error_is_not_echoed_whole():
    huge = "7x" * 65_000
    for args in (["exam", EXAM, "--variants", huge], ["snippet", LECTURE, "--part", huge], [huge]):
        result = run_cli(*args)
        assert result.returncode == 2 and "usage: derive" in result.stderr
        assert huge[:50] in result.stderr and len(result.stderr) < 1000


def test_the_manifest_names_the_version_pyproject_gives(tmp_path):
    """The version is written in derive (reading the package's metadata would cost 0.03 s a run)."""
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert run_cli("worksheet", ROOT / "examples/lecture.toml", "--out", tmp_path / "w", "--no-pdf").returncode == 0
    assert json.loads((tmp_path / "w" / MANIFEST).read_text())["derive"] == declared
