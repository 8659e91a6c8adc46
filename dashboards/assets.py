"""The offline asset cache: Solara's JavaScript and CSS, fetched from the npm registry once.

Solara's page template loads its JavaScript and CSS from a CDN (``{{cdn}}/<package>@<version>/
<file>``). With ``SOLARA_ASSETS_PROXY`` on (the default), the server serves ``/_solara/cdn/...``
from ``SOLARA_ASSETS_PROXY_CACHE_DIR/<package>@<version>/<file>`` and goes to the CDN only on a
cache miss. These machines have no CDN, only the npm registry, so we read the package names and
versions from the installed solara's template, fetch each with ``npm pack`` at set-up time and
unpack it in that layout. ``server_environment`` also points the CDN at an address that refuses
connections, so a missing file fails at once instead of reaching out to the internet.

    python -m dashboards.assets            # fill .cache/solara-assets (idempotent)
    python -m dashboards.assets --check    # exit 1 if something is missing
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CACHE = ROOT / ".cache" / "solara-assets"
# Port 9 (discard) on the loopback refuses connections: a cache miss fails fast and offline.
NO_CDN = "http://127.0.0.1:9/"

# "{{cdn}}/@scope/name@1.2.3/..." or "{{cdn}}/name@1.2.3/..." in the Jinja template.
_CDN_REF = re.compile(r"\{\{\s*cdn\s*\}\}/((?:@[\w.-]+/)?[\w.-]+)@(\d+\.\d+\.\d+[\w.-]*)/")
_PINNED = re.compile(r"^/?((?:@[\w.-]+/)?[\w.-]+)@(\d+\.\d+\.\d+[\w.-]*)/")


def template_packages(template: str, *, vue3: bool) -> list[tuple[str, str]]:
    """(package, version) pairs the page template loads from the CDN, in order, once each.

    The template has a Vue 3 and a Vue 2 branch; only the one this installation renders is
    needed (ipyvue < 2 renders the Vue 2 one).
    """
    out: list[tuple[str, str]] = []
    for name, version in _CDN_REF.findall(template):
        if "solara-vuetify" in name and ("vuetify3" in name) != vue3:
            continue
        if (name, version) not in out:
            out.append((name, version))
    return out


def pinned_package(path: str) -> tuple[str, str] | None:
    """(package, version) of a CDN path like ``/font-awesome@4.5.0/css/x.css``, else None."""
    found = _PINNED.match(path)
    return (found.group(1), found.group(2)) if found else None


def required_packages() -> list[tuple[str, str]]:
    """Every package the installed solara's page needs, read from its template and settings."""
    import ipyvue
    import solara.server.settings as server_settings

    template = (Path(server_settings.__file__).parent / "templates" / "solara.html.j2")
    vue3 = int(ipyvue.__version__.split(".")[0]) >= 3
    packages = template_packages(template.read_text(encoding="utf-8"), vue3=vue3)
    assets = server_settings.assets
    if assets.fontawesome_enabled:
        extra = pinned_package(assets.fontawesome_path)
        if extra and extra not in packages:
            packages.append(extra)
    return packages


def package_dir(cache: Path, name: str, version: str) -> Path:
    return cache / f"{name}@{version}"


def missing(cache: Path = DEFAULT_CACHE) -> list[str]:
    """Packages not yet in the cache, as ``name@version``."""
    return [f"{n}@{v}" for n, v in required_packages()
            if not (package_dir(cache, n, v) / "package.json").is_file()]


def fetch(name: str, version: str, cache: Path, npm: str = "npm") -> Path:
    """``npm pack`` one package and unpack it into ``cache/<name>@<version>/``."""
    target = package_dir(cache, name, version)
    with tempfile.TemporaryDirectory(prefix="solara-asset-") as tmp:
        proc = subprocess.run([npm, "pack", f"{name}@{version}", "--silent"], cwd=tmp,
                              capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise RuntimeError(f"npm pack {name}@{version} failed: {proc.stderr.strip()}")
        (tarball,) = Path(tmp).glob("*.tgz")
        unpacked = Path(tmp) / "unpacked"
        with tarfile.open(tarball) as tar:
            tar.extractall(unpacked, filter="data")  # "data" refuses links out and abs paths
        # npm tarballs hold one top folder, "package/" by convention (not always by that name).
        (top,) = [p for p in unpacked.iterdir() if p.is_dir()]
        # Write next to the target and rename, so a half-copied package never looks complete.
        staging = target.with_name(target.name + ".partial")
        shutil.rmtree(staging, ignore_errors=True)
        staging.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(top, staging)
        shutil.rmtree(target, ignore_errors=True)
        staging.rename(target)
    return target


def fill(cache: Path = DEFAULT_CACHE) -> list[str]:
    """Fetch whatever is missing; returns what was fetched."""
    if shutil.which("npm") is None:
        raise RuntimeError("npm is not installed (apt-get install -y npm); it fetches Solara's "
                           "JavaScript and CSS from the npm registry")
    fetched = []
    for name, version in required_packages():
        if not (package_dir(cache, name, version) / "package.json").is_file():
            fetch(name, version, cache)
            fetched.append(f"{name}@{version}")
    return fetched


def server_environment(cache: Path = DEFAULT_CACHE) -> dict[str, str]:
    """Environment variables that make ``solara run`` serve the assets from ``cache`` only."""
    return {"SOLARA_ASSETS_PROXY": "true",
            "SOLARA_ASSETS_PROXY_CACHE_DIR": str(cache),
            "SOLARA_ASSETS_CDN": NO_CDN,
            # Telemetry would call the internet too.
            "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "false"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=Path(os.environ.get(
        "HELIXSIM_ASSETS_DIR", DEFAULT_CACHE)))
    parser.add_argument("--check", action="store_true", help="only report what is missing")
    args = parser.parse_args(argv)
    if args.check:
        gone = missing(args.cache)
        for item in gone:
            print(f"missing: {item}")
        return 1 if gone else 0
    try:
        fetched = fill(args.cache)
    except RuntimeError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(f"solara assets in {args.cache}: " + (f"fetched {', '.join(fetched)}" if fetched
                                                else "already complete"))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
