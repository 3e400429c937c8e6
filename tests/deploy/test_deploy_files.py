"""The deploy files (Dockerfile, compose, systemd units, env files) run only real `sms-tips`
commands and set only variables the settings object reads.

Nothing here runs a command: each `sms-tips ...` argv goes through the real argparse parser's
`parse_args`, and the known variable names are the ones `Settings.from_env` looks up, recorded
while it reads a recording environment (there is no public list to go stale).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import re
import shlex
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy.engine import make_url

from sms_service.cli import build_parser
from sms_service.core.settings import Settings
from sms_service.web.health import routes as health_routes
from tests.helpers.settings import filled_in, service_environ

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
DOCKERFILE = DEPLOY / "Dockerfile"
COMPOSE = DEPLOY / "compose.yaml"
UNITS = sorted((DEPLOY / "systemd").glob("*.service"))

# Real subcommands that must not run a deployment: `serve` migrates and runs web, scheduler and
# dispatcher in every replica ("local use and small pilots on SQLite"); `simulate` is a
# terminal stand-in for a phone. A test below keeps this list made of real subcommands.
LOCAL_ONLY_COMMANDS = {"serve", "simulate"}
# Compilers and build toolchains the final image must not install.
BUILD_TOOLS = {
    "gcc",
    "g++",
    "cc",
    "clang",
    "make",
    "build-essential",
    "build-base",
    "python3-dev",
    "libpq-dev",
}
_OPERATORS = {"&&", "||", ";", "|", "&", "(", ")", ";;"}
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


# --- what the service knows -----------------------------------------------------------------


class _RecordingEnviron(Mapping[str, str]):
    """An environment that remembers every name the settings code asks about."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self.values = dict(values)
        self.asked: set[str] = set()

    def __contains__(self, key: object) -> bool:
        if isinstance(key, str):
            self.asked.add(key)
        return key in self.values

    def __getitem__(self, key: str) -> str:
        self.asked.add(key)
        return self.values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.values)

    def __len__(self) -> int:
        return len(self.values)


def known_variables() -> set[str]:
    """Every environment variable `Settings.from_env` reads, in local and production mode."""
    names: set[str] = set()
    production = service_environ(
        "postgresql://sms_tips@db.internal/sms_tips",
        SMS_TIPS_ENV="production",
        SMS_TIPS_HELP_CONTACT="families@example.org",
    )
    for values in ({}, production):
        environ = _RecordingEnviron(values)
        Settings.from_env(environ, env_file=None)
        names |= environ.asked
    return names


KNOWN = known_variables()
PARSER = build_parser()
SUBCOMMANDS: set[str] = {
    name
    for action in PARSER._actions
    if isinstance(action, argparse._SubParsersAction)
    for name in action.choices
}


def command_problem(argv: list[str]) -> str | None:
    """Why `sms-tips *argv` is not a command a deployment may run (None when it is)."""
    if not argv:
        return "runs sms-tips with no subcommand"
    if argv[0] not in SUBCOMMANDS:
        return f"`sms-tips {argv[0]}` is not a subcommand (they are: {sorted(SUBCOMMANDS)})"
    if argv[0] in LOCAL_ONLY_COMMANDS:
        return f"`sms-tips {argv[0]}` is for local use, not a deployment"
    stderr = io.StringIO()
    try:
        with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
            args = build_parser().parse_args(argv)
    except SystemExit:
        message = stderr.getvalue().strip().splitlines()
        return f"`sms-tips {shlex.join(argv)}` does not parse: {message[-1] if message else ''}"
    if not callable(getattr(args, "handler", None)):
        return f"`sms-tips {shlex.join(argv)}` names no runnable command"
    return None


def variable_problem(name: str) -> str | None:
    if name not in KNOWN:
        return f"{name} is not a variable the settings read (sms_service/core/settings.py)"
    return None


# --- reading the files ----------------------------------------------------------------------


def sms_tips_invocations(words: list[str]) -> list[list[str]]:
    """The argv after each `sms-tips` run as a command in a shell word list (not as an
    argument: `ln -s .../sms-tips /usr/local/bin/sms-tips` runs nothing)."""
    found: list[list[str]] = []
    at_command = True
    for index, word in enumerate(words):
        if word in _OPERATORS:
            at_command = True
            continue
        if at_command and "=" in word and _ENV_NAME.match(word.split("=", 1)[0]):
            continue  # NAME=value before the command
        if at_command and word in {"exec", "env", "sudo", "nice"}:
            continue
        if at_command and Path(word).name == "sms-tips":
            rest = words[index + 1 :]
            end = next((i for i, w in enumerate(rest) if w in _OPERATORS), len(rest))
            found.append(rest[:end])
        at_command = False
    return found


def shell_words(command: str) -> list[str]:
    lexer = shlex.shlex(command, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    return list(lexer)


def command_words(value: str | list[str]) -> list[str]:
    """A Dockerfile/compose command, exec form (a list) or shell form (a string)."""
    if isinstance(value, list):
        if value[:2] in (["sh", "-c"], ["/bin/sh", "-c"]):
            return shell_words(" ".join(value[2:]))
        return [str(word) for word in value]
    return shell_words(value)


def env_file_names(path: Path) -> list[str]:
    names = []
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name = line.removeprefix("export ").partition("=")[0].strip()
            names.append(name)
    return names


@dataclass
class Instruction:
    keyword: str
    arguments: str
    line: int

    def exec_or_shell(self) -> str | list[str]:
        text = self.arguments.strip()
        if text.startswith("["):
            parsed: list[str] = json.loads(text)
            return parsed
        return text


def dockerfile_instructions(path: Path = DOCKERFILE) -> list[Instruction]:
    """The Dockerfile's instructions, continuations joined and comments dropped."""
    instructions: list[Instruction] = []
    pending, start = "", 0
    for number, raw in enumerate(path.read_text().splitlines(), start=1):
        stripped = raw.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if pending and stripped.startswith("#"):
            continue  # a comment inside a continued instruction
        if not pending:
            start = number
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        text = pending + stripped
        pending = ""
        keyword, _, arguments = text.partition(" ")
        instructions.append(Instruction(keyword.upper(), arguments.strip(), start))
    return instructions


def dockerfile_stages(path: Path = DOCKERFILE) -> list[list[Instruction]]:
    """The Dockerfile's instructions by stage (the global ARGs before the first FROM left out)."""
    stages: list[list[Instruction]] = []
    for instruction in dockerfile_instructions(path):
        if instruction.keyword == "FROM":
            stages.append([])
        elif not stages:
            # Only ARG may come before the first FROM (it parameterises the FROM lines).
            assert instruction.keyword == "ARG", f"{path.name}:{instruction.line}: before FROM"
            continue
        stages[-1].append(instruction)
    return stages


def dockerfile_global_args(path: Path = DOCKERFILE) -> dict[str, str]:
    """The ARGs before the first FROM, with their defaults: what `${NAME}` in a FROM means."""
    found: dict[str, str] = {}
    for instruction in dockerfile_instructions(path):
        if instruction.keyword == "FROM":
            break
        name, _, default = instruction.arguments.partition("=")
        found[name.strip()] = default.strip()
    return found


def dockerfile_env_names(instruction: Instruction) -> list[str]:
    words = shlex.split(instruction.arguments)
    if len(words) >= 2 and "=" not in words[0]:
        return [words[0]]  # legacy `ENV NAME value`
    return [word.partition("=")[0] for word in words]


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return loaded


def app_services(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The services running the sms-tips image (the rest are PostgreSQL and the proxy)."""
    return {
        name: service
        for name, service in spec["services"].items()
        if "build" in service or str(service.get("image", "")).startswith("sms-tips")
    }


def compose_env_files(service: dict[str, Any]) -> list[Path]:
    """A service's env files; an uncommitted one (secrets) is checked through its .example."""
    entries = service.get("env_file", [])
    entries = [entries] if isinstance(entries, str | dict) else entries
    paths = []
    for entry in entries:
        path = COMPOSE.parent / (entry["path"] if isinstance(entry, dict) else entry)
        example = path.with_name(path.name + ".example")
        assert path.is_file() or example.is_file(), f"{path.name}: neither it nor its .example"
        paths.append(path if path.is_file() and not example.is_file() else example)
    return paths


def compose_environment(service: dict[str, Any]) -> dict[str, str]:
    environment = service.get("environment", {})
    if isinstance(environment, list):
        environment = dict(item.partition("=")[::2] for item in environment)
    return {str(k): str(v) for k, v in environment.items()}


# --- the checks themselves fail for the mistakes they are for ------------------------------


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["serve"], "for local use"),
        (["srv"], "is not a subcommand"),
        (["web", "--bind", "0.0.0.0"], "does not parse"),
        (["web", "--port", "eighty"], "does not parse"),
        (["db"], "does not parse"),
        ([], "no subcommand"),
    ],
)
def test_the_command_check_rejects_a_wrong_command(argv: list[str], expected: str) -> None:
    problem = command_problem(argv)
    assert problem is not None and expected in problem


def test_the_variable_check_rejects_an_unknown_variable() -> None:
    problem = variable_problem("SMS_TIPS_TYPO")
    assert problem is not None and "SMS_TIPS_TYPO" in problem
    assert variable_problem("DATABASE_URL") is None


def test_the_known_variables_are_read_from_the_settings_code() -> None:
    # A few the README documents; the set itself comes from Settings.from_env.
    assert {"DATABASE_URL", "SMS_TIPS_ENV", "PUBLIC_BASE_URL", "SMS_TIPS_LOG_LEVEL"} <= KNOWN
    assert "SMS_TIPS_TYPO" not in KNOWN


def test_the_local_only_commands_are_real_subcommands() -> None:
    assert LOCAL_ONLY_COMMANDS <= SUBCOMMANDS


def test_invocations_are_found_only_in_command_position() -> None:
    words = shell_words("ln -s /opt/x/bin/sms-tips /usr/local/bin/sms-tips && sms-tips serve")
    assert sms_tips_invocations(words) == [["serve"]]
    assert sms_tips_invocations(["/opt/sms-tips/.venv/bin/sms-tips", "db", "upgrade"]) == [
        ["db", "upgrade"]
    ]


# --- Dockerfile -------------------------------------------------------------------------------


def test_dockerfile_runs_only_real_commands_and_sets_only_known_variables() -> None:
    problems, commands = [], []
    for stage in dockerfile_stages():
        for instruction in stage:
            where = f"Dockerfile:{instruction.line}"
            if instruction.keyword in {"RUN", "CMD", "ENTRYPOINT"}:
                words = command_words(instruction.exec_or_shell())
                commands += [(where, argv) for argv in sms_tips_invocations(words)]
            elif instruction.keyword == "HEALTHCHECK" and " CMD " in f" {instruction.arguments} ":
                cmd = instruction.arguments.split("CMD", 1)[1].strip()
                words = command_words(json.loads(cmd) if cmd.startswith("[") else cmd)
                commands += [(where, argv) for argv in sms_tips_invocations(words)]
            elif instruction.keyword == "ENV":
                problems += [
                    f"{where}: {problem}"
                    for name in dockerfile_env_names(instruction)
                    if (problem := variable_problem(name))
                ]
    problems += [f"{where}: {p}" for where, argv in commands if (p := command_problem(argv))]
    assert not problems, "\n".join(problems)


def test_dockerfile_default_command_serves_the_web_app_on_all_interfaces() -> None:
    final = dockerfile_stages()[-1]
    # compose gives each service a full `sms-tips ...` command; an ENTRYPOINT would prefix it.
    assert not [i for i in final if i.keyword == "ENTRYPOINT"]
    cmd = [i for i in final if i.keyword == "CMD"][-1]
    [argv] = sms_tips_invocations(command_words(cmd.exec_or_shell()))
    args = build_parser().parse_args(argv)
    assert (argv[0], args.host, args.port) == ("web", "0.0.0.0", 8000)


def test_dockerfile_final_stage_is_slim_and_runs_as_a_user_with_a_healthcheck() -> None:
    stages = dockerfile_stages()
    assert len(stages) >= 2, "multi-stage: build in one stage, run from a clean one"
    final = stages[-1]
    base = final[0].arguments.split()[0]
    for name, default in dockerfile_global_args().items():
        base = base.replace(f"${{{name}}}", default)
    assert re.fullmatch(r"python:3\.1[1-9]-slim(-\w+)?", base), base

    users = [i.arguments.split(":")[0].strip() for i in final if i.keyword == "USER"]
    assert users, "the final stage sets no USER: it would run as root"
    assert users[-1] not in {"root", "0"}, f"the final stage runs as {users[-1]}"

    [healthcheck] = [i for i in final if i.keyword == "HEALTHCHECK"]
    paths = {route.path for route in health_routes}
    assert "/healthz" in paths and "/healthz" in healthcheck.arguments
    assert "curl" not in healthcheck.arguments and "wget" not in healthcheck.arguments

    installed = []
    for instruction in final:
        if instruction.keyword == "RUN":
            words = set(command_words(instruction.exec_or_shell()))
            installed += sorted(words & BUILD_TOOLS)
    assert installed == [], f"the final stage installs build tools: {installed}"
    assert any(i.keyword == "EXPOSE" and "8000" in i.arguments.split() for i in final)


# --- compose ----------------------------------------------------------------------------------


def test_compose_services_run_real_commands_with_known_variables() -> None:
    spec = compose()
    apps = app_services(spec)
    assert set(apps) == {"migrate", "web", "scheduler", "dispatcher"}
    problems = []
    for name, service in apps.items():
        argv_lists = sms_tips_invocations(command_words(service["command"]))
        if not argv_lists:
            problems.append(f"{name}: its command runs no sms-tips subcommand")
        problems += [f"{name}: {p}" for argv in argv_lists if (p := command_problem(argv))]
        names = list(compose_environment(service))
        for path in compose_env_files(service):
            names += env_file_names(path)
        problems += [f"{name}: {p}" for n in names if (p := variable_problem(n))]
    assert not problems, "\n".join(problems)
    assert sms_tips_invocations(command_words(apps["migrate"]["command"])) == [["db", "upgrade"]]


def test_compose_starts_postgres_then_the_migration_then_the_replicas() -> None:
    services = compose()["services"]
    postgres = services["postgres"]
    assert str(postgres["image"]).startswith("postgres:")
    assert "pg_isready" in " ".join(map(str, postgres["healthcheck"]["test"]))
    assert any(str(volume).endswith(":/var/lib/postgresql/data") for volume in postgres["volumes"])
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert services["migrate"]["restart"] == "no"
    for name in ("web", "scheduler", "dispatcher"):
        service = services[name]
        assert service["deploy"]["replicas"] == 2, name
        assert service["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    web_argv = sms_tips_invocations(command_words(services["web"]["command"]))[0]
    assert build_parser().parse_args(web_argv).host == "0.0.0.0"  # reachable by the proxy


def test_compose_env_example_reaches_the_postgres_service_and_is_valid_once_filled() -> None:
    services = compose()["services"]
    [env_file] = compose_env_files(services["web"])
    values = dict(line.split("=", 1) for line in env_file.read_text().splitlines() if "=" in line)
    values = {k: v for k, v in values.items() if not k.startswith("#")}
    settings = filled_in(values)
    assert settings.is_production
    url = make_url(settings.database_url)
    postgres_env = compose_environment(services["postgres"])
    assert url.host == "postgres"  # the compose service
    assert url.database == postgres_env["POSTGRES_DB"]
    assert url.username == postgres_env["POSTGRES_USER"]


# --- systemd and env.example --------------------------------------------------------------


@pytest.mark.parametrize("unit", UNITS, ids=[unit.name for unit in UNITS])
def test_systemd_unit_runs_a_real_command_with_known_variables(unit: Path) -> None:
    problems = []
    invocations = []
    for line in unit.read_text().splitlines():
        key, _, value = line.partition("=")
        if key in {"ExecStart", "ExecStartPre", "ExecStartPost", "ExecReload", "ExecStop"}:
            invocations += sms_tips_invocations(shell_words(value.lstrip("-@+!:")))
        elif key == "Environment":
            for assignment in shlex.split(value):
                name = assignment.partition("=")[0]
                problems += [p for p in [variable_problem(name)] if p]
        elif key == "EnvironmentFile":
            assert value.lstrip("-") == "/etc/sms-tips/env", "env.example documents this file"
    assert invocations, f"{unit.name} runs no sms-tips command"
    problems += [p for argv in invocations if (p := command_problem(argv))]
    problems = [f"{unit.name}: {problem}" for problem in problems]
    assert not problems, "\n".join(problems)


def test_every_unit_may_write_the_metrics_directory_that_tmpfiles_makes() -> None:
    """ProtectSystem=strict makes the whole file system read-only to a unit: the shared
    PROMETHEUS_MULTIPROC_DIR must be one of its ReadWritePaths, or settings refuse to start
    ("not a writable directory") in every unit at once."""
    made = [
        line.split()[1]
        for line in (DEPLOY / "systemd" / "sms-tips-tmpfiles.conf").read_text().splitlines()
        if line.startswith("d ")
    ]
    metrics = next(path for path in made if path.endswith("/prometheus"))
    for unit in UNITS:
        lines = unit.read_text().splitlines()
        writable = [
            line.partition("=")[2].lstrip("-")
            for line in lines
            if line.startswith("ReadWritePaths=")
        ]
        assert "ProtectSystem=strict" in lines
        assert any(metrics == path or metrics.startswith(path + "/") for path in writable), (
            unit.name
        )
    assert metrics in (ROOT / "README.md").read_text()  # the value the README tells to set


def test_env_example_sets_only_known_variables() -> None:
    names = env_file_names(DEPLOY / "env.example")
    problems = [f"env.example: {p}" for name in names if (p := variable_problem(name))]
    assert not problems, "\n".join(problems)
