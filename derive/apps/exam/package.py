"""A zip package whose bytes depend only on its members: fixed dates and modes, members in order.

Canvas and QTI 2.1 exports are zips; same spec and seed must give the same bytes.
"""
from __future__ import annotations

import io
import zipfile

EPOCH = (1980, 1, 1, 0, 0, 0)         # the earliest date a zip can hold


def zip_bytes(members: dict[str, str | bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for name in sorted(members, key=lambda n: (n != "imsmanifest.xml", n)):   # manifest first
            info = zipfile.ZipInfo(name, date_time=EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            data = members[name]
            z.writestr(info, data.encode("utf-8") if isinstance(data, str) else data)
    return buffer.getvalue()
