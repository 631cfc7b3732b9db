"""Checks a .pkpass the way Wallet does, with tools that are not the code under test:
``openssl smime -verify`` for the signature, hashlib for the manifest.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import shutil
import subprocess
import tempfile
import zipfile
from pathlib import Path

# The independent verifier; a missing openssl fails the tests instead of skipping them.
OPENSSL = shutil.which("openssl") or "/usr/bin/openssl"


def unzip(pkpass: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(pkpass)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def rezip(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buf.getvalue()


def openssl_verify(
    signature: bytes, manifest: bytes, ca_pem: Path
) -> subprocess.CompletedProcess[str]:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "signature").write_bytes(signature)
        (folder / "manifest.json").write_bytes(manifest)
        return subprocess.run(  # noqa: S603
            [
                OPENSSL,
                "smime",
                "-verify",
                "-binary",
                "-inform",
                "DER",
                "-in",
                str(folder / "signature"),
                "-content",
                str(folder / "manifest.json"),
                "-CAfile",
                str(ca_pem),
                "-purpose",
                "any",
                "-out",
                str(folder / "out"),
            ],
            capture_output=True,
            text=True,
            check=False,
            timeout=30,
        )


def manifest_problems(files: dict[str, bytes]) -> list[str]:
    manifest = json.loads(files["manifest.json"])
    covered = set(files) - {"manifest.json", "signature"}
    problems = [f"not in manifest: {name}" for name in sorted(covered - set(manifest))]
    problems += [f"missing file: {name}" for name in sorted(set(manifest) - covered)]
    for name in sorted(covered & set(manifest)):
        if hashlib.sha1(files[name]).hexdigest() != manifest[name]:  # noqa: S324
            problems.append(f"hash mismatch: {name}")
    return problems


def pass_problems(pkpass: bytes, ca_pem: Path) -> list[str]:
    """Everything Wallet would reject the pass for; [] for a good pass."""
    files = unzip(pkpass)
    for required in ("pass.json", "manifest.json", "signature", "icon.png"):
        if required not in files:
            return [f"missing {required}"]
    problems = manifest_problems(files)
    result = openssl_verify(files["signature"], files["manifest.json"], ca_pem)
    if result.returncode != 0:
        problems.append(f"openssl: {result.stderr.strip()}")
    return problems


_STRINGS_LINE = re.compile(r'"((?:[^"\\]|\\.)*)"\s*=\s*"((?:[^"\\]|\\.)*)";')
_STRINGS_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\"}


def read_strings(data: bytes) -> dict[str, str]:
    """A ``pass.strings`` file as Foundation reads it: UTF-16 with a byte-order mark."""
    assert data[:2] in (b"\xff\xfe", b"\xfe\xff"), "pass.strings without a UTF-16 BOM"
    text = data.decode("utf-16")
    table: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        match = _STRINGS_LINE.fullmatch(line.strip())
        assert match is not None, f"not a strings line: {line!r}"
        key, value = (
            re.sub(r"\\(.)", lambda m: _STRINGS_ESCAPES[m.group(1)], part)
            for part in match.groups()
        )
        table[key] = value
    return table
