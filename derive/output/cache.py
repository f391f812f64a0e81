"""derive's cache folder, `$XDG_CACHE_HOME/derive/` (default `~/.cache/derive/`), and the compiled
templates kept in it.

Only what derive can make again lives here (TeX formats, see tex.py; Jinja's compiled templates):
anything missing, stale or unreadable is made again, never an error, and a cache that cannot be
written is simply not used.
"""
from __future__ import annotations

import hashlib
import os
import types
from pathlib import Path

import jinja2


def cache_dir() -> Path:
    """$XDG_CACHE_HOME/derive, or ~/.cache/derive (a relative $XDG_CACHE_HOME is ignored, as the
    XDG spec says)."""
    base = os.environ.get("XDG_CACHE_HOME", "")
    root = Path(base) if base and os.path.isabs(base) else Path.home() / ".cache"
    return root / "derive"


class TemplateCache(jinja2.FileSystemBytecodeCache):
    """Jinja's compiled templates on disk: compiling the worksheet's templates costs 0.08 s in every
    process, loading them a few milliseconds.

    Jinja checks each entry against a hash of the template's source and its own bytecode format;
    the folder's name adds Jinja's version and a hash of `settings` (the environment's delimiters
    and options, which the compiled code depends on but Jinja's check does not see). An entry that
    cannot be read (truncated, garbage) is compiled again and replaced.
    """

    def __init__(self, settings: str):
        super().__init__(directory=None, pattern="%s.jinja")
        self.settings = settings

    def _get_default_cache_dir(self) -> str:
        return ""                     # jinja2's own temporary folder is never used: see `folder`

    def folder(self) -> Path:
        digest = hashlib.sha256(self.settings.encode()).hexdigest()[:16]
        return cache_dir() / "templates" / f"jinja-{jinja2.__version__}-{digest}"

    def _get_cache_filename(self, bucket: jinja2.bccache.Bucket) -> str:
        return str(self.folder() / (self.pattern % bucket.key))

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except Exception:             # unreadable: pickle's and marshal's errors on garbage
            bucket.reset()
        if bucket.code is not None and not isinstance(bucket.code, types.CodeType):
            bucket.reset()

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            self.folder().mkdir(parents=True, exist_ok=True)
            super().dump_bytecode(bucket)      # a temporary file, then os.replace: never half-written
        except OSError:
            pass
