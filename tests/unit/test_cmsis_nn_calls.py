"""The CMSIS-NN call graph: definitions, calls, static helpers, macros, every #if branch."""

from __future__ import annotations

from pathlib import Path

import pytest

from platformio_plugin.tflm import cmsis_nn_calls as cc

pytestmark = pytest.mark.unit


def _tree(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def test_definitions_not_prototypes_calls_or_comments() -> None:
    text = cc.strip_comments(
        "arm_cmsis_nn_status arm_a(const int8_t *x,\n                          int n);\n"
        "/* arm_commented(void) { arm_ghost(); } */\n"
        "arm_cmsis_nn_status\narm_b(int n)\n{\n"
        '    if (arm_c(n) != 0) { return arm_d("arm_e("); }\n}\n'
        "__STATIC_FORCEINLINE int32_t arm_f(int32_t v) { return arm_g(v); }\n"
    )
    found = {fn.name: fn.calls for fn in cc.definitions(text, "x.c")}
    assert found == {"arm_b": {"arm_c", "arm_d"}, "arm_f": {"arm_g"}}


def test_reach_follows_headers_macros_and_all_branches(tmp_path: Path) -> None:
    nn = _tree(tmp_path / "nn", {
        "Include/arm_nnsupportfunctions.h": (
            "__STATIC_FORCEINLINE void arm_inline(void) { arm_from_header(); }\n"
            "#define arm_macro(x) arm_from_macro(x)\n"
        ),
        "Source/A/arm_top.c": (
            "void arm_top(void)\n{\n#if defined(ARM_MATH_MVEI)\n    arm_mve_only();\n#else\n"
            "    arm_inline();\n#endif\n    arm_macro(1);\n    arm_helper();\n}\n"
            "static void arm_helper(void) { }\n"
        ),
        "Source/A/arm_mve_only.c": "void arm_mve_only(void) { }\n",
        "Source/A/arm_from_header.c": "void arm_from_header(void) { }\n",
        "Source/A/arm_from_macro.c": "void arm_from_macro(int x) { }\n",
        "Source/A/arm_other_helper.c": (
            "static void arm_helper(void) { }\nvoid arm_other(void) { }\n"
        ),
        "Source/A/arm_unused.c": "void arm_unused(void) { }\n",
        "Source/A/arm_top_f32.c": "void arm_top_f32(void) { }\n",
        "Source/NNSupportFunctions/arm_nntables.c": "const int8_t table[1] = {0};\n",
    })  # fmt: skip
    kernel = tmp_path / "conv.cc"
    kernel.write_text("TfLiteStatus Eval() { arm_top(); return kTfLiteOk; }\n")
    reach = cc.reachable_files(nn, [kernel])
    assert reach.unresolved == ()
    assert reach.files == (
        "Source/A/arm_from_header.c",
        "Source/A/arm_from_macro.c",
        "Source/A/arm_mve_only.c",  # the other #if branch counts too
        "Source/A/arm_top.c",  # its static arm_helper is its own, not arm_other_helper.c's
        "Source/NNSupportFunctions/arm_nntables.c",
    )


def test_unresolved_names_are_reported(tmp_path: Path) -> None:
    nn = _tree(tmp_path / "nn", {"Source/A/arm_top.c": "void arm_top(void) { arm_missing(); }\n"})
    kernel = tmp_path / "k.cc"
    kernel.write_text("void f() { arm_top(); }\n")
    assert cc.reachable_files(nn, [kernel]).unresolved == ("arm_missing",)


def test_memo_is_used_only_while_the_files_are_unchanged(tmp_path: Path) -> None:
    nn = _tree(tmp_path / "nn", {
        "Source/A/arm_top.c": "void arm_top(void) { }\n",
        "Source/A/arm_next.c": "void arm_next(void) { }\n",
    })  # fmt: skip
    kernel = tmp_path / "k.cc"
    kernel.write_text("void f() { arm_top(); }\n")
    memo = tmp_path / "memo.json"
    assert cc.reachable_files(nn, [kernel], memo).files[0] == "Source/A/arm_top.c"
    kernel.write_text("void f() { arm_next(); }\n")  # new size: new stamp
    assert "Source/A/arm_next.c" in cc.reachable_files(nn, [kernel], memo).files
