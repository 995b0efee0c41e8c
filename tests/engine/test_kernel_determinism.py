"""Same inputs, same numbers on any machine (DOMAIN.md §8): no kernel may let the compiler
reorder floating-point sums (`reassoc`, `fast`) or fuse multiply-adds only where the CPU has
FMA (`contract`, in the projection and Monte Carlo kernels), because the result would then
depend on the vector width and instruction set of the machine that compiled it.

Measured when the flag was dropped (docs/benchmarks.md, "fastmath in the projection kernel"):
with `reassoc` the projection's columns differed between an AVX-512 host and a generic x86-64
target; without it they were bit-identical on host, Haswell and generic targets.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

KERNELS = Path(__file__).resolve().parents[2] / "app" / "engine" / "_kernels"
MACHINE_DEPENDENT = {"reassoc", "fast"}
# FMA contraction is machine dependent too; the IRR solver's iteration tolerates it (its root
# is reported to a tolerance, not bit for bit), the projection and Monte Carlo kernels not
NO_CONTRACT = {"projection_nb.py", "path_projection_nb.py", "scheduled_batch_nb.py"}


def _fastmath_flags(path: Path) -> list[tuple[int, set[str] | bool]]:
    """(line, flags) of every `fastmath=` given to a decorator or bound to _FASTMATH."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: dict[str, ast.expr] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for t in targets:
                if isinstance(t, ast.Name) and node.value is not None:
                    names[t.id] = node.value
    found: list[tuple[int, set[str] | bool]] = []
    for kw in ast.walk(tree):
        if isinstance(kw, ast.keyword) and kw.arg == "fastmath":
            value = kw.value
            if isinstance(value, ast.Name):
                value = names.get(value.id, value)
            literal = ast.literal_eval(value)
            found.append(
                (kw.value.lineno, set(literal) if not isinstance(literal, bool) else literal)
            )
    return found


@pytest.mark.parametrize("path", sorted(KERNELS.glob("*_nb.py")), ids=lambda p: p.name)
def test_no_machine_dependent_fastmath(path: Path) -> None:
    for line, flags in _fastmath_flags(path):
        assert flags is not True, f"{path.name}:{line}: fastmath=True allows reassociation"
        if isinstance(flags, set):
            bad = flags & (
                MACHINE_DEPENDENT | ({"contract"} if path.name in NO_CONTRACT else set())
            )
            assert not bad, f"{path.name}:{line}: machine-dependent fastmath flags {sorted(bad)}"


def test_the_check_reads_flags_through_a_name(tmp_path: Path) -> None:
    f = tmp_path / "k_nb.py"
    f.write_text(
        '_F = {"reassoc", "nsz"}\n@njit(fastmath=_F)\ndef k(): pass\n'
        "@njit(fastmath=True)\ndef j(): pass\n"
    )
    assert [flags for _, flags in _fastmath_flags(f)] == [{"reassoc", "nsz"}, True]
