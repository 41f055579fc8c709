"""Shared helpers of the experiments/capture tests.

CTest runs each test script with PYTHONPATH holding build/python (the
generated protobuf bindings), experiments/capture and this folder, and with
EPSIM_BIN naming the built epsim binary. A script whose Python packages are
missing exits with SKIP_CODE after saying so; CTest reports it as skipped.
"""

import argparse
import os
import subprocess
import sys

SKIP_CODE = 77  # SKIP_RETURN_CODE in tests/experiments/CMakeLists.txt


def parse_test_args(doc):
    """--help for a test script (its docstring); the tests take no arguments."""
    argparse.ArgumentParser(
        description=doc.splitlines()[0],
        epilog="Run through ctest (PYTHONPATH and EPSIM_BIN set; see "
               "tests/experiments/CMakeLists.txt). Exits 77 (skipped) when its packages "
               "are missing.").parse_args()


def skip_unless_importable(module, what, install):
    """Exits with SKIP_CODE and a message when `module` cannot be imported."""
    try:
        __import__(module)
    except ImportError as e:
        print(f"{what} not available: {e}; install {install}. Test skipped.", flush=True)
        sys.exit(SKIP_CODE)


def require_protobuf():
    skip_unless_importable("google.protobuf", "python3-protobuf",
                           "python3-protobuf (apt) or protobuf (pip)")
    skip_unless_importable("sim.proto.trace_pb2", "the generated bindings sim.proto.trace_pb2",
                           "nothing: build the epsim_proto_python target and put build/python "
                           "on PYTHONPATH")


def require_torch():
    skip_unless_importable("torch", "PyTorch", "python3-torch (apt) or torch (pip)")


def epsim(*args):
    """Runs the epsim binary named by EPSIM_BIN; returns the CompletedProcess."""
    binary = os.environ.get("EPSIM_BIN")
    if not binary:
        raise RuntimeError("EPSIM_BIN is not set: run this test through ctest")
    return subprocess.run([binary, *args], capture_output=True, text=True, check=False)

if __name__ == "__main__":  # a module: --help says so and what imports it
    import argparse
    argparse.ArgumentParser(description=__doc__.splitlines()[0],
                            epilog="A module, imported by the tests of tests/experiments/capture; nothing to run.").parse_args()
    raise SystemExit("capture_test_util.py: a module, imported by the tests of tests/experiments/capture; nothing to run")
