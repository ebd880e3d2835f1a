"""The base images, built here from Debian's packages when no registry answers.

Each is tagged with a digest of its recipe (the Containerfile and files beside it, the
image it starts from, the versions it pins), so a run builds only what changed and a
changed recipe never reuses a stale image: ``localhost/pms-base-<name>:<digest>``.

- ``debian``: a bookworm root filesystem made by debootstrap (minbase) from the Debian
  mirror apt uses here, imported with ``podman import``;
- ``uv``: the uv binary of the Dockerfile's UV_IMAGE version, from its PyPI wheel, at
  ``/uv`` as in the official image;
- ``python``, ``postgres``, ``kafka``: deploy/images/<name>/Containerfile on ``debian``
  (Kafka's jars come from Maven Central as the launcher fetches them);
- ``python-build``: the python recipe's ``build`` stage, apt still in it, for the
  Dockerfile's build stage (``python`` itself is trimmed to what a service runs).
"""

import hashlib
import re
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from pms_cli.containers.engine import EngineError, Runner, require

REPOSITORY = "localhost/pms-base-{name}"
DEBIAN_SUITE = "bookworm"
DEFAULT_MIRROR = "http://deb.debian.org/debian"
_UV_IMAGE = re.compile(r"^ARG UV_IMAGE=\S+:(\d+\.\d+\.\d+)$", re.M)
_MIRROR_URI = re.compile(r"^(?:URIs:\s*|deb\s+(?:\[[^]]*\]\s+)?)(\S+/debian)/?\s", re.M)
BUILD_TIMEOUT_SECONDS = 1800.0
SLIM_DPKG_CONFIG = """\
# Written by `pms containers test`, as in Debian's -slim images.
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
"""
SLIM_FOLDERS = (
    "usr/share/doc",
    "usr/share/man",
    "usr/share/groff",
    "usr/share/info",
    "usr/share/lintian",
    "usr/share/linda",
    "usr/share/locale",
)
CACHE_FOLDERS = ("var/cache/apt", "var/lib/apt/lists", "var/log")
"""Only their files go: apt wants the folders."""


def digest(parts: Iterable[str | bytes]) -> str:
    hasher = hashlib.sha256()
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        hasher.update(len(data).to_bytes(8, "big") + data)
    return hasher.hexdigest()[:16]


def recipe_files(directory: Path) -> list[Path]:
    return sorted(path for path in directory.rglob("*") if path.is_file())


def directory_digest(directory: Path, *extra: str) -> str:
    parts: list[str | bytes] = list(extra)
    for path in recipe_files(directory):
        parts += [path.relative_to(directory).as_posix(), path.read_bytes()]
        parts.append("x" if path.stat().st_mode & 0o100 else "-")
    return digest(parts)


def image_ref(name: str, tag: str) -> str:
    return f"{REPOSITORY.format(name=name)}:{tag}"


def debian_mirror(sources: Iterable[str]) -> str:
    """The Debian archive apt uses here (deb822 ``URIs:`` or one-line ``deb`` sources)."""
    for text in sources:
        for match in _MIRROR_URI.finditer(text):
            return match.group(1)
    return DEFAULT_MIRROR


def apt_sources() -> list[str]:
    files = [Path("/etc/apt/sources.list"), *sorted(Path("/etc/apt/sources.list.d").glob("*"))]
    return [path.read_text(encoding="utf-8", errors="replace") for path in files if path.is_file()]


def slim_rootfs(rootfs: Path) -> None:
    """As Debian's -slim images: no documentation, manual pages or translations, now or in
    any package installed later (dpkg's path-exclude), and no package lists or caches."""
    config = rootfs / "etc" / "dpkg" / "dpkg.cfg.d" / "01-pms-slim"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(SLIM_DPKG_CONFIG, encoding="utf-8")
    for folder in SLIM_FOLDERS:
        for path in sorted((rootfs / folder).glob("*"), reverse=True):
            if folder == "usr/share/doc" and (path / "copyright").is_file():
                for item in path.iterdir():
                    if item.name != "copyright":
                        _remove(item)
            else:
                _remove(path)
    for folder in CACHE_FOLDERS:
        for path in (rootfs / folder).rglob("*"):
            if path.is_file() and path.name != "lock":
                path.unlink()


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def uv_version(dockerfile_text: str) -> str:
    match = _UV_IMAGE.search(dockerfile_text)
    if match is None:
        raise EngineError("deploy/docker/Dockerfile names no `ARG UV_IMAGE=...:X.Y.Z`")
    return match.group(1)


@dataclass(frozen=True)
class BaseImages:
    debian: str
    uv: str
    python: str
    python_build: str
    postgres: str
    kafka: str

    def as_dict(self) -> dict[str, str]:
        return dict(vars(self))


@dataclass
class BaseBuilder:
    """Builds each base image unless the image of its recipe's digest exists."""

    run: Runner
    root: Path
    work_dir: Path
    kafka_libs: Callable[[], Path]
    log: Callable[[str], None]

    def exists(self, ref: str) -> bool:
        return self.run(["podman", "image", "exists", ref]).ok

    def ensure_all(self) -> BaseImages:
        mirror = debian_mirror(apt_sources())
        debian = self.ensure_debian(mirror)
        return BaseImages(
            debian=debian,
            uv=self.ensure_uv(),
            python=self.ensure_from_recipe("python", debian),
            python_build=self.ensure_from_recipe("python", debian, target="build"),
            postgres=self.ensure_from_recipe("postgres", debian),
            kafka=self.ensure_kafka(debian),
        )

    def ensure_debian(self, mirror: str) -> str:
        ref = image_ref("debian", digest([DEBIAN_SUITE, "minbase", mirror, SLIM_DPKG_CONFIG]))
        if self.exists(ref):
            return ref
        self.log(f"building {ref}: debootstrap {DEBIAN_SUITE} from {mirror}")
        rootfs = Path(tempfile.mkdtemp(prefix="rootfs-", dir=self._work()))
        try:
            require(
                self.run(
                    ["debootstrap", "--variant=minbase", DEBIAN_SUITE, str(rootfs), mirror],
                    timeout=BUILD_TIMEOUT_SECONDS,
                ),
                "debootstrap",
            )
            slim_rootfs(rootfs)
            archive = self._work() / "rootfs.tar"
            require(self.run(["tar", "-C", str(rootfs), "-cf", str(archive), "."]), "tar")
            require(
                self.run(
                    ["podman", "import", "--change", 'CMD ["/bin/bash"]', str(archive), ref],
                    timeout=600,
                ),
                "podman import",
            )
            archive.unlink()
        finally:
            shutil.rmtree(rootfs, ignore_errors=True)
        return ref

    def ensure_uv(self) -> str:
        dockerfile = (self.root / "deploy" / "docker" / "Dockerfile").read_text(encoding="utf-8")
        version = uv_version(dockerfile)
        ref = image_ref("uv", digest(["uv", version, "v1"]))
        if self.exists(ref):
            return ref
        self.log(f"building {ref}: uv {version} from its PyPI wheel")
        scratch = Path(tempfile.mkdtemp(prefix="uv-", dir=self._work()))
        try:
            require(
                self.run(
                    ["uv", "tool", "run", "--from", "pip", "pip", "download", "--quiet",
                     "--no-deps", "--only-binary=:all:", "--dest", str(scratch),
                     f"uv=={version}"],
                    timeout=600,
                ),
                f"downloading uv {version} from PyPI",
            )  # fmt: skip
            (wheel,) = scratch.glob("uv-*.whl")
            image_dir = scratch / "image"
            image_dir.mkdir()
            with zipfile.ZipFile(wheel) as archive:
                for member in archive.namelist():
                    name = member.rsplit("/", 1)[-1]
                    if member.endswith(f"/scripts/{name}") and name in ("uv", "uvx"):
                        (image_dir / name).write_bytes(archive.read(member))
                        (image_dir / name).chmod(0o755)
            tar = scratch / "uv.tar"
            require(self.run(["tar", "-C", str(image_dir), "-cf", str(tar), "."]), "tar")
            require(
                self.run(["podman", "import", "--change", 'ENTRYPOINT ["/uv"]', str(tar), ref]),
                "podman import",
            )
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        return ref

    def ensure_from_recipe(
        self,
        name: str,
        debian: str,
        context: Path | None = None,
        extra: str = "",
        target: str | None = None,
    ) -> str:
        """The recipe's last stage, or its stage ``target`` (as image ``<name>-<target>``)."""
        recipe = self.root / "deploy" / "images" / name
        image = f"{name}-{target}" if target else name
        ref = image_ref(image, directory_digest(recipe, debian, extra))
        if self.exists(ref):
            return ref
        self.log(f"building {ref} from deploy/images/{name}")
        args = {"DEBIAN_IMAGE": debian}
        self.build(ref, recipe / "Containerfile", context or recipe, args, target)
        return ref

    def ensure_kafka(self, debian: str) -> str:
        libs = self.kafka_libs()
        jars = ",".join(sorted(path.name for path in libs.glob("*.jar")))
        recipe = self.root / "deploy" / "images" / "kafka"
        ref = image_ref("kafka", directory_digest(recipe, debian, jars))
        if self.exists(ref):
            return ref
        context = self._work() / "kafka-context"
        shutil.rmtree(context, ignore_errors=True)
        shutil.copytree(recipe, context)
        shutil.copytree(libs, context / "libs")
        try:
            return self.ensure_from_recipe("kafka", debian, context, jars)
        finally:
            shutil.rmtree(context, ignore_errors=True)

    def build(
        self,
        ref: str,
        containerfile: Path,
        context: Path,
        args: Mapping[str, str],
        target: str | None = None,
    ) -> None:
        argv = ["podman", "build", "--quiet", "--format", "docker", "--file", str(containerfile)]
        argv += ["--tag", ref, *(["--target", target] if target else [])]
        for key, value in args.items():
            argv += ["--build-arg", f"{key}={value}"]
        result = self.run([*argv, str(context)], timeout=BUILD_TIMEOUT_SECONDS, capture=True)
        require(result, f"podman build {ref}")

    def _work(self) -> Path:
        self.work_dir.mkdir(parents=True, exist_ok=True)
        return self.work_dir
