"""The benches run as `make bench` runs them: `python bench/NAME.py`, so bench/ comes first on
sys.path and a bench named like one of our packages (a former bench/tiles.py) would hide it."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench"

# Runs with bench/ as sys.path[0] (as `python bench/NAME.py` has it) and imports every bench
# module from its file, as the script's own `import`s would resolve.
IMPORT_ALL = """
import importlib.util, pathlib, sys
failed = []
for path in sorted(pathlib.Path(sys.argv[1]).glob("*.py")):
    spec = importlib.util.spec_from_file_location("bench_" + path.stem, path)
    try:
        spec.loader.exec_module(importlib.util.module_from_spec(spec))
    except Exception as error:
        failed.append(f"{path.name}: {error!r}")
print("\\n".join(failed))
sys.exit(1 if failed else 0)
"""


def test_no_bench_is_named_like_a_package_it_would_hide():
    packages = {p.name for p in BENCH.parent.iterdir() if (p / "__init__.py").exists()}
    assert packages >= {"gisapp", "tiles", "etl", "layers"}
    assert not {p.stem for p in BENCH.glob("*.py")} & packages


def test_every_bench_imports_with_its_folder_first_on_the_path():
    done = subprocess.run([sys.executable, "-c", IMPORT_ALL, str(BENCH)], cwd=BENCH,
                          capture_output=True, text=True, timeout=120,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(BENCH)})
    assert done.returncode == 0, done.stdout + done.stderr
