"""Versions: pyproject.toml has compatible ranges, envs/constraints.txt the exact tested versions
(inside those ranges), and envs/*.yaml and scripts/install.sh pin exactly the constraints."""

import re
import tomllib

import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

from .conftest import REPO

CONSTRAINTS = REPO / "envs" / "constraints.txt"


def _project():
    return tomllib.loads((REPO / "pyproject.toml").read_text())["project"]


def _ranges(lines) -> dict[str, SpecifierSet]:
    out = {}
    for line in lines:
        req = Requirement(line)
        out[canonicalize_name(req.name)] = req.specifier
    return out


def runtime_ranges() -> dict[str, SpecifierSet]:
    return _ranges(_project()["dependencies"])


def extra_ranges(extra: str) -> dict[str, SpecifierSet]:
    return _ranges(_project()["optional-dependencies"][extra])


def all_ranges() -> dict[str, SpecifierSet]:
    meta = _project()
    out = runtime_ranges()
    for extra in meta["optional-dependencies"]:
        for name, spec in extra_ranges(extra).items():
            assert out.setdefault(name, spec) == spec, f"{name} has two different ranges in pyproject.toml"
    return out


def _pins(lines, where) -> dict[str, str]:
    out = {}
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        m = re.fullmatch(r"([A-Za-z0-9_.-]+)\s*==\s*([^\s;,]+)", line)
        assert m, f"{where}: {line!r} is not an exact `name==version` pin"
        name = canonicalize_name(m.group(1))
        assert name not in out, f"{where}: {name} is pinned twice"
        out[name] = m.group(2)
    return out


def constraint_pins() -> dict[str, str]:
    return _pins(CONSTRAINTS.read_text().splitlines(), CONSTRAINTS.name)


def env_pins(path) -> dict[str, str]:
    env = yaml.safe_load(path.read_text())
    lines = []
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            lines += dep.get("pip", [])
    return _pins(lines, path.name)


def test_pyproject_has_ranges_not_pins():
    meta = _project()
    lines = list(meta["dependencies"]) + [r for extra in meta["optional-dependencies"].values() for r in extra]
    for line in lines:
        req = Requirement(line)
        ops = {s.operator for s in req.specifier}
        assert ops, f"pyproject.toml: {line!r} has no version range"
        assert not ops & {"==", "===", "~="}, f"pyproject.toml: {line!r} must be a range (>=low,<high), not a pin"
        assert any(o in (">=", ">") for o in ops) and any(o in ("<", "<=") for o in ops), (
            f"pyproject.toml: {line!r} needs a lower and an upper bound")


def test_every_constraint_lies_in_the_pyproject_range():
    ranges = all_ranges()
    pins = constraint_pins()
    assert set(pins) == set(ranges), (
        f"{CONSTRAINTS.name} and pyproject.toml name different packages: "
        f"only pinned {sorted(set(pins) - set(ranges))}, only ranged {sorted(set(ranges) - set(pins))}")
    for name, version in pins.items():
        assert ranges[name].contains(Version(version), prereleases=True), (
            f"{CONSTRAINTS.name}: {name}=={version} is outside pyproject.toml's {name}{ranges[name]}")


def test_every_env_pin_equals_the_constraint():
    pins = constraint_pins()
    envs = sorted((REPO / "envs").glob("*.yaml"))
    assert envs
    for env in envs:
        env_pin = env_pins(env)
        assert env_pin, f"{env.name} pins nothing"
        for name, version in env_pin.items():
            assert name in pins, f"{env.name} pins {name}, which {CONSTRAINTS.name} does not"
            assert pins[name] == version, f"{env.name}: {name}=={version}, {CONSTRAINTS.name}: {pins[name]}"


def test_core_env_is_the_runtime_dependencies():
    assert set(env_pins(REPO / "envs" / "core.yaml")) == set(runtime_ranges())


def test_model_env_is_runtime_plus_model_extra():
    assert set(env_pins(REPO / "envs" / "model.yaml")) == set(runtime_ranges()) | set(extra_ranges("model"))


def test_install_script_uses_the_constraints():
    script = (REPO / "scripts" / "install.sh").read_text()
    pins = constraint_pins()
    code = [line for line in script.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    # every install goes through the PIP array, which passes the constraints
    pip_def = [line for line in code if line.startswith("PIP=(")]
    assert len(pip_def) == 1 and "pip install" in pip_def[0] and "-c envs/constraints.txt" in pip_def[0]
    assert not [line for line in code if "pip install" in line and not line.startswith("PIP=(")]
    assert sum('"${PIP[@]}"' in line for line in code) >= 4
    # the packages it names itself (torch first, deepspeed without build isolation) are the pinned ones
    named = re.findall(r"\b([A-Za-z0-9_.-]+)==([0-9][^\s\"']*)", "\n".join(code))
    assert {canonicalize_name(n) for n, _ in named} == {"torch", "deepspeed"}
    for name, version in named:
        assert pins[canonicalize_name(name)] == version, f"install.sh: {name}=={version}, constraints: {pins[name]}"


def test_citation_matches_the_package():
    cff = yaml.safe_load((REPO / "CITATION.cff").read_text())
    assert cff["cff-version"] == "1.2.0"
    assert cff["title"] == _project()["name"]
    assert cff["version"] == _project()["version"]
    assert cff["license"] == "MIT"
    assert (REPO / "LICENSE").read_text().startswith("MIT License")
    refs = cff["references"]
    hh17 = [r for r in refs if r.get("doi") == "10.1038/s41562-017-0208-0"]
    assert len(hh17) == 1
    ref = hh17[0]
    assert ref["type"] == "article"
    assert [a["family-names"] for a in ref["authors"]] == ["Henderson", "Hayes"]
    assert ref["journal"] == "Nature Human Behaviour"
    assert (ref["year"], ref["volume"], ref["issue"], ref["start"], ref["end"]) == (2017, 1, 10, 743, 747)
