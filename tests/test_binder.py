"""Binder reads binder/ as intended: repo2docker's own plan for this repository (--no-build: no Docker)."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.server  # starts a process: left out of make test-fast


@pytest.fixture(scope="module")
def plan() -> tuple[str, str]:
    """(log, Dockerfile) that repo2docker generates for the repository as it is on disk."""
    exe = shutil.which("repo2docker", path=str(Path(sys.executable).parent)) or shutil.which("repo2docker")
    if exe is None:
        pytest.fail("repo2docker is missing: pip install -e .[test] (jupyter-repo2docker)")
    out = subprocess.run(
        [exe, "--no-build", "--no-run", "--debug", str(ROOT)], capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stderr, out.stdout


def test_python_version_comes_from_runtime_txt(plan):
    log, _ = plan
    wanted = (ROOT / "binder" / "runtime.txt").read_text().strip().removeprefix("python-")
    assert wanted == "3.11" and f"environment for python={wanted}" in log


def test_requirements_postbuild_and_start_are_used(plan):
    _, dockerfile = plan
    assert 'pip install --no-cache-dir -r "binder/requirements.txt"' in dockerfile  # CPU torch first
    assert "RUN ./binder/postBuild" in dockerfile  # labkit, the offline models, the conversion
    assert 'R2D_ENTRYPOINT="${REPO_DIR}/binder/start"' in dockerfile  # one torch thread


def test_binder_pins_match_the_project():
    reqs = (ROOT / "binder" / "requirements.txt").read_text()
    project = (ROOT / "pyproject.toml").read_text()
    torch_pin = next(line.strip() for line in reqs.splitlines() if line.startswith("torch=="))
    assert f'"{torch_pin}"' in project  # Binder's CPU torch is the version everything else pins
    assert "download.pytorch.org/whl/cpu" in reqs  # CPU wheels: Binder has no GPU
