"""Pins in envs/*.yaml agree with the package metadata (pyproject.toml)."""

import re
import tomllib

import yaml

from .conftest import REPO


def _pins(lines):
    out = {}
    for line in lines:
        m = re.fullmatch(r"\s*([A-Za-z0-9_.-]+)\s*==\s*([^\s;]+)\s*", line)
        if m:
            out[m.group(1).lower()] = m.group(2)
    return out


def project_pins():
    meta = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    lines = list(meta["dependencies"])
    for extra in meta.get("optional-dependencies", {}).values():
        lines += extra
    pins = _pins(lines)
    assert len(pins) == len(set(lines)), "every dependency in pyproject.toml must be pinned with =="
    return pins


def env_pins(path):
    env = yaml.safe_load(path.read_text())
    lines = []
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            lines += dep.get("pip", [])
    return _pins(lines)


def test_every_env_pin_matches_pyproject():
    project = project_pins()
    envs = sorted((REPO / "envs").glob("*.yaml"))
    assert envs
    for env in envs:
        pins = env_pins(env)
        assert pins, f"{env.name} pins nothing"
        for name, version in pins.items():
            assert name in project, f"{env.name} pins {name}, which pyproject.toml does not"
            assert project[name] == version, f"{env.name}: {name}=={version}, pyproject.toml: {project[name]}"


def test_core_env_has_every_runtime_dependency():
    meta = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    runtime = _pins(meta["dependencies"])
    assert env_pins(REPO / "envs" / "core.yaml") == runtime
